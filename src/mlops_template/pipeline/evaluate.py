"""Stage ``evaluate``: metrics, per-slice metrics, plot data and a naive baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import precision_recall_curve, roc_curve
from sklearn.pipeline import Pipeline

from mlops_template.config import EvaluateParams, SliceSpec
from mlops_template.contract import Contract
from mlops_template.pipeline.baseline import GroupMeanBaseline
from mlops_template.pipeline.metrics import (
    classification_metrics,
    point_metrics,
    regression_metrics,
)


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, Any]
    slices: dict[str, dict[str, dict[str, Any]]]
    predictions: pd.DataFrame
    importance: pd.DataFrame
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)


def score(model: Any, frame: pd.DataFrame, contract: Contract) -> dict[str, float | None]:
    """The task's metrics of ``model`` on ``frame`` (also used for champion/challenger)."""
    X, y = frame[contract.features], frame[contract.target]
    if contract.task == "regression":
        return regression_metrics(y, model.predict(X))
    proba = model.predict_proba(X)
    return classification_metrics(y, model.predict(X), proba, np.asarray(model.classes_))


def slice_labels(frame: pd.DataFrame, spec: SliceSpec) -> pd.Series:
    values = frame[spec.column]
    if spec.bins is None:
        return values.astype(str)
    labels = list(spec.labels) if spec.labels else None
    return pd.cut(values, bins=list(spec.bins), labels=labels, right=False).astype(str)


def _slices(
    frame: pd.DataFrame, predicted: np.ndarray, params: EvaluateParams, contract: Contract
) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    y = frame[contract.target].to_numpy()
    for spec in params.slices:
        labels = slice_labels(frame, spec).to_numpy()
        groups: dict[str, dict[str, Any]] = {}
        for label in sorted(set(labels), key=str):
            mask = labels == label
            groups[str(label)] = {
                "n": int(mask.sum()),
                **point_metrics(contract.task, y[mask], predicted[mask]),
            }
        out[spec.name] = groups
    return out


def _importance(
    model: Pipeline, frame: pd.DataFrame, contract: Contract, params: EvaluateParams, seed: int
) -> pd.DataFrame:
    """Permutation importance on the raw input columns: what a reviewer can act on."""
    sample = frame
    if len(frame) > params.importance_max_rows:
        sample = frame.sample(params.importance_max_rows, random_state=seed)
    scoring = "neg_mean_absolute_error" if contract.task == "regression" else "neg_log_loss"
    result = permutation_importance(
        model,
        sample[contract.features],
        sample[contract.target],
        scoring=scoring,
        n_repeats=params.importance_repeats,
        random_state=seed,
        n_jobs=1,
    )
    table = pd.DataFrame(
        {"feature": contract.features, "importance": np.round(result.importances_mean, 6)}
    )
    return table.sort_values(["importance", "feature"], ascending=[False, True], ignore_index=True)


def _curves(y: pd.Series, proba: np.ndarray, classes: np.ndarray) -> dict[str, pd.DataFrame]:
    if len(classes) != 2 or y.nunique() < 2:
        return {}
    positive = np.asarray(y) == classes[-1]
    fpr, tpr, _ = roc_curve(positive, proba[:, 1])
    precision, recall, _ = precision_recall_curve(positive, proba[:, 1])
    return {
        "roc": pd.DataFrame({"fpr": fpr, "tpr": tpr}).round(6),
        "precision_recall": pd.DataFrame({"recall": recall, "precision": precision}).round(6),
    }


def evaluate(
    model: Pipeline,
    train: pd.DataFrame,
    test: pd.DataFrame,
    contract: Contract,
    params: EvaluateParams,
    seed: int,
) -> Evaluation:
    """Score ``model`` on ``test`` next to a naive baseline fitted on ``train``."""
    if test.empty:
        raise ValueError("evaluate: the test set is empty")
    X, y = test[contract.features], test[contract.target]
    baseline = GroupMeanBaseline(params.baseline.group_by, contract.task).fit(
        train[contract.features], train[contract.target]
    )
    predicted = model.predict(X)
    metrics: dict[str, Any] = dict(score(model, test, contract))
    if contract.task == "regression":
        metrics["baseline"] = regression_metrics(y, baseline.predict(X))
        predictions = pd.DataFrame(
            {
                "actual": y.to_numpy(),
                "predicted": np.round(predicted, 4),
                "residual": np.round(y.to_numpy() - predicted, 4),
            }
        )
        curves: dict[str, pd.DataFrame] = {}
    else:
        classes = np.asarray(model.classes_)
        metrics["baseline"] = (
            classification_metrics(y, baseline.predict(X), baseline.predict_proba(X), classes)
            if set(baseline.classes_) == set(classes)
            else point_metrics("classification", y, baseline.predict(X))
        )
        predictions = pd.DataFrame(
            {"actual": y.astype(str).to_numpy(), "predicted": predicted.astype(str)}
        )
        curves = _curves(y, model.predict_proba(X), classes)
    if contract.time_column is not None:
        predictions.insert(
            0,
            contract.time_column,
            test[contract.time_column].dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy(),
        )
    selection = getattr(model, "model_selection_", None)
    if selection is not None:  # written by train: candidates, CV scores, winner, threshold
        metrics["model_selection"] = selection
    metrics["n_train"] = len(train)
    metrics["n_test"] = len(test)
    return Evaluation(
        metrics=metrics,
        slices=_slices(test, np.asarray(predicted), params, contract),
        predictions=predictions,
        importance=_importance(model, test, contract, params, seed),
        curves=curves,
    )
