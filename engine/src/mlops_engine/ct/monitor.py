"""The ``monitor`` command's work: load production data, check it, decide, write reports.

Kept apart from ``monitor`` (Evidently per window) and ``policy`` (the decision) because it
is the only part that touches files: the prediction log, the labelled rows, the reference
and the model of the current pipeline, and the reports it writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlops_engine import storage
from mlops_engine.config import Params
from mlops_engine.contract import LOGGED_AT
from mlops_engine.ct.drift import (
    WindowResult,
    check_window,
    recent_reference,
    windows,
)
from mlops_engine.ct.policy import Decision, decide
from mlops_engine.outputs import locate
from mlops_engine.pipeline.validate import validate_rows
from mlops_engine.serving.prediction_log import read_logs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitorOutcome:
    decision: Decision
    windows: list[WindowResult]
    now: pd.Timestamp
    new_labelled_rows: int
    reports: dict[str, str]

    @property
    def key(self) -> str:
        """Fingerprint of the drift inputs: the same data gives the same key."""
        newest = self.windows[0]
        basis = json.dumps(
            [newest.start, newest.end, newest.n_rows, newest.n_labelled, self.new_labelled_rows],
        )
        return hashlib.sha256(basis.encode()).hexdigest()[:16]

    def verdict_line(self) -> str:
        d = self.decision
        action = "retrain" if d.retrain else "no retraining"
        return f"monitor: {d.verdict} -> {action} ({'; '.join(d.reasons)})"

    def outputs(self) -> dict[str, str]:
        newest = self.windows[0]
        return {
            "verdict": self.decision.verdict,
            "retrain": str(self.decision.retrain).lower(),
            "drift_share": f"{newest.drift_share:.4f}",
            "window_end": newest.end,
            "drift_key": self.key,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.decision.as_dict(),
            "now": str(self.now),
            "drift_key": self.key,
            "new_labelled_rows": self.new_labelled_rows,
            "windows": [w.as_dict() for w in self.windows],
            "reports": self.reports,
        }

    def markdown(self) -> str:
        return summary_markdown(self.as_dict())


@dataclass(frozen=True)
class NoProductionData:
    """No prediction log at all: nothing to compare yet, which is how every project starts
    (no demo stream after ``mlops init``, a service not deployed yet). The same interface as
    ``MonitorOutcome`` so the command reports it the same way: a green run with retrain=false and a
    summary that says so, rather than a crash every night until data flows."""

    sink: str

    @property
    def decision(self) -> Decision:
        return Decision(
            "no_data", False, [f"no prediction logs under {self.sink}: nothing to check yet"]
        )

    def verdict_line(self) -> str:
        return f"monitor: no production data yet -> no retraining ({self.decision.reasons[0]})"

    def outputs(self) -> dict[str, str]:
        return {"verdict": "no_data", "retrain": "false", "drift_share": "", "window_end": ""}

    def as_dict(self) -> dict[str, Any]:
        return {**self.decision.as_dict(), "windows": [], "reports": {}}

    def markdown(self) -> str:
        return (
            "### Drift check: ➖ no production data yet (no retraining)\n\n"
            f"Nothing to check yet: there are no prediction logs under `{self.sink}` "
            "(`serve.prediction_log.sink`). The check starts once the service logs "
            "predictions there, or `make replay` sends the demo stream.\n\n"
        )


def summary_markdown(summary: dict[str, Any]) -> str:
    """The drift verdict as markdown: for the job summary and the retraining PR body."""
    newest = summary["windows"][0]
    icon = {"drift": "🟠", "no_drift": "✅", "insufficient_data": "➖", "no_data": "➖"}[
        summary["verdict"]
    ]
    lines = [
        f"### Drift check: {icon} {summary['verdict'].replace('_', ' ')}"
        f" ({'retraining proposed' if summary['retrain'] else 'no retraining'})",
        "",
        *[f"- {r}" for r in summary["reasons"]],
        "",
        f"Window {newest['start']} .. {newest['end']}: {newest['n_rows']:,} logged rows, "
        f"{newest['n_labelled']:,} labelled.",
        "",
        "| column | test | score | threshold | drifted |",
        "|---|---|---:|---:|:---:|",
    ]
    # prediction and target, then the drifted columns: what a shortened table keeps
    # (ci/markdown.py fit cuts long tables from the end)
    columns = sorted(newest["columns"], key=lambda c: not c["drifted"])
    for c in [newest["prediction"], newest["target"], *columns]:
        if c is not None:
            lines.append(
                f"| {c['column']} | {c['method']} | {c['score']:.4g} | {c['threshold']:.4g} "
                f"| {'🟠' if c['drifted'] else '✅'} |"
            )
    quality = {k: v for k, v in newest["quality"].items() if v is not None}
    if quality:
        q = ", ".join(f"{k} {v:.4g}" for k, v in quality.items())
        lines += ["", f"Quality on the labelled rows: {q}."]
    return "\n".join(lines) + "\n\n"


def production_rows(sink: str, what: str, params: Params, columns: list[str]) -> pd.DataFrame:
    frame = read_logs(sink)
    if frame.empty:
        return frame
    frame[LOGGED_AT] = pd.to_datetime(frame[LOGGED_AT], utc=True).dt.tz_localize(None)
    result = validate_rows(frame, params.contract, columns)
    if not result.ok:
        for failure in result.failures:
            log.error("monitor: %s: %s", what, failure.describe())
        raise ValueError(
            f"{what} in {sink} break the data contract ({len(result.failures)} rule(s)); "
            "fix or remove the batch: it is not drift"
        )
    return frame


@dataclass(frozen=True)
class MonitorPaths:
    """Where the nightly check reads and writes (the ``monitor`` command's arguments, typed)."""

    reference: Path = Path("data/reference/reference.parquet")
    model: Path = Path("models/model.joblib")
    dvc_file: Path = Path("dvc.yaml")
    out_dir: Path = Path("reports/monitor")


def run_monitor(
    a: MonitorPaths, params: Params, now: pd.Timestamp | None = None
) -> MonitorOutcome | NoProductionData:
    """``now``: the end of the newest window (default: the day after the last logged row)."""
    contract, mon = params.contract, params.monitor
    sink = params.serve.prediction_log.sink
    logs = production_rows(sink, "prediction logs", params, contract.features)
    if logs.empty:
        nothing = NoProductionData(sink)
        storage.write_json(nothing.as_dict(), a.out_dir / "summary.json")
        return nothing
    labelled = production_rows(mon.labelled_sink, "labelled rows", params, list(contract.columns))
    if now is None:
        now = logs[LOGGED_AT].max().normalize() + pd.Timedelta(days=1)
    reference = recent_reference(storage.read_parquet(a.reference), contract, mon)
    log.info("monitor: reference %d rows (monitor.reference: %s)", len(reference), mon.reference)
    model = storage.read_model(a.model)
    trained = storage.read_json(locate(a.dvc_file).metrics)
    results, snapshots = [], {}
    for i, bounds in enumerate(windows(now, mon)):
        result, snaps = check_window(
            logs, labelled, reference, model, contract, mon, params.seed, bounds, i == 0
        )
        results.append(result)
        snapshots = snapshots or snaps
        log.info(
            "monitor: window %s..%s: %d rows, %.0f%% of features drifted",
            *bounds,
            result.n_rows,
            100 * result.drift_share,
        )
    trained_until = params.split.window.end
    since = pd.Timestamp(trained_until) if trained_until else None
    new_rows = (
        len(labelled)
        if since is None or labelled.empty
        else int((labelled[LOGGED_AT] >= since).sum())
    )
    decision = decide(results, mon, trained, now, since, new_rows)
    out = a.out_dir
    reports = {}
    for name, snap in snapshots.items():
        path = out / f"{name}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        snap.save_html(str(path))
        reports[name] = str(path)
    outcome = MonitorOutcome(decision, results, now, new_rows, reports)
    storage.write_json(outcome.as_dict(), out / "summary.json")
    return outcome
