"""The cross-validated blend of the two best candidates (mlops_engine.pipeline.blend): chosen only
when it scores better out of fold, served as the weighted average it was scored as."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlops_engine import storage
from mlops_engine.ci.markdown import model_choice
from mlops_engine.config import TrainParams
from mlops_engine.contract import ColumnSpec, Contract
from mlops_engine.pipeline.blend import OutOfFold, choose
from mlops_engine.pipeline.train import build_pipeline, train
from tests.frames import tiny_contract, tiny_frame

FAST = TrainParams(hyperparams={"max_iter": 30})


def _additive(task: str = "regression", rows: int = 300, cut: float = 1.0):
    """Eight additive linear effects (a linear model's strength, a booster's weakness) plus
    a bump in z (the reverse): each candidate misses what the other catches."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 8))
    z = rng.uniform(0, 10, rows)
    signal = X.sum(axis=1) + np.where((z > 3) & (z < 6), 3.0, 0.0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]).assign(z=z)
    columns = {f"x{i}": ColumnSpec(dtype="float", min=-10, max=10) for i in range(8)}
    columns["z"] = ColumnSpec(dtype="float", min=0, max=10)
    if task == "regression":
        frame["y"] = signal + rng.normal(0, 1, rows)
        columns["y"] = ColumnSpec(dtype="float")
    else:
        frame["y"] = np.where(signal + rng.logistic(size=rows) > cut, "yes", "no")
        columns["y"] = ColumnSpec(dtype="category", categories=("no", "yes"))
    return frame, Contract(task=task, target="y", columns=columns)


def test_a_blend_that_scores_better_out_of_fold_is_the_model():
    frame, contract = _additive()
    model = train(frame, FAST, contract, seed=0)
    chosen = model.model_selection_
    blend = chosen["blend"]
    assert chosen["winner"] == "blend" and blend["chosen"]
    assert blend["members"] == ["linear", "hist_gradient_boosting"]
    assert blend["cv_score"] < min(chosen["cv_scores"].values())
    # served as scored: the weighted average of the two members refitted on all rows
    X = frame[contract.features]
    members = [
        build_pipeline(FAST, contract, 0, name).fit(X, frame["y"]).predict(X)
        for name in blend["members"]
    ]
    expected = blend["weights"][0] * members[0] + blend["weights"][1] * members[1]
    assert np.allclose(model.predict(X), expected)
    text = "\n".join(model_choice(chosen))
    w = blend["weights"]
    assert f"| blend {w[0]:g} linear + {w[1]:g} hist_gradient_boosting ✅ |" in text


def test_no_blend_unless_it_scores_better():
    # y is linear in x plus a colour offset: the linear model alone is best
    model = train(tiny_frame(120), FAST, tiny_contract(), seed=0)
    chosen = model.model_selection_
    assert chosen["winner"] == "linear" and chosen["blend"]["chosen"] is False
    assert type(model.named_steps["model"]).__name__ == "Ridge"
    assert "✅" not in next(line for line in model_choice(chosen) if "| blend" in line)


def test_blend_false_keeps_the_single_winner():
    frame, contract = _additive()
    model = train(frame, FAST.model_copy(update={"blend": False}), contract, seed=0)
    assert model.model_selection_["winner"] == "linear"
    assert model.model_selection_["blend"] is None


def test_imbalanced_binary_blend_gets_its_threshold_from_the_blended_out_of_fold():
    frame, contract = _additive("classification", rows=400, cut=3.0)
    assert frame["y"].eq("yes").mean() < 0.25
    model = train(frame, FAST, contract, seed=0)
    chosen = model.model_selection_
    assert chosen["winner"] == "blend", chosen
    assert chosen["threshold"] != 0.5 and "out-of-fold" in chosen["threshold_rule"]
    X = frame[contract.features]
    proba = model.predict_proba(X)
    assert list(model.classes_) == ["no", "yes"] and np.allclose(proba.sum(axis=1), 1)
    expected = np.where(proba[:, 1] >= chosen["threshold"], "yes", "no")
    assert (model.predict(X) == expected).all()


def test_the_class_from_probabilities_is_the_tuned_thresholds_not_the_argmax():
    """The service derives classes from one predict_proba pass (decision.decided)."""
    from mlops_engine.pipeline.decision import decided

    frame, contract = _additive("classification", rows=400, cut=3.0)
    model = train(frame, FAST, contract, seed=0)
    X = frame[contract.features]
    proba = model.predict_proba(X)
    argmax = model.classes_[np.argmax(proba, axis=1)]
    assert (argmax != model.predict(X)).sum() > 0, "the threshold must matter on this table"
    assert (decided(model, X, proba) == model.predict(X)).all()
    plain = train(tiny_frame(120, task="classification"), FAST, tiny_contract("classification"), 0)
    Xp = tiny_frame(120, task="classification")[plain.feature_names_in_]
    assert (decided(plain, Xp, plain.predict_proba(Xp)) == plain.predict(Xp)).all()


def test_a_blended_model_is_byte_reproducible(tmp_path):
    frame, contract = _additive()
    for name in ("a", "b"):
        storage.write_model(train(frame, FAST, contract, seed=0), tmp_path / name)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    loaded = storage.read_model(tmp_path / "a")
    assert np.isfinite(loaded.predict(frame[contract.features])).all()


def _oof(predictions, rows=None) -> OutOfFold:
    n = len(predictions)
    rows = np.arange(n) if rows is None else rows
    return OutOfFold(rows, np.zeros(n), np.asarray(predictions, float), np.arange(n) % 3)


def _mse(y, p):
    return float(np.mean((y - p) ** 2))


def test_choose_weighs_two_equally_good_independent_errors_half_and_half():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 3000), rng.normal(0, 1, 3000)  # truth is 0 everywhere
    scores = {"a": _mse(0, a), "b": _mse(0, b)}
    blend = choose(scores, {"a": _oof(a), "b": _oof(b)}, _mse)
    assert blend is not None and blend.chosen
    assert 0.4 <= blend.weights[0] <= 0.6 and blend.cv_score < min(scores.values()) * 0.6


def test_choose_keeps_a_perfect_candidate_and_needs_two_on_the_same_rows():
    perfect, noisy = np.zeros(30), np.random.default_rng(1).normal(0, 1, 30)
    scores = {"perfect": 0.0, "noisy": _mse(0, noisy)}
    blend = choose(scores, {"perfect": _oof(perfect), "noisy": _oof(noisy)}, _mse)
    assert blend is not None and not blend.chosen and blend.members == ("perfect", "noisy")
    assert choose({"perfect": 0.0}, {"perfect": _oof(perfect)}, _mse) is None
    shifted = _oof(noisy, rows=np.arange(1, 31))
    assert choose(scores, {"perfect": _oof(perfect), "noisy": shifted}, _mse) is None
    failed = {"perfect": 0.0, "noisy": None}
    assert choose(failed, {"perfect": _oof(perfect)}, _mse) is None
