"""Task metrics, with a direction for each so gates and reports know which way is better."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn import metrics as skm

REGRESSION = ("mae", "rmse", "r2")
CLASSIFICATION = ("accuracy", "f1", "roc_auc", "log_loss")
LOWER_IS_BETTER = frozenset({"mae", "rmse", "log_loss"})


def _finite(value: float) -> float | None:
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float | None]:
    return {
        "mae": _finite(skm.mean_absolute_error(y_true, y_pred)),
        "rmse": _finite(math.sqrt(skm.mean_squared_error(y_true, y_pred))),
        "r2": _finite(skm.r2_score(y_true, y_pred)) if len(y_true) > 1 else None,
    }


def classification_metrics(
    y_true: Any, y_pred: Any, proba: np.ndarray | None, classes: np.ndarray
) -> dict[str, float | None]:
    binary = len(classes) == 2
    out: dict[str, float | None] = {
        "accuracy": _finite(skm.accuracy_score(y_true, y_pred)),
        "f1": _finite(
            skm.f1_score(
                y_true,
                y_pred,
                average="binary" if binary else "macro",
                pos_label=classes[-1] if binary else 1,
                zero_division=0,
            )
        ),
        "roc_auc": None,
        "log_loss": None,
    }
    if proba is not None:
        present = np.unique(np.asarray(y_true))
        if len(present) > 1:
            if binary:
                out["roc_auc"] = _finite(
                    skm.roc_auc_score(np.asarray(y_true) == classes[-1], proba[:, 1])
                )
            elif set(present) == set(classes):
                out["roc_auc"] = _finite(
                    skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes)
                )
        out["log_loss"] = _finite(skm.log_loss(y_true, np.clip(proba, 1e-15, 1), labels=classes))
    return out


def point_metrics(task: str, y_true: Any, y_pred: Any) -> dict[str, float | None]:
    """Metrics that need only predictions (used for small slices)."""
    if task == "regression":
        return {k: v for k, v in regression_metrics(y_true, y_pred).items() if k != "r2"}
    return {"accuracy": _finite(skm.accuracy_score(y_true, y_pred))}
