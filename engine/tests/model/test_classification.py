"""Classification end to end through the stages' cores on two real datasets."""

from __future__ import annotations

import pytest

from mlops_engine.config import parse_params
from mlops_engine.pipeline.evaluate import evaluate
from mlops_engine.pipeline.ingest import ingest
from mlops_engine.pipeline.plots import render
from mlops_engine.pipeline.split import split
from mlops_engine.pipeline.train import train
from mlops_engine.pipeline.validate import validate
from tests.datasets import classification_frame, classification_params


@pytest.mark.parametrize(("name", "n_classes"), [("breast_cancer", 2), ("wine", 3)])
def test_classification_beats_the_majority_baseline(name, n_classes):
    raw = classification_frame(name)
    params = parse_params(classification_params(name, raw, "unused.csv"))
    checked = validate(ingest(raw, params.ingest), params.contract)
    assert checked.ok, checked.failures
    train_set, test_set = split(checked.frame, params.split, params.contract, params.seed)
    model = train(train_set, params.train, params.contract, params.seed)
    result = evaluate(model, train_set, test_set, params.contract, params.evaluate, params.seed)
    assert len(model.classes_) == n_classes
    metrics, base = result.metrics, result.metrics["baseline"]
    assert metrics["accuracy"] >= base["accuracy"] + params.gate.baseline_margin
    assert metrics["roc_auc"] > 0.95 and metrics["log_loss"] < base["log_loss"]
    figures = render(result, "classification")
    assert "confusion_matrix.png" in figures
    assert ("roc.png" in figures) == (n_classes == 2)
