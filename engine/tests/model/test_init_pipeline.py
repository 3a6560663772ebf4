"""Contracts inferred by `mlops init` carry real tables through every stage's core:
regression with a time column, nulls and a many-level category; multiclass without time."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_engine import storage
from mlops_engine.ci.gate import baseline_checks
from mlops_engine.config import parse_params, read_yaml
from mlops_engine.onboarding.infer_contract import infer, params_changes
from mlops_engine.params_file import render
from mlops_engine.pipeline.evaluate import evaluate
from mlops_engine.pipeline.ingest import ingest
from mlops_engine.pipeline.split import split
from mlops_engine.pipeline.train import train
from mlops_engine.pipeline.validate import validate
from tests.datasets import classification_frame


def _params(root, frame, target, time_column=None):
    inferred = infer(frame, target, time_column=time_column)
    changes = params_changes(inferred, "unused.csv", target, time_column, "t", len(frame))
    return parse_params(read_yaml(render(root / "params.yaml", changes))), inferred


def _through_the_pipeline(frame, params):
    checked = validate(ingest(frame, params.ingest), params.contract)
    assert checked.ok, [f.describe() for f in checked.failures]
    train_set, test_set = split(checked.frame, params.split, params.contract, params.seed)
    model = train(train_set, params.train, params.contract, params.seed)
    result = evaluate(model, train_set, test_set, params.contract, params.evaluate, params.seed)
    return result.metrics


@pytest.mark.example
def test_regression_with_time_nulls_and_many_levels(root, params):
    whole = params.ingest.model_copy(update={"history_until": None})
    year = ingest(storage.read_table(root / params.ingest.source), whole)
    rng = np.random.default_rng(1)
    year = year.assign(station=[f"s{i}" for i in rng.integers(0, 200, len(year))])
    year.loc[rng.random(len(year)) < 0.05, "windspeed"] = np.nan
    new, _ = _params(root, year, "bikers", time_column="timestamp")
    assert new.contract.task == "regression" and new.split.method == "time"
    assert new.contract.columns["windspeed"].nullable
    assert new.contract.columns["station"].categories is None, "200 levels: an open set"
    metrics = _through_the_pipeline(year, new)
    assert [c.describe() for c in baseline_checks(metrics, new.gate) if c.failed] == []


def test_multiclass_without_time_is_stratified_and_beats_the_baseline(root):
    wine = classification_frame("wine")
    new, _ = _params(root, wine, "target")
    assert new.contract.task == "classification" and new.split.method == "random"
    metrics = _through_the_pipeline(wine, new)
    assert metrics["accuracy"] > metrics["baseline"]["accuracy"] + 0.3
