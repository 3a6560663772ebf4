"""A class the model knows but a window lacks, or a class a window holds but the model never
saw: each window where that happens is scored with the labels given explicitly, and what
the figures cover is said. Windows: the test split (a rare seasonal class absent from the
last 20% by time), a bootstrap resample, a slice, production rows (the monitor), feedback
(a retrained challenger that knows a class its champion never saw)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops_engine.ci.champion import side_of
from mlops_engine.ci.gate import Rows, paired_checks
from mlops_engine.ci.summary import baseline_verdict
from mlops_engine.config import EvaluateParams, GateParams
from mlops_engine.contract import Contract
from mlops_engine.ct.challenger import compare
from mlops_engine.paired import Comparison, Side, Truth, bootstrap
from mlops_engine.pipeline.evaluate import evaluate, score
from mlops_engine.pipeline.metrics import class_coverage, class_labels, classification_metrics

CLASSES = ["high", "low", "mid", "snow"]


def _contract(classes=CLASSES) -> Contract:
    return Contract(
        task="classification",
        target="y",
        columns={
            "x1": {"dtype": "float"},
            "x2": {"dtype": "float"},
            "kind": {"dtype": "category"},
            "y": {"dtype": "category", "categories": list(classes)},
        },
    )


def _rows(n: int, seed: int, classes=("high", "low", "mid")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = np.where(x1 > 0.5, "high", np.where(x1 < -0.5, "low", "mid"))
    frame = pd.DataFrame({"x1": x1, "x2": x2, "kind": rng.choice(["a", "b"], n), "y": y})
    if "snow" in classes:  # a rare class with its own signal (x2 high)
        frame.loc[frame.index[x2 > 1.4], "y"] = "snow"
    return frame


def _model(train: pd.DataFrame):
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(
        train[["x1", "x2"]], train["y"]
    )


class _Model:
    """A fitted classifier on the contract's features (what `mlops train` saves answers
    like this: predict/predict_proba on the feature frame, classes_)."""

    def __init__(self, train: pd.DataFrame) -> None:
        self.inner = _model(train)
        self.classes_ = self.inner.classes_

    def predict(self, X):
        return self.inner.predict(X[["x1", "x2"]])

    def predict_proba(self, X):
        return self.inner.predict_proba(X[["x1", "x2"]])


def test_the_test_split_lacks_a_class_evaluate_scores_it_and_names_it():
    """The issue's crash: a seasonal class absent from the last 20% by time stopped
    evaluate's permutation importance ('y_true and y_prob contain different number of
    classes: 4 vs 5')."""
    train = _rows(400, 0, classes=CLASSES)
    test = _rows(100, 1)  # no "snow"
    model = _Model(train)
    assert set(model.classes_) == set(CLASSES)
    result = evaluate(model, train, test, _contract(), EvaluateParams(), seed=0)
    m = result.metrics
    assert m["test_classes"] == {"absent": ["snow"], "not_trained": []}
    held = ["high", "low", "mid"]
    f1 = skm.f1_score(test["y"], model.predict(test), labels=held, average="macro")
    assert m["f1"] == pytest.approx(f1, abs=1e-6)
    assert m["log_loss"] == pytest.approx(
        skm.log_loss(test["y"], model.predict_proba(test), labels=model.classes_), abs=1e-6
    )
    said = class_coverage(m)
    assert "holds no row of class(es) snow" in said and "f1 and ROC AUC average" in said
    assert len(result.importance) == 3


def test_a_test_class_the_model_never_saw_is_scored_with_probability_zero():
    train, test = _rows(300, 2), _rows(200, 3, classes=CLASSES)  # snow only in the test rows
    model = _Model(train)
    m = classification_metrics(
        test["y"], model.predict(test), model.predict_proba(test), model.classes_
    )
    assert m["log_loss"] is not None and m["log_loss"] > 1  # clipped 1e-15 on snow's rows
    result = evaluate(model, train, test, _contract(), EvaluateParams(), seed=0)
    assert result.metrics["test_classes"] == {"absent": [], "not_trained": ["snow"]}
    assert "not in the training rows" in class_coverage(result.metrics)


def _truth_and_sides(n_rare: int):
    train = _rows(400, 4, classes=CLASSES)
    test = _rows(150, 5)
    rare = test.index[:n_rare]
    test.loc[rare, "y"] = "snow"
    model = _Model(train)
    labels = class_labels(model.classes_, test["y"])
    side = Side(np.asarray(model.predict(test), dtype=object), model.predict_proba(test))
    return Truth(test["y"].to_numpy(dtype=object), "classification", labels), side, test, model


def test_a_resample_lacking_a_class_still_scores_roc_auc_and_f1():
    """One 'snow' row in 150: about a third of the resamples lack it. ROC AUC averages the
    classes each resample holds (it was NaN there, and those resamples were dropped)."""
    truth, side, test, model = _truth_and_sides(n_rare=1)
    found = bootstrap(
        truth, [side], {m: Comparison(m) for m in ("roc_auc", "f1")}, resamples=300, seed=0
    )
    assert np.isfinite(found["roc_auc"].draws).all()
    f1 = skm.f1_score(test["y"], model.predict(test), labels=CLASSES, average="macro")
    assert found["f1"].points[0] == pytest.approx(f1)


def test_the_window_lacks_a_class_the_bootstrap_averages_the_classes_it_holds():
    truth, side, test, model = _truth_and_sides(n_rare=0)
    found = bootstrap(
        truth, [side], {m: Comparison(m) for m in ("roc_auc", "f1")}, resamples=100, seed=0
    )
    held = ["high", "low", "mid"]
    f1 = skm.f1_score(test["y"], model.predict(test), labels=held, average="macro")
    assert found["f1"].points[0] == pytest.approx(f1)
    auc = np.mean(
        [
            skm.roc_auc_score(test["y"] == c, model.predict_proba(test)[:, i])
            for i, c in enumerate(model.classes_)
            if c in held
        ]
    )
    assert found["roc_auc"].points[0] == pytest.approx(auc)


def test_a_slice_lacking_a_class_and_the_gate_s_class_slices():
    """Slices are scored on their own rows; the gate judges a class slice only for the
    classes the test rows hold (a class with no row has nothing to judge)."""
    truth, side, test, model = _truth_and_sides(n_rare=0)
    result = evaluate(
        model,
        _rows(400, 4, CLASSES),
        test,
        _contract(),
        EvaluateParams(slices=[{"column": "kind"}]),
        0,
    )
    assert set(result.slices["kind"]) == {"a", "b"}
    rows = Rows(truth, side, side, side, {"kind": test["kind"].to_numpy()})
    gate = GateParams(
        resamples=100, metrics={"accuracy": {"direction": "higher", "tolerance": 0.02}}
    )
    checks = paired_checks(rows, gate, seed=0)
    names = {c.slice for c in checks if c.slice}
    assert "class=mid" in names and "class=snow" not in names


def test_production_labels_stored_as_numbers_and_a_class_first_seen_in_production():
    """The monitor scores labelled production rows with `score`: labels arriving as 2.0
    are the contract's class '2'; a class the model never saw is scored, not refused."""
    train = _rows(300, 6).replace({"y": {"high": "0", "low": "1", "mid": "2"}})
    model = _Model(train)
    production = _rows(120, 7, classes=CLASSES).replace(
        {"y": {"high": 0.0, "low": 1.0, "mid": 2.0, "snow": 3.0}}
    )
    got = score(model, production, _contract(["0", "1", "2", "3"]))
    same = production.assign(y=production["y"].map(lambda v: str(int(v))))
    assert got == score(model, same, _contract(["0", "1", "2", "3"]))
    assert got["accuracy"] > 0.5 and got["log_loss"] is not None


def test_feedback_brings_a_class_the_champion_never_saw():
    """Retraining on feedback that holds a new class: the challenger knows 4 classes, the
    champion 3. Both are aligned to the same labels (column i is the same class on both),
    and the champion is re-scored with the class it gives probability 0."""
    champion = _Model(_rows(300, 8))
    challenger = _Model(_rows(400, 9, classes=CLASSES))
    test = _rows(150, 10, classes=CLASSES)
    contract = _contract()
    labels = class_labels(challenger.classes_, list(CLASSES), test["y"])
    a, b = side_of(champion, test, contract, labels), side_of(challenger, test, contract, labels)
    assert a.proba.shape == b.proba.shape == (150, 4)
    snow = list(labels).index("snow")
    assert (a.proba[:, snow] == 0).all() and (b.proba[:, snow] > 0).all()
    truth = Truth(test["y"].to_numpy(dtype=object), "classification", labels)
    gate = GateParams(
        resamples=100, metrics={"log_loss": {"direction": "lower", "tolerance": 0.05}}
    )
    checks = paired_checks(Rows(truth, a, b, b, {}), gate, seed=0)
    log_loss = next(c for c in checks if c.name == "log_loss")
    assert log_loss.current < log_loss.base  # the challenger, which knows snow, is better
    table = compare(champion, challenger, {"feedback": test}, contract)
    assert table["feedback"]["champion"]["log_loss"] > table["feedback"]["challenger"]["log_loss"]


def test_the_summary_says_plainly_when_the_model_loses_to_the_baseline(root, params):
    """The issue's stocks: MAE 55.17 against the naive baseline's 54.94, and not a word."""
    metrics = {
        "mae": 55.17,
        "rmse": 70.0,
        "r2": 0.1,
        "baseline": {"mae": 54.94, "rmse": 69.0, "r2": 0.1},
    }
    said = baseline_verdict(metrics, params)
    assert said and "does not beat the naive baseline" in said and "WORSE" in said
    assert "To try" in said
    close = {**metrics, "mae": 50.0}  # better, but by less than the margin
    assert "margin" in baseline_verdict(close, params)
    good = {**metrics, "mae": 20.0, "rmse": 30.0, "r2": 0.8}
    assert baseline_verdict(good, params) is None


def test_the_pr_report_says_which_classes_the_test_set_lacks():
    from mlops_engine.ci.markdown import ReportInputs, render

    current = {"accuracy": 0.9, "test_classes": {"absent": ["snow"], "not_trained": []}}
    text = render(ReportInputs("T", [], current, None, [], None))
    assert "Classes: the test set holds no row of class(es) snow" in text
    assert "Classes:" not in render(ReportInputs("T", [], {"accuracy": 0.9}, None, [], None))
