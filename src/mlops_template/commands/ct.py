"""Continuous-training commands: demo stream, drift check, retraining, the one PR, health."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mlops_template import storage
from mlops_template.commands import command, log
from mlops_template.config import Params
from mlops_template.step_files import add_outputs, add_summary


def _replay_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default=None, help="raw file (default: ingest.source)")
    p.add_argument("--model", default="models/model.joblib")
    p.add_argument("--lock", default="dvc.lock")
    p.add_argument("--periods", type=int, default=1, help="how many periods to send")
    p.add_argument("--start", default=None, help="replay from this time (ignores the cursor)")


@command(
    "replay",
    "send the next period of the demo production stream as prediction logs + labels",
    _replay_args,
)
def _replay(a: argparse.Namespace, params: Params) -> int:
    import pandas as pd

    from mlops_template.ingest import ingest
    from mlops_template.model_tag import model_md5
    from mlops_template.prediction_log import write_batch
    from mlops_template.stream import as_traffic, next_period

    contract, cursor_file = params.contract, Path(params.stream.cursor)
    if contract.time_column is None or params.ingest.history_until is None:
        raise ValueError("replay needs contract.time_column and ingest.history_until")
    whole = params.ingest.model_copy(update={"history_until": None})
    stream = ingest(storage.read_table(a.source or params.ingest.source), whole)
    stream = stream[stream[contract.time_column] >= pd.Timestamp(params.ingest.history_until)]
    start = a.start or (storage.read_json(cursor_file)["next"] if cursor_file.exists() else None)
    trained_until = params.split.window.end or params.ingest.history_until
    # no cursor yet (e.g. a fresh CI runner): start right after the current training data
    cursor = pd.Timestamp(start or max(trained_until, params.ingest.history_until))
    model, version = storage.read_model(a.model), model_md5(Path(a.lock), a.model)[:16]
    for _ in range(a.periods):
        rows, cursor = next_period(stream, contract.time_column, cursor, params.stream.period)
        if rows.empty:
            log.warning("replay: the stream has no rows from %s on", cursor)
            break
        logs, labelled = as_traffic(rows, model, version, contract)
        for day, part in logs.groupby(logs["logged_at"].dt.date):
            write_batch(params.serve.prediction_log.sink, part, at=pd.Timestamp(day))
        for day, part in labelled.groupby(labelled["logged_at"].dt.date):
            write_batch(params.monitor.labelled_sink, part, at=pd.Timestamp(day))
        storage.write_json({"next": cursor.isoformat()}, cursor_file)
        log.info("replay: %d rows up to %s (model %s)", len(rows), cursor, version)
    return 0


def _monitor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reference", default="data/reference/reference.parquet")
    p.add_argument("--model", default="models/model.joblib")
    p.add_argument("--dvc-file", default="dvc.yaml")
    p.add_argument("--out-dir", default="reports/monitor")
    p.add_argument("--now", default=None, help="end of the newest window (default: last log)")
    p.add_argument("--github-output", default=os.environ.get("GITHUB_OUTPUT"))
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))
    p.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 for both verdicts (CI reads retrain= from the outputs); failures stay 1",
    )


@command(
    "monitor",
    "drift check of production vs the training reference; exit 3 = retrain, 0 = not, 1 = failed",
    _monitor_args,
)
def _monitor(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.monitoring import run_monitor

    outcome = run_monitor(a, params)
    sys.stdout.write(outcome.verdict_line() + "\n")
    add_outputs(a.github_output, outcome.outputs())
    add_summary(a.summary, outcome.markdown())
    return 3 if outcome.decision.retrain and not a.exit_zero else 0


def _retrain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="models/model.joblib")
    p.add_argument("--test", default="data/processed/test.parquet")
    p.add_argument("--feedback-dir", default="data/feedback")
    p.add_argument("--dvc-file", default="dvc.yaml")
    p.add_argument("--monitor-summary", default="reports/monitor/summary.json")
    p.add_argument("--out-dir", default="reports/retrain")
    p.add_argument("--github-output", default=os.environ.get("GITHUB_OUTPUT"))
    p.add_argument("--artifact-url", default=os.environ.get("REPORT_ARTIFACT_URL") or None)


@command(
    "retrain",
    "add the new labelled production rows as feedback, move the window, dvc repro, compare",
    _retrain_args,
)
def _retrain(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.retraining import run_retrain

    key = run_retrain(a, params)
    add_outputs(a.github_output, {"retrain_key": key})
    sys.stdout.write(key + "\n")
    return 0


def _propose_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default="main")
    p.add_argument("--body", default="reports/retrain/pr.md")
    p.add_argument("--key-file", default="reports/retrain/key.txt")
    p.add_argument("--remote", default="origin")
    p.add_argument(
        "--paths",
        nargs="+",
        default=["params.yaml", "dvc.lock", "data/feedback", "reports"],
        help="what the retraining commit contains",
    )


@command(
    "propose",
    "commit the retrained pipeline to the fixed retraining branch; open or update its one PR",
    _propose_args,
)
def _propose(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.propose import Proposal, propose

    title_line = Path(a.body).read_text().splitlines()[0].lstrip("# ").strip()
    result = propose(
        Proposal(
            branch=params.retrain.branch,
            base=a.base,
            title=title_line,
            body_file=a.body,
            key=Path(a.key_file).read_text().strip(),
            paths=a.paths,
            labels=params.retrain.labels,
            remote=a.remote,
        )
    )
    sys.stdout.write(f"{result}\n")
    return 0


@command(
    "ct-status",
    "age and result of the last scheduled drift check (warning annotation when stale)",
    lambda p: (
        p.add_argument("--workflow", default="ct.yml"),
        p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY")),
        p.add_argument("--strict", action="store_true", help="exit 1 when stale"),
    ),
)
def _ct_status(a: argparse.Namespace, params: Params) -> int:
    import datetime as dt

    from mlops_template.ct_status import describe, last_runs

    level, text = describe(
        last_runs(a.workflow), dt.datetime.now(dt.UTC), params.monitor.max_silence_days, a.workflow
    )
    sys.stdout.write((f"::warning title=Drift check::{text}" if level == "stale" else text) + "\n")
    add_summary(a.summary, f"{'⚠️' if level == 'stale' else '✅'} {text}\n\n")
    return 1 if level == "stale" and a.strict else 0
