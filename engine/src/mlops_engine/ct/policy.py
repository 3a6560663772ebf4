"""The retrain decision: when a drift check should turn into a retraining pull request.

Pure: it reads window results and dates, never data, so every branch of the policy is
tested without Evidently. Debouncing is computed from the data itself (the same check on
the windows one period back), so a nightly job needs no state of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from mlops_engine.config import MonitorParams
from mlops_engine.ct.drift import WindowResult, period_offset
from mlops_engine.metric_defs import lower_is_better

Verdict = Literal["drift", "no_drift", "insufficient_data", "no_data"]


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    retrain: bool
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "retrain": self.retrain, "reasons": self.reasons}


def window_drifted(
    window: WindowResult, params: MonitorParams, trained: dict[str, Any]
) -> list[str]:
    """Why this window counts as drifted (empty: it does not)."""
    why = []
    if window.n_rows >= params.min_rows and window.drift_share >= params.drift.share:
        why.append(
            f"{window.drift_share:.0%} of features drifted (>= {params.drift.share:.0%}): "
            + ", ".join(window.drifted_columns)
        )
    metric = params.quality.metric
    now, then = window.quality.get(metric), trained.get(metric)
    if now is not None and then:
        higher_is_better = not lower_is_better(metric)
        loss = (then - now) / abs(then) if higher_is_better else (now - then) / abs(then)
        if loss >= params.quality.max_degradation:
            why.append(
                f"{metric} {now:.4g} is {loss:.0%} worse than at training ({then:.4g}; "
                f"limit {params.quality.max_degradation:.0%})"
            )
    return why


def decide(
    results: list[WindowResult],
    params: MonitorParams,
    trained: dict[str, Any],
    now: pd.Timestamp,
    trained_until: pd.Timestamp | None,
    new_labelled_rows: int,
) -> Decision:
    """``results`` newest first. Retrain when k of the last n windows drifted, outside the
    cool-down after the training window's end, and only with new labelled rows to learn from."""
    newest = results[0]
    if newest.n_rows < params.min_rows:
        return Decision(
            "insufficient_data",
            False,
            [f"{newest.n_rows} logged rows in the window (< monitor.min_rows {params.min_rows})"],
        )
    drifted = [window_drifted(w, params, trained) for w in results]
    count = sum(bool(d) for d in drifted)
    k, n = params.debounce.drifted, params.debounce.windows
    if not drifted[0] and count < k:
        return Decision("no_drift", False, [f"{count} of the last {n} windows drifted (< {k})"])
    reasons = drifted[0] + [f"{count} of the last {len(results)} windows drifted (need {k})"]
    if count < k:
        return Decision("drift", False, [*reasons, "debounced: not yet persistent"])
    if trained_until is not None:
        cool = trained_until + period_offset(params.period, params.cooldown_periods)
        if now < cool:
            return Decision("drift", False, [*reasons, f"cool-down until {cool} after retraining"])
    if new_labelled_rows == 0:
        return Decision("drift", False, [*reasons, "no new labelled rows to retrain on"])
    return Decision("drift", True, [*reasons, f"{new_labelled_rows} new labelled rows"])
