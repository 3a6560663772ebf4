"""Drift and quality of a production window against the model's own training reference.

Evidently (0.7 API) runs the per-column tests: one ``ValueDrift`` per feature (the test is
chosen by column type and size unless ``monitor.drift`` overrides it), the prediction and
the target, plus its data-summary and quality presets for the HTML report. Two reports are
written because they describe two different row sets: the prediction log (every request)
and the labelled rows (only those whose ground truth has arrived).

This module returns plain results; the retrain decision is ``policy.decide``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from mlops_engine.config import DriftPolicy, MonitorParams, Period
from mlops_engine.contract import LOGGED_AT, PREDICTION, Contract, as_category_text
from mlops_engine.pipeline.evaluate import score
from mlops_engine.pipeline.reference import predictions

log = logging.getLogger(__name__)


def period_offset(period: Period, n: int = 1) -> pd.DateOffset:
    return {
        "day": pd.DateOffset(days=n),
        "week": pd.DateOffset(weeks=n),
        "month": pd.DateOffset(months=n),
    }[period]


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    method: str
    score: float
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class WindowResult:
    start: str
    end: str
    n_rows: int
    n_labelled: int
    columns: list[ColumnDrift] = field(default_factory=list)
    prediction: ColumnDrift | None = None
    target: ColumnDrift | None = None
    quality: dict[str, float | None] = field(default_factory=dict)

    @property
    def drift_share(self) -> float:
        return sum(c.drifted for c in self.columns) / len(self.columns) if self.columns else 0.0

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["drift_share"] = round(self.drift_share, 4)
        out["drifted_columns"] = self.drifted_columns
        return out


def in_window(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    if frame.empty:
        return frame
    stamp = pd.to_datetime(frame[LOGGED_AT])
    return frame[(stamp >= start) & (stamp < end)]


def recent_reference(
    reference: pd.DataFrame, contract: Contract, params: MonitorParams
) -> pd.DataFrame:
    """The part of the reference a window is compared with: with ``monitor.reference:
    recent`` (and a time column), the last ``window_periods`` of the model's own window
    (training and test rows), the same length as the production window.

    Why not all of it: a month is a narrow slice of a longer history, so against the whole
    window it always looks drifted, even the month the model was just retrained on (the
    night after a retraining would propose it again), while a month the model has not seen
    looks drifted against either (tests/model/test_drift_reference.py; the example's
    figures: docs/performance.md, "Drift check")."""
    time = contract.time_column
    if params.reference == "all" or not time or time not in reference.columns:
        return reference
    stamp = pd.to_datetime(reference[time])
    start = stamp.max() - period_offset(params.period, params.window_periods)
    return reference[stamp > start]


def sample(frame: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """A seeded uniform sample: the same window always gives the same verdict."""
    if max_rows is None or len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=seed).sort_index()


def _definition(contract: Contract, columns: list[str], **tasks: Any):
    from evidently import DataDefinition

    numeric = [c for c in columns if c in contract.numeric_features]
    categorical = [c for c in columns if c in contract.categorical_features]
    extra = [c for c in columns if c not in contract.features]
    target_numeric = contract.task == "regression"
    for name in extra:  # prediction and target
        (numeric if target_numeric else categorical).append(name)
    return DataDefinition(numerical_columns=numeric, categorical_columns=categorical, **tasks)


def _task(contract: Contract, truth: pd.DataFrame) -> dict[str, Any]:
    from evidently import BinaryClassification, MulticlassClassification, Regression

    if contract.task == "regression":
        return {"regression": [Regression(target=contract.target, prediction=PREDICTION)]}
    if truth[contract.target].nunique() > 2:
        return {
            "classification": [
                MulticlassClassification(target=contract.target, prediction_labels=PREDICTION)
            ]
        }
    # Evidently's positive label defaults to 1, which string classes ("CH"/"MM") do not have
    # (KeyError: 1 in its quality report); the project's is the last class, as in the
    # pipeline's f1 (pipeline/metrics.py). The labels reach Evidently as text (see the caller).
    spec = contract.columns.get(contract.target)
    classes = list(getattr(spec, "categories", None) or truth[contract.target].unique())
    positive = sorted(str(c) for c in classes)[-1]
    return {
        "classification": [
            BinaryClassification(
                target=contract.target, prediction_labels=PREDICTION, pos_label=positive
            )
        ]
    }


def _value_drifts(columns: list[str], policy: DriftPolicy) -> list[Any]:
    from evidently.metrics import ValueDrift

    metrics = []
    for name in columns:
        override = policy.columns.get(name)
        method = (override.method if override else None) or policy.method
        threshold = (override.threshold if override else None) or policy.threshold
        metrics.append(ValueDrift(column=name, method=method, threshold=threshold))
    return metrics


def _column_results(snapshot: Any) -> dict[str, ColumnDrift]:
    data = snapshot.dict()
    failed = {
        t["metric_config"]["metric_id"]
        for t in data["tests"]
        if t["metric_config"]["params"].get("type", "").endswith(":ValueDrift")
        and t["status"] == "FAIL"
    }
    out = {}
    for m in data["metrics"]:
        config = m["config"]
        if not config.get("type", "").endswith(":ValueDrift"):
            continue
        out[config["column"]] = ColumnDrift(
            column=config["column"],
            method=str(config.get("method")),
            score=float(m["value"]),
            threshold=float(config.get("threshold") or 0.0),
            drifted=m["id"] in failed,
        )
    return out


def _run(metrics: list[Any], current: pd.DataFrame, reference: pd.DataFrame, definition) -> Any:
    from evidently import Dataset, Report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy/sklearn noise on constant columns
        return Report(metrics, include_tests=True).run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )


def check_window(
    logs: pd.DataFrame,
    labelled: pd.DataFrame,
    reference: pd.DataFrame,
    model: Any,
    contract: Contract,
    params: MonitorParams,
    seed: int,
    bounds: tuple[pd.Timestamp, pd.Timestamp],
    full_report: bool = False,
) -> tuple[WindowResult, dict[str, Any]]:
    """Drift of one window; with ``full_report`` also the Evidently snapshots for HTML."""
    start, end = bounds
    logged, arrived = in_window(logs, start, end), in_window(labelled, start, end)
    current = sample(logged, params.sample.max_rows, seed)
    truth = sample(arrived, params.sample.max_rows, seed)
    ref = sample(reference, params.sample.max_rows, seed)
    features = [c for c in contract.features if c not in params.drift.ignore]
    snapshots: dict[str, Any] = {}
    columns: dict[str, ColumnDrift] = {}
    if len(current) >= params.min_rows:
        tested = [*features, PREDICTION]
        metrics = _value_drifts(features, params.drift) + _value_drifts([PREDICTION], DriftPolicy())
        if full_report:
            from evidently.presets import DataSummaryPreset

            metrics.append(DataSummaryPreset(columns=tested))
        snap = _run(metrics, current[tested], ref[tested], _definition(contract, tested))
        columns = _column_results(snap)
        snapshots["drift"] = snap
    target = None
    quality: dict[str, float | None] = {}
    if len(truth) >= params.min_rows:
        tested = [contract.target, PREDICTION]
        scored = truth[[*contract.features, contract.target]].copy()
        scored[PREDICTION] = predictions(model, scored[contract.features], contract)
        quality = score(model, truth, contract)
        metrics = _value_drifts([contract.target], DriftPolicy())
        if full_report:
            from evidently.presets import ClassificationPreset, RegressionPreset

            metrics.append(
                RegressionPreset() if contract.task == "regression" else ClassificationPreset()
            )
        definition = _definition(contract, tested, **_task(contract, truth) if full_report else {})
        ref_scored = ref[tested].copy()
        if contract.task != "regression":
            # as the contract reads labels: 6.0 in the labelled rows is the class "6"
            ref_scored[contract.target] = as_category_text(ref_scored[contract.target]).astype(str)
            scored[contract.target] = as_category_text(scored[contract.target]).astype(str)
        snap = _run(metrics, scored[tested], ref_scored, definition)
        target = _column_results(snap).get(contract.target)
        snapshots["quality"] = snap
    result = WindowResult(
        start=str(start),
        end=str(end),
        n_rows=len(logged),
        n_labelled=len(arrived),
        columns=[columns[c] for c in features if c in columns],
        prediction=columns.get(PREDICTION),
        target=target,
        quality=quality,
    )
    return result, snapshots


def windows(now: pd.Timestamp, params: MonitorParams) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The newest window first, then each earlier one a period before (for debouncing)."""
    out = []
    for i in range(params.debounce.windows):
        end = now - period_offset(params.period, i)
        out.append((end - period_offset(params.period, params.window_periods), end))
    return out
