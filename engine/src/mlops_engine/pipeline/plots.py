"""Static PNG figures of an evaluation, for the PR report and anyone without DVC's renderer.

Figures are written without timestamps or software metadata so that the same evaluation
always produces the same bytes (the pipeline's outputs must be reproducible).
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from mlops_engine.pipeline.evaluate import Evaluation

_PNG_META = {"Software": None}


def _png(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata=_PNG_META, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _importance(table: pd.DataFrame) -> bytes:
    top = table.head(20).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(top) + 1.2))
    ax.barh(top["feature"].astype(str), top["importance"], color="#4c72b0")
    ax.set_xlabel("permutation importance (score drop)")
    ax.set_title("Feature importance")
    return _png(fig)


def _regression(pred: pd.DataFrame) -> dict[str, bytes]:
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(pred["actual"], pred["predicted"], s=6, alpha=0.5)
    lo = float(min(pred["actual"].min(), pred["predicted"].min()))
    hi = float(max(pred["actual"].max(), pred["predicted"].max()))
    ax.plot([lo, hi], [lo, hi], color="grey", linewidth=1)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title("Predicted vs actual")
    scatter = _png(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(pred["predicted"], pred["residual"], s=6, alpha=0.5)
    ax.axhline(0, color="grey", linewidth=1)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual - predicted")
    ax.set_title("Residuals")
    return {"predicted_vs_actual.png": scatter, "residuals.png": _png(fig)}


def _classification(pred: pd.DataFrame, curves: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    labels = sorted(set(pred["actual"]) | set(pred["predicted"]))
    matrix = confusion_matrix(pred["actual"], pred["predicted"], labels=labels)
    fig, ax = plt.subplots(figsize=(1.0 * len(labels) + 3, 1.0 * len(labels) + 2.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, str(v), ha="center", va="center")
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title("Confusion matrix")
    out = {"confusion_matrix.png": _png(fig)}
    for name, (x, y) in {
        "roc": ("fpr", "tpr"),
        "precision_recall": ("recall", "precision"),
    }.items():
        if name in curves:
            fig, ax = plt.subplots(figsize=(5, 5))
            ax.plot(curves[name][x], curves[name][y])
            ax.set_xlabel(x)
            ax.set_ylabel(y)
            ax.set_title(name.replace("_", "-").upper() if name == "roc" else "Precision-recall")
            out[f"{name}.png"] = _png(fig)
    return out


def render(evaluation: Evaluation, task: str) -> dict[str, bytes]:
    """File name -> PNG bytes for every figure of this task."""
    figures = {"feature_importance.png": _importance(evaluation.importance)}
    if task == "regression":
        figures.update(_regression(evaluation.predictions))
    else:
        figures.update(_classification(evaluation.predictions, evaluation.curves))
    return figures
