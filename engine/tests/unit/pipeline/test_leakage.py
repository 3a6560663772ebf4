"""The univariate leakage check: what it flags and what it leaves alone."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlops_engine.pipeline.leakage import column_scores, find_leaks

RNG = np.random.default_rng(5)


def test_a_non_monotone_exact_function_is_flagged_by_the_tree():
    u = RNG.uniform(0, 3, 600)
    frame = pd.DataFrame({"u": u, "y": 10 * np.sin(3 * u) + RNG.normal(0, 0.05, 600)})
    scores = column_scores(frame["u"], frame["y"], "regression")
    assert scores["r2"] >= 0.98 and scores["spearman"] < 0.5
    assert [leak.column for leak in find_leaks(frame, "y", "regression", ["u"])] == ["u"]


def test_an_informative_but_noisy_feature_is_not_flagged():
    x = RNG.normal(size=600)
    frame = pd.DataFrame({"x": x, "y": 2 * x + RNG.normal(0, 1, 600)})
    assert find_leaks(frame, "y", "regression", ["x"]) == []
    labels = pd.Series(np.where(x + RNG.normal(0, 0.5, 600) > 0, "a", "b"))
    assert find_leaks(frame.assign(c=labels), "c", "classification", ["x"]) == []


def test_a_category_that_encodes_the_class_is_flagged_and_confirmation_silences_it():
    y = RNG.choice(["a", "b", "c"], 600)
    frame = pd.DataFrame({"code": pd.Series(y).map({"a": "x1", "b": "x2", "c": "x3"}), "y": y})
    (leak,) = find_leaks(frame, "y", "classification", ["code"])
    assert (leak.column, leak.measure, leak.score) == ("code", "roc_auc", 1.0)
    assert find_leaks(frame, "y", "classification", ["code"], confirmed=("code",)) == []
