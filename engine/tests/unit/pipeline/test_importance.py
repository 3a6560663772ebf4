"""The evaluate stage's permutation importance is scikit-learn's, computed in fewer calls."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops_engine.pipeline import evaluate as evaluate_mod
from mlops_engine.pipeline.evaluate import permutation_drops
from tests.datasets import classification_frame


def _sklearn(model, X, y, task, repeats, seed) -> np.ndarray:
    scoring = "neg_mean_absolute_error" if task == "regression" else "neg_log_loss"
    found = permutation_importance(
        model, X, y, scoring=scoring, n_repeats=repeats, random_state=seed, n_jobs=1
    )
    return found.importances


def test_regression_drops_are_sklearns_to_the_bit(train_test, model, params, monkeypatch):
    """On the example's model and test split (categorical, integer and float columns), in
    calls of several blocks each: the same figures as one call per column and repeat."""
    test = train_test[1]
    X, y = test[params.contract.features], test[params.contract.target]
    expected = _sklearn(model, X, y, "regression", 2, params.seed)
    monkeypatch.setattr(evaluate_mod, "IMPORTANCE_BATCH_CELLS", 5 * X.size)
    assert np.array_equal(permutation_drops(model, X, y, "regression", 2, params.seed), expected)


@pytest.mark.parametrize("name", ["breast_cancer", "wine"])
def test_classification_drops_are_sklearns_to_the_bit(name, monkeypatch):
    """Binary (the positive class's probability) and multiclass log loss, in calls of a
    few blocks each."""
    frame = classification_frame(name).iloc[::2]
    X, y = frame.drop(columns="target").iloc[:, :8], frame["target"]
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    expected = _sklearn(model, X, y, "classification", 2, 3)
    monkeypatch.setattr(evaluate_mod, "IMPORTANCE_BATCH_CELLS", 3 * X.size)
    drops = permutation_drops(model, X, y, "classification", 2, 3)
    assert np.array_equal(drops, expected)
    assert (drops.mean(axis=1) > 0).any(), "some column matters"


def test_a_linear_model_matches_to_the_last_bits():
    """A linear model's matrix product may be blocked differently for a taller batch: the
    figures agree far below the 6 decimals the stage reports."""
    frame = classification_frame("wine").iloc[::2]
    X, y = frame.drop(columns="target").iloc[:, :6], frame["alcohol"]
    X = X.drop(columns="alcohol")
    model = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    expected = _sklearn(model, X, y, "regression", 2, 3)
    drops = permutation_drops(model, X, y, "regression", 2, 3)
    np.testing.assert_allclose(drops, expected, rtol=0, atol=1e-12)
