"""train's model choice: candidates scored by time-ordered cross-validation with the task's
proper scoring rule, the loss matched to the target, a tuned threshold when imbalanced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_engine import storage
from mlops_engine.ci.gate import all_checks, baseline_checks
from mlops_engine.ci.markdown import model_choice
from mlops_engine.config import ConfigError, GateMetric, GateParams, TrainParams, parse_params
from mlops_engine.contract import ColumnSpec, Contract
from mlops_engine.pipeline.train import _folds, loss_for, train
from tests.frames import tiny_contract, tiny_frame

FAST = TrainParams(hyperparams={"max_iter": 30})


def _counts(rows: int = 300, seed: int = 0) -> tuple[pd.DataFrame, Contract]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 3, rows)
    frame = pd.DataFrame(
        {
            "ts": pd.date_range("2020-01-01", periods=rows, freq="h"),
            "x": x,
            "y": rng.poisson(np.exp(x)).astype("int64"),
        }
    )
    contract = Contract(
        task="regression",
        target="y",
        time_column="ts",
        columns={
            "ts": ColumnSpec(dtype="datetime"),
            "x": ColumnSpec(dtype="float", min=0, max=3),
            "y": ColumnSpec(dtype="int", min=0, max=1000),
        },
    )
    return frame, contract


def test_auto_scores_every_candidate_and_records_the_winner():
    model = train(tiny_frame(120), FAST, tiny_contract(), seed=0)
    chosen = model.model_selection_
    assert set(chosen["cv_scores"]) == {"linear", "hist_gradient_boosting"}
    best = min(chosen["cv_scores"], key=lambda k: chosen["cv_scores"][k])
    assert chosen["winner"] == best
    assert chosen["cv"] == "TimeSeriesSplit(3)" and chosen["scoring"] == "mean_squared_error"
    # y is linear in x plus a colour offset: the linear model must win on this table
    assert best == "linear"
    assert type(model.named_steps["model"]).__name__ == "Ridge"


def test_cross_validation_never_trains_on_the_future():
    frame, contract = _counts(90)
    shuffled = frame.sample(frac=1, random_state=0).reset_index(drop=True)
    ordered = shuffled.sort_values("ts").reset_index(drop=True)
    for fit_idx, val_idx in _folds(ordered, contract, 3, 0):
        assert ordered["ts"].iloc[fit_idx].max() < ordered["ts"].iloc[val_idx].min()


def test_without_time_column_folds_are_stratified_kfold():
    contract = tiny_contract(task="classification", time=False)
    frame = tiny_frame(90, task="classification")
    folds = _folds(frame, contract, 3, 0)
    assert len(folds) == 3 and sorted(np.concatenate([v for _, v in folds])) == list(range(90))


def test_counts_get_the_poisson_loss_and_no_negative_prediction():
    frame, contract = _counts()
    assert loss_for(FAST, contract) == "poisson"
    model = train(frame, FAST, contract, seed=0)
    assert model.model_selection_["scoring"] == "poisson_deviance"
    assert (model.predict(frame[contract.features]) > 0).all()
    squared = FAST.model_copy(update={"loss": "squared_error"})
    assert train(frame, squared, contract, 0).model_selection_["loss"] == "squared_error"


def test_a_pinned_estimator_skips_the_choice():
    pinned = TrainParams(estimator="linear")
    model = train(tiny_frame(), pinned, tiny_contract(), seed=0)
    assert model.model_selection_["winner"] == "linear"
    assert model.model_selection_["cv_scores"] == {}


def test_imbalanced_binary_gets_a_threshold_chosen_out_of_fold():
    rng = np.random.default_rng(3)
    rows = 600
    x = rng.normal(size=rows)
    positive = rng.random(rows) < 1 / (1 + np.exp(-(2.5 * x - 4)))
    frame = pd.DataFrame({"x": x, "y": np.where(positive, "yes", "no")})
    contract = Contract(
        task="classification",
        target="y",
        columns={
            "x": ColumnSpec(dtype="float", min=-10, max=10),
            "y": ColumnSpec(dtype="category", categories=("no", "yes")),
        },
    )
    assert frame["y"].eq("yes").mean() < 0.25
    model = train(frame, FAST, contract, seed=0)
    chosen = model.model_selection_
    assert chosen["threshold"] is not None and chosen["threshold"] != 0.5
    assert "out-of-fold" in chosen["threshold_rule"]
    proba = model.predict_proba(frame[["x"]])[:, 1]
    expected = np.where(proba >= chosen["threshold"], "yes", "no")
    assert (model.predict(frame[["x"]]) == expected).all()
    assert "Decision threshold" in "\n".join(model_choice(chosen))
    balanced = tiny_frame(120, task="classification")
    fitted = train(balanced, FAST, tiny_contract(task="classification"), 0)
    assert fitted.model_selection_["threshold"] == 0.5


def test_model_choice_is_byte_reproducible(tmp_path):
    frame, contract = _counts()
    for name in ("a", "b"):
        storage.write_model(train(frame, FAST, contract, seed=0), tmp_path / name)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_report_lists_candidates_scores_and_winner():
    model = train(tiny_frame(120), FAST, tiny_contract(), seed=0)
    text = "\n".join(model_choice(model.model_selection_))
    assert "Winner: **linear**" in text
    assert "| linear ✅ |" in text and "| hist_gradient_boosting |" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"candidates": ["XGBoost"]}, r"train\.candidates\.0"),
        ({"candidates": []}, r"train: .*candidates: list at least one"),
        ({"threshold": 1.5}, r"train: .*threshold"),
        ({"loss": "tweedie"}, r"train\.loss"),
    ],
)
def test_train_keys_are_typed_with_their_path(root, change, message):
    from mlops_engine.config import read_yaml

    raw = read_yaml((root / "params.yaml").read_text())
    raw["train"].update(change)
    with pytest.raises(ConfigError, match=message):
        parse_params(raw)


GATE = GateParams(
    baseline_margin=0.1,
    metrics={
        "f1": GateMetric(direction="higher", tolerance=0.02),
        "accuracy": GateMetric(direction="higher", tolerance=0.02),
    },
)


def test_the_proper_scoring_rule_is_checked_even_when_not_gated():
    """The issue's case: f1 0.13 beats the baseline's 0, log loss 0.305 loses to 0.227."""
    current = {
        "f1": 0.13,
        "accuracy": 0.94,
        "log_loss": 0.305,
        "baseline": {"f1": 0.0, "accuracy": 0.94, "log_loss": 0.227},
    }
    failed = [c.name for c in baseline_checks(current, GATE) if c.failed]
    assert failed == ["log_loss vs naive baseline"]
    good = {**current, "log_loss": 0.2}
    assert not any(c.failed for c in all_checks(None, good, GATE) if c.reference != "base")


def test_no_gated_metric_may_be_worse_than_the_baseline():
    current = {
        "f1": 0.4,
        "accuracy": 0.93,
        "log_loss": 0.2,
        "baseline": {"f1": 0.0, "accuracy": 0.94, "log_loss": 0.227},
    }
    failed = [c for c in baseline_checks(current, GATE) if c.failed]
    assert [c.name for c in failed] == ["accuracy vs naive baseline"]
    assert "must not be worse" in failed[0].describe()


def test_a_missing_proper_metric_fails():
    checks = baseline_checks({"f1": 0.5, "accuracy": 0.9, "baseline": {"f1": 0.1}}, GATE)
    assert checks[0].verdict == "missing" and checks[0].failed


def test_the_pr_report_has_a_model_choice_section():
    from mlops_engine.ci.markdown import ReportInputs, render

    model = train(tiny_frame(120), FAST, tiny_contract(), seed=0)
    current = {"mae": 1.0, "model_selection": model.model_selection_}
    text = render(
        ReportInputs(
            title="T", checks=[], current=current, base=None, params_diff=[], validation=None
        )
    )
    assert "### Model choice" in text and "Winner: **linear**" in text
