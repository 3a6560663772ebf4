"""The task metrics computed on test rows (regression: mae, rmse, r2; classification:
accuracy, f1, roc_auc, log_loss). Which way each is better, and which task it belongs to,
is the registry's (metric_defs.py), not this module's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn import metrics as skm


def _finite(value: float) -> float | None:
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float | None]:
    return {
        "mae": _finite(skm.mean_absolute_error(y_true, y_pred)),
        "rmse": _finite(math.sqrt(skm.mean_squared_error(y_true, y_pred))),
        "r2": _finite(skm.r2_score(y_true, y_pred)) if len(y_true) > 1 else None,
    }


def class_labels(classes: Any, *seen: Any) -> np.ndarray:
    """The labels every classification metric is given explicitly: the model's classes (in
    its order: the columns of its probabilities), then any class the rows hold that the
    model never saw (a class seen first in the test window, in production or in feedback)."""
    labels = list(classes)
    known = set(labels)
    for values in seen:
        for value in sorted(set(np.asarray(values, dtype=object).tolist()) - known, key=str):
            labels.append(value)
            known.add(value)
    return np.asarray(labels, dtype=object)


def aligned_proba(proba: np.ndarray, classes: Any, labels: Any) -> np.ndarray:
    """``proba`` (columns in ``classes`` order) with one column per label of ``labels``: a
    class the model lacks (never in its training rows) gets probability 0."""
    index = {c: i for i, c in enumerate(list(labels))}
    out = np.zeros((len(proba), len(index)))
    for j, c in enumerate(list(classes)):
        out[:, index[c]] = proba[:, j]
    return out


def absent_classes(classes: Any, y_true: Any) -> list[str]:
    """The model's classes that ``y_true`` holds no row of (a test window, a slice)."""
    present = set(np.asarray(y_true, dtype=object).tolist())
    return [str(c) for c in classes if c not in present]


def classification_metrics(
    y_true: Any, y_pred: Any, proba: np.ndarray | None, classes: np.ndarray
) -> dict[str, float | None]:
    """Accuracy, f1, ROC AUC and log loss with the labels given explicitly, so that a
    window (a time split's test set, a slice) lacking one of the model's classes, or
    holding a class the model never saw, is scored instead of stopping scikit-learn:

    - f1: binary on the positive class (``classes[-1]``); else the macro average over the
      classes the rows hold (a class with no row has no recall: averaging it in as 0 would
      call the model worse for a class it was never asked about);
    - ROC AUC: binary when both classes occur; else one-vs-rest averaged over the classes
      the rows hold (None when fewer than two);
    - log loss over every row, with each row's probability of its true class (0, clipped,
      for a class the model lacks)."""
    binary = len(classes) == 2
    truth = np.asarray(y_true, dtype=object)
    labels = class_labels(classes, truth)
    present = [c for c in labels if c in set(truth.tolist())]
    out: dict[str, float | None] = {
        "accuracy": _finite(skm.accuracy_score(y_true, y_pred)),
        "f1": _finite(
            skm.f1_score(
                y_true,
                y_pred,
                labels=[classes[-1]] if binary else present,
                average="binary" if binary else "macro",
                pos_label=classes[-1] if binary else 1,
                zero_division=0,
            )
        )
        if present
        else None,
        "roc_auc": None,
        "log_loss": None,
    }
    if proba is not None:
        full = aligned_proba(np.asarray(proba), classes, labels)
        if len(present) > 1:
            if binary and len(labels) == 2:
                out["roc_auc"] = _finite(skm.roc_auc_score(truth == classes[-1], full[:, 1]))
            elif not binary:
                column = {c: i for i, c in enumerate(labels)}
                out["roc_auc"] = _finite(
                    np.mean([skm.roc_auc_score(truth == c, full[:, column[c]]) for c in present])
                )
        out["log_loss"] = _finite(skm.log_loss(y_true, np.clip(full, 1e-15, 1), labels=labels))
    return out


def point_metrics(task: str, y_true: Any, y_pred: Any) -> dict[str, float | None]:
    """Metrics that need only predictions (used for small slices)."""
    if task == "regression":
        return {k: v for k, v in regression_metrics(y_true, y_pred).items() if k != "r2"}
    return {"accuracy": _finite(skm.accuracy_score(y_true, y_pred))}


def class_coverage(metrics: dict[str, Any]) -> str | None:
    """What the figures of ``metrics`` (evaluate's ``test_classes``) do not cover, in one
    sentence for the summary, the model card and the PR report; None when the test set
    holds every class and the model knows every class it holds."""
    found = metrics.get("test_classes") or {}
    absent, unseen = found.get("absent") or [], found.get("not_trained") or []
    parts = []
    if absent:
        parts.append(
            f"the test set holds no row of class(es) {', '.join(absent)}: f1 and ROC AUC "
            "average the classes it holds, and nothing here measures the model on "
            f"{'that class' if len(absent) == 1 else 'those classes'} (a longer test window, "
            "a random split or merging rare classes would)"
        )
    if unseen:
        parts.append(
            f"class(es) {', '.join(unseen)} occur in the test set but not in the training "
            "rows: the model gives them probability 0 (their rows weigh heavily in log loss)"
        )
    return "; ".join(parts) or None
