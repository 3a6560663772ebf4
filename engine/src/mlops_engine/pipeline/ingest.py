"""Stage ``ingest``: the raw file as a typed, time-stamped, time-ordered table."""

from __future__ import annotations

import logging

import pandas as pd

from mlops_engine.config import IngestParams

log = logging.getLogger(__name__)


def ingest(raw: pd.DataFrame, params: IngestParams) -> pd.DataFrame:
    """Rename, drop and time-stamp the raw rows; types are checked later by ``validate``.

    Nothing is coerced here on purpose: a wrong type must reach the validate stage intact so
    that it is reported with its column and rule instead of becoming a silent NaN.
    """
    if raw.columns.empty:
        return raw  # validate reports the empty file with its rule
    frame = raw.rename(columns=params.rename)
    missing = [c for c in params.drop_columns if c not in frame.columns]
    if missing:
        log.warning("ingest.drop_columns not in the data (ignored): %s", missing)
    frame = frame.drop(columns=[c for c in params.drop_columns if c in frame.columns])
    spec = params.timestamp_from
    if spec is not None:
        used = [c for c in (spec.day_of_year, spec.hour) if c is not None]
        absent = [c for c in used if c not in frame.columns]
        if absent:
            raise ValueError(f"ingest.timestamp_from: raw data has no column(s) {absent}")
        day = pd.to_numeric(frame[spec.day_of_year], errors="coerce")
        stamp = pd.Timestamp(year=spec.year, month=1, day=1) + pd.to_timedelta(day - 1, unit="D")
        if spec.hour is not None:
            stamp = stamp + pd.to_timedelta(
                pd.to_numeric(frame[spec.hour], errors="coerce"), unit="h"
            )
        frame = frame.drop(columns=[spec.day_of_year])
        frame.insert(0, params.time_column, stamp.astype("datetime64[ns]"))
    elif params.time_column is not None and params.time_column in frame.columns:
        frame[params.time_column] = _nanoseconds(
            pd.to_datetime(frame[params.time_column], errors="coerce")
        )
    if params.history_until is not None and params.time_column in frame.columns:
        before = len(frame)
        frame = frame[~(frame[params.time_column] >= pd.Timestamp(params.history_until))]
        log.info(
            "ingest: %d of %d rows are history (before %s); the rest is the production stream",
            len(frame),
            before,
            params.history_until,
        )
    if params.time_column is not None and params.time_column in frame.columns:
        frame = frame.sort_values(params.time_column, kind="stable", na_position="last")
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].astype("string").astype(object)
    return frame.reset_index(drop=True)


def _nanoseconds(stamps: pd.Series) -> pd.Series:
    """Parsed times at the contract's resolution, datetime64[ns], whatever the input was.

    pandas 3 infers the resolution from the input (seconds, ms or us for strings; pandas 2
    always gave ns), and parquet stores the unit: the same rows parsed from a CSV and from a
    timestamp_from spec would be written differently and validate against another dtype. A
    time outside what ns can hold (1677-2262) becomes missing, as pandas 2's ``coerce`` made
    it, so validate reports the rows with the column's rule.
    """
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        return stamps  # e.g. mixed time zones: left for validate to name
    lo, hi = pd.Timestamp.min, pd.Timestamp.max
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        lo, hi = lo.tz_localize("UTC"), hi.tz_localize("UTC")
    return stamps.where((stamps >= lo) & (stamps <= hi)).dt.as_unit("ns")


def with_feedback(
    history: pd.DataFrame, feedback: list[pd.DataFrame], time_column: str | None
) -> pd.DataFrame:
    """History plus the labelled production batches that retraining added, in time order.

    Feedback files hold contract columns only; a column the history lacks (or the reverse)
    is kept as missing so that ``validate`` names it instead of it vanishing here.
    """
    if not feedback:
        return history
    frame = pd.concat([history, *feedback], ignore_index=True)
    if time_column is not None and time_column in frame.columns:
        frame = frame.sort_values(time_column, kind="stable", na_position="last")
    return frame.reset_index(drop=True)
