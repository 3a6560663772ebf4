"""Target leakage: a feature that alone predicts the target almost perfectly.

A column derived from the target (``log(y)``, ``casual + registered`` for ``bikers``) makes
every metric look excellent and the model useless once that column is not known at
prediction time. Tried on a regression table with the log of the target as a column, the
template once reported a near-perfect r2 as success. Each feature is therefore scored on
its own:

- a one-feature decision tree (at most 64 leaves, so any near-exact function of the
  feature, monotone or not) predicts the target out of fold (2-fold, seeded):
  regression -> r2, classification -> ROC AUC (one-vs-rest macro for several classes);
- regression also gets the absolute Spearman rank correlation (an exact monotone function
  scores 1.0 even when a heavy tail keeps the tree's r2 lower).

A score of 0.98 or more flags the column: far above an honest strong feature, and reached
by the leaking ``registered`` column the example drops (the bundled data's scores:
docs/performance.md, "Model choices"). A flagged column stops ``mlops init`` and fails the
data tests until it is dropped or listed in ``contract.leakage_confirmed`` (it really is
known at prediction time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

THRESHOLD = 0.98
MIN_ROWS = 20


@dataclass(frozen=True)
class Leak:
    column: str
    measure: str
    score: float

    def describe(self, target: str) -> str:
        return f"'{self.column}' alone predicts '{target}' ({self.measure} {self.score:.4f})"


def _encoded(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        codes = series.astype(str).astype("category").cat.codes
        return codes.to_numpy(dtype=float).reshape(-1, 1)
    return series.to_numpy(dtype=float).reshape(-1, 1)


def column_scores(x: pd.Series, y: pd.Series, task: str, seed: int = 0) -> dict[str, float]:
    """How well ``x`` alone predicts ``y``: out-of-fold r2 / ROC AUC (and |Spearman|)."""
    from sklearn.metrics import r2_score, roc_auc_score
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    keep = x.notna().to_numpy() & y.notna().to_numpy()
    x, y = x[keep], y[keep]
    if len(x) < MIN_ROWS or x.nunique() < 2 or y.nunique() < 2:
        return {}
    X = _encoded(x)
    leaf = max(5, len(x) // 500)
    if task == "regression":
        target = y.to_numpy(dtype=float)
        tree = DecisionTreeRegressor(max_leaf_nodes=64, min_samples_leaf=leaf, random_state=seed)
        folds = KFold(2, shuffle=True, random_state=seed)
        predicted = cross_val_predict(tree, X, target, cv=folds)
        rho = pd.Series(X[:, 0]).corr(pd.Series(target), method="spearman")
        out = {"r2": float(r2_score(target, predicted))}
        if pd.api.types.is_numeric_dtype(x) and np.isfinite(rho):
            out["spearman"] = float(abs(rho))
        return out
    labels = y.astype(str).to_numpy()
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        return {}
    tree = DecisionTreeClassifier(max_leaf_nodes=64, min_samples_leaf=leaf, random_state=seed)
    folds = StratifiedKFold(2, shuffle=True, random_state=seed)
    proba = cross_val_predict(tree, X, labels, cv=folds, method="predict_proba")
    if len(classes) == 2:
        return {"roc_auc": float(roc_auc_score(labels == classes[1], proba[:, 1]))}
    return {"roc_auc": float(roc_auc_score(labels, proba, multi_class="ovr", labels=classes))}


def find_leaks(
    frame: pd.DataFrame,
    target: str,
    task: str,
    features: list[str],
    confirmed: tuple[str, ...] = (),
    threshold: float = THRESHOLD,
) -> list[Leak]:
    """Features (not in ``confirmed``) whose best univariate score reaches ``threshold``."""
    leaks = []
    for column in features:
        if column in confirmed or column not in frame.columns:
            continue
        scores = column_scores(frame[column], frame[target], task)
        if not scores:
            continue
        measure, score = max(scores.items(), key=lambda kv: kv[1])
        if score >= threshold:
            leaks.append(Leak(column, measure, round(score, 4)))
    return leaks


def explain(
    leaks: list[Leak],
    target: str,
    how_to_drop: str = "drop it from the data (or ingest.drop_columns)",
) -> str:
    """What leaks and the two ways out; ``how_to_drop`` is the way that works where it is
    read (``mlops init`` reads the file as it is and rewrites ingest.drop_columns)."""
    return (
        "possible target leakage: "
        + "; ".join(leak.describe(target) for leak in leaks)
        + ". A column computed from the target, or only known after it, makes the model "
        f"look perfect and fail in production: {how_to_drop}. If it truly is known when "
        "predicting, list it under contract.leakage_confirmed in params.yaml"
    )
