"""The project's model on its own data, whatever `mlops init` set up: it beats the naive
baseline by the gate's margin, gives finite answers, ignores row order, is deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_template import storage
from mlops_template.ci.gate import baseline_checks
from mlops_template.pipeline.evaluate import evaluate
from mlops_template.pipeline.train import train

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def evaluation(model, train_test, params):
    return evaluate(model, *train_test, params.contract, params.evaluate, params.seed)


def test_beats_the_naive_baseline_by_the_gate_margin(evaluation, params):
    """On the proper scoring rule by the margin, and on no gated metric worse."""
    checks = baseline_checks(evaluation.metrics, params.gate)
    assert [c.describe() for c in checks if c.failed] == []


def test_predictions_are_finite_and_of_the_right_kind(model, train_test, params):
    x = train_test[1][params.contract.features]
    predicted = model.predict(x)
    assert len(predicted) == len(x)
    if params.contract.task == "regression":
        assert np.isfinite(predicted.astype(float)).all()
    else:
        classes = params.contract.columns[params.contract.target].categories
        assert {str(p) for p in predicted} <= set(classes or {str(p) for p in predicted})
        proba = model.predict_proba(x)
        assert np.allclose(proba.sum(axis=1), 1.0)


def test_invariance_to_row_order(model, train_test, params):
    x = train_test[1][params.contract.features].reset_index(drop=True)
    order = np.random.default_rng(0).permutation(len(x))
    assert (model.predict(x.iloc[order]) == model.predict(x)[order]).all()


def test_same_seed_gives_identical_bytes(train_test, params, tmp_path):
    for name in ("a", "b"):
        fitted = train(train_test[0], params.train, params.contract, params.seed)
        storage.write_model(fitted, tmp_path / name)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
