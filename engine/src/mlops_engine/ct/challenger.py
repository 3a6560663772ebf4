"""Retraining on labelled production data: what to add, how the window moves, who wins.

The new rows become a new immutable feedback file (never an edit of an old one), the
training window moves forward to cover them, and champion (the model on ``main``) and
challenger (the retrained one) are scored on the same rows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlops_engine.config import RetrainParams, TimeWindow
from mlops_engine.contract import LOGGED_AT, Contract
from mlops_engine.metric_defs import lower_is_better
from mlops_engine.pipeline.evaluate import score


def new_feedback(
    labelled: pd.DataFrame, contract: Contract, since: pd.Timestamp | None
) -> pd.DataFrame:
    """Labelled rows that arrived at or after ``since``, in the contract's columns."""
    if labelled.empty:
        return labelled
    rows = labelled if since is None else labelled[labelled[LOGGED_AT] >= since]
    rows = rows.sort_values(LOGGED_AT, kind="stable")
    return rows[[*contract.columns, LOGGED_AT]].reset_index(drop=True)


def feedback_name(rows: pd.DataFrame) -> str:
    first, last = rows[LOGGED_AT].min(), rows[LOGGED_AT].max()
    return f"{first:%Y-%m-%d}--{last:%Y-%m-%d}.parquet"


def moved_window(
    window: TimeWindow, rows: pd.DataFrame, time_column: str | None, params: RetrainParams
) -> dict[str, str]:
    """The new [start, end) covering ``rows``: end at the day after the newest row.

    Without a time column the window cannot cut the table (``split`` keeps every row and
    splits at random), so its end only records how far the feedback reaches: just after the
    newest row's ``logged_at``. The monitor and the next retraining count the labelled rows
    logged from then on as new, so the same rows are never proposed twice."""
    if time_column is None:
        newest = rows[LOGGED_AT].max() + pd.Timedelta(microseconds=1)
        return {"split.window.end": f"{newest:%Y-%m-%dT%H:%M:%S.%f}"}
    end = rows[time_column].max().normalize() + pd.Timedelta(days=1)
    start = window.start
    if params.window == "sliding" and params.keep_days:
        start = end - pd.Timedelta(days=params.keep_days)
    out = {"split.window.end": f"{end:%Y-%m-%d}"}
    if start is not None:
        out["split.window.start"] = f"{pd.Timestamp(start):%Y-%m-%d}"
    return out


def compare(
    champion: Any, challenger: Any, sets: dict[str, pd.DataFrame], contract: Contract
) -> dict[str, dict[str, Any]]:
    """Metrics of both models on each named row set."""
    return {
        name: {
            "rows": len(frame),
            "champion": score(champion, frame, contract),
            "challenger": score(challenger, frame, contract),
        }
        for name, frame in sets.items()
        if len(frame)
    }


def render(comparison: dict[str, dict[str, Any]]) -> str:
    lines = [
        "### Champion (main) vs challenger (retrained)",
        "",
        "| rows | n | metric | champion | challenger | change | winner |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for name, result in comparison.items():
        for metric, old in result["champion"].items():
            new = result["challenger"][metric]
            if old is None or new is None:
                continue
            lower = lower_is_better(metric)
            better = new < old if lower else new > old
            change = f"{(new - old) / abs(old):+.1%}" if old else "–"
            lines.append(
                f"| {name} | {result['rows']:,} | {metric} | {old:.4g} | {new:.4g} | {change} "
                f"| {'challenger ✅' if better else 'champion'} |"
            )
    return "\n".join(lines) + "\n\n"
