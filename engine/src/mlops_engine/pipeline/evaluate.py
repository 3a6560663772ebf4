"""Stage ``evaluate``: metrics, per-slice metrics, plot data and a naive baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, mean_absolute_error, precision_recall_curve, roc_curve
from sklearn.pipeline import Pipeline

from mlops_engine.config import EvaluateParams, SliceSpec
from mlops_engine.contract import Contract, as_category_text
from mlops_engine.pipeline.baseline import GroupMeanBaseline
from mlops_engine.pipeline.metrics import (
    absent_classes,
    aligned_proba,
    class_labels,
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
    """The task's metrics of ``model`` on ``frame`` (also used for champion/challenger, and
    by the monitor on labelled production rows). Class labels are read as the contract
    reads them (``contract.as_category_text``): production labels stored as numbers (6.0)
    meet the model's classes ("6"); a class the model never saw is scored, not refused."""
    X, y = frame[contract.features], frame[contract.target]
    if contract.task == "regression":
        return regression_metrics(y, model.predict(X))
    y = as_category_text(y)
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


# Cells (rows x columns) scored per call when permuting: one call covers the example's every
# (column, repeat) block (55 blocks of 414 x 11), and memory stays bounded on wide tables.
IMPORTANCE_BATCH_CELLS = 4_000_000


def _permuted_blocks(sample: pd.DataFrame, n_repeats: int, seed: int):
    """Every (column, repeat) copy of ``sample`` with that column shuffled, in the order and
    with the shuffles of scikit-learn's ``permutation_importance(random_state=seed)``: one
    seed drawn from ``seed``, each column restarting a RandomState from it, and each repeat
    shuffling the previous repeat's column by the index shuffled once more (the column keeps
    its dtype, categories included)."""
    column_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    for column in sample.columns:
        rng = np.random.RandomState(column_seed)
        values = sample[column]
        order = np.arange(len(sample))
        for _ in range(n_repeats):
            rng.shuffle(order)
            values = values.iloc[order]
            values.index = sample.index
            block = sample.copy()
            block[column] = values
            yield block


def permutation_drops(
    model: Pipeline, X: pd.DataFrame, y: pd.Series, task: str, n_repeats: int, seed: int
) -> np.ndarray:
    """The score drop of each (column, repeat) permutation, shape (columns, repeats).

    The figures of ``sklearn.inspection.permutation_importance(...).importances`` with the
    task's scorer (``neg_mean_absolute_error``, ``neg_log_loss``), seeded alike and scored
    by the same metric functions, but the permuted copies reach the model in as few calls
    as fit ``IMPORTANCE_BATCH_CELLS`` instead of one call per column and repeat. Each call
    pays the model's fixed cost (the preprocessing, one pass over every tree), which
    dominated on small test sets: benchmarks/importance.py has the two side by side.

    A model predicts each row on its own (the service answers batches of any size with it,
    derived features included), so the predictions are the same as one copy per call: to
    the bit for the tree models (tests/unit/pipeline/test_importance.py), and to the last bits
    (~1e-16, under the 6 decimals reported) where a linear model's matrix product is
    blocked differently for a taller batch."""
    regression = task == "regression"
    classes = None if regression else np.asarray(model.classes_)
    # the labels given explicitly: the test rows may lack a class (a time split's last
    # weeks) or hold one the model never saw; then every class gets a column
    labels = None if regression else class_labels(classes, y)
    complete = labels is not None and len(labels) == len(classes)

    def outputs(rows: pd.DataFrame) -> np.ndarray:
        """What the scorer scores: predictions, or probabilities (the positive class's alone
        for a binary target, as scikit-learn's scorers take them)."""
        if regression:
            return model.predict(rows)
        proba = model.predict_proba(rows)
        if not complete:
            return np.clip(aligned_proba(proba, classes, labels), 1e-15, 1)
        return proba[:, 1] if proba.shape[1] == 2 else proba

    def score(out: np.ndarray) -> float:
        if regression:
            return -float(mean_absolute_error(y, out))
        return -float(log_loss(y, out, labels=labels))

    baseline = score(outputs(X))
    n = len(X)
    per_call = max(1, IMPORTANCE_BATCH_CELLS // max(X.size, 1))
    scores: list[float] = []  # blocks come column by column, repeat by repeat
    blocks = _permuted_blocks(X, n_repeats, seed)  # lazily: a call's worth in memory
    while batch := list(islice(blocks, per_call)):
        out = outputs(pd.concat(batch, ignore_index=True))
        scores += [score(out[i : i + n]) for i in range(0, len(out), n)]
    return baseline - np.array(scores).reshape(len(X.columns), n_repeats)


def _importance(
    model: Pipeline, frame: pd.DataFrame, contract: Contract, params: EvaluateParams, seed: int
) -> pd.DataFrame:
    """Permutation importance on the raw input columns: what a reviewer can act on."""
    sample = frame
    if len(frame) > params.importance_max_rows:
        sample = frame.sample(params.importance_max_rows, random_state=seed)
    drops = permutation_drops(
        model,
        sample[contract.features],
        sample[contract.target],
        contract.task,
        params.importance_repeats,
        seed,
    )
    table = pd.DataFrame(
        {"feature": contract.features, "importance": np.round(drops.mean(axis=1), 6)}
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
        absent = absent_classes(classes, y)
        unseen = [str(c) for c in class_labels(classes, y)[len(classes) :]]
        if absent or unseen:
            # said in the summary, the model card and the PR report: what the figures cover
            metrics["test_classes"] = {"absent": absent, "not_trained": unseen}
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
