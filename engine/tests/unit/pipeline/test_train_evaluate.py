import numpy as np
import pytest

from mlops_engine.config import BaselineParams, EvaluateParams, SliceSpec, TrainParams
from mlops_engine.pipeline.baseline import GroupMeanBaseline
from mlops_engine.pipeline.evaluate import evaluate
from mlops_engine.pipeline.train import train
from tests.frames import tiny_contract, tiny_frame


@pytest.mark.parametrize("estimator", ["hist_gradient_boosting", "random_forest", "linear"])
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_every_estimator_trains_and_evaluates(estimator, task):
    contract = tiny_contract(task=task)
    frame = tiny_frame(rows=120, task=task)
    params = TrainParams(
        estimator=estimator,
        hyperparams={}
        if estimator == "linear"
        else {"max_iter": 20}
        if estimator == "hist_gradient_boosting"
        else {"n_estimators": 10},
    )
    model = train(frame.iloc[:90], params, contract, seed=0)
    ev = evaluate(
        model,
        frame.iloc[:90],
        frame.iloc[90:],
        contract,
        EvaluateParams(
            slices=(SliceSpec(column="colour"),), baseline=BaselineParams(group_by=("colour",))
        ),
        seed=0,
    )
    expected = (
        {"mae", "rmse", "r2"} if task == "regression" else {"accuracy", "f1", "roc_auc", "log_loss"}
    )
    assert expected <= set(ev.metrics) and expected <= set(ev.metrics["baseline"])
    assert set(ev.slices["colour"]) == {"red", "green", "blue"}
    assert set(ev.importance["feature"]) == set(contract.features)
    if task == "classification":
        assert set(ev.curves) == {"roc", "precision_recall"}


def test_unknown_category_at_predict_time_does_not_crash():
    contract = tiny_contract()
    model = train(tiny_frame(), TrainParams(hyperparams={"max_iter": 10}), contract, seed=0)
    frame = tiny_frame(rows=5)
    frame["colour"] = "ultraviolet"
    assert np.isfinite(model.predict(frame[contract.features])).all()


def test_bad_hyperparameter_is_named():
    with pytest.raises(ValueError, match="learning_rat"):
        train(tiny_frame(), TrainParams(hyperparams={"learning_rat": 0.1}), tiny_contract(), 0)


def test_classification_needs_two_classes():
    frame = tiny_frame(task="classification")
    frame["y"] = "yes"
    with pytest.raises(ValueError, match="at least two classes"):
        train(frame, TrainParams(), tiny_contract(task="classification"), 0)


def test_group_mean_baseline_falls_back_to_global_mean():
    frame = tiny_frame()
    base = GroupMeanBaseline(("colour",)).fit(frame[["colour"]], frame["y"])
    unseen = frame.head(2).assign(colour="ultraviolet")
    assert np.allclose(base.predict(unseen[["colour"]]), frame["y"].mean())
    red = frame[frame["colour"] == "red"]
    assert np.isclose(base.predict(red.head(1)[["colour"]])[0], red["y"].mean())
