"""On the schedule (ct.yml): demo stream, drift check, retraining, the one PR, health."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_engine import storage
from mlops_engine.commands import command, log
from mlops_engine.config import Params
from mlops_engine.contract import LOGGED_AT
from mlops_engine.step_files import add_outputs, add_summary

if TYPE_CHECKING:
    from mlops_engine.ct.proposal import Proposal


def _replay_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default=None, help="raw file (default: ingest.source)")
    p.add_argument("--model", default="models/model.joblib")
    p.add_argument("--lock", default="dvc.lock")
    p.add_argument("--periods", type=int, default=1, help="how many periods to send")
    p.add_argument("--start", default=None, help="replay from this time (ignores the cursor)")
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))


@command(
    "replay",
    "send the next period of the demo production stream as prediction logs + labels",
    _replay_args,
)
def _replay(a: argparse.Namespace, params: Params) -> int:
    """No demo stream (``ingest.history_until`` unset, as after ``mlops init`` on your own
    data) is a normal state, not an error: exit 0 and say so, so the nightly workflow stays
    green until real production logs flow (the drift check then reports "no production data
    yet" the same way)."""
    import pandas as pd

    from mlops_engine.ct.replay import as_traffic, next_period
    from mlops_engine.pipeline.ingest import ingest
    from mlops_engine.serving.model_tag import model_md5
    from mlops_engine.serving.prediction_log import write_batch

    contract, cursor_file = params.contract, Path(params.stream.cursor)
    if params.ingest.history_until is None:
        text = (
            "this project has no demo stream (ingest.history_until is not set): nothing to "
            "replay. The drift check reads what your service logs to "
            f"serve.prediction_log.sink ({params.serve.prediction_log.sink})."
        )
        log.info("replay: %s", text)
        add_summary(a.summary, f"### Demo stream: none\n\nNothing to check yet: {text}\n\n")
        return 0
    if contract.time_column is None:
        raise ValueError("replay needs contract.time_column to cut the demo stream by time")
    for key, sink in [
        ("serve.prediction_log.sink", params.serve.prediction_log.sink),
        ("monitor.labelled_sink", params.monitor.labelled_sink),
    ]:
        if "://" in sink:  # ct.yml gives this step no storage secrets (credentials.LOCAL_ONLY)
            raise ValueError(
                f"{key} is {sink}: the demo stream writes only to local folders, never into "
                "production storage; set the repository variable CT_DEMO_STREAM=false once "
                "the service logs there"
            )
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
        for day, part in logs.groupby(logs[LOGGED_AT].dt.date):
            write_batch(params.serve.prediction_log.sink, part, at=pd.Timestamp(day))
        for day, part in labelled.groupby(labelled[LOGGED_AT].dt.date):
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
    import pandas as pd

    from mlops_engine.ct.monitor import MonitorPaths, run_monitor

    paths = MonitorPaths(
        reference=Path(a.reference),
        model=Path(a.model),
        dvc_file=Path(a.dvc_file),
        out_dir=Path(a.out_dir),
    )
    outcome = run_monitor(paths, params, now=pd.Timestamp(a.now) if a.now else None)
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
    from mlops_engine.ct.retrain import RetrainPaths, run_retrain

    paths = RetrainPaths(
        model=Path(a.model),
        test=Path(a.test),
        feedback_dir=Path(a.feedback_dir),
        params=Path(a.params),
        dvc_file=Path(a.dvc_file),
        monitor_summary=Path(a.monitor_summary),
        out_dir=Path(a.out_dir),
    )
    key = run_retrain(paths, params, artifact_url=a.artifact_url)
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
    server, repo = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    p.add_argument(
        "--repository-url",
        default=f"{server}/{repo}" if server and repo else None,
        help="https://github.com/OWNER/NAME, for links (default: from the Actions runner)",
    )
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))
    p.add_argument(
        "--token",
        choices=["app", "CT_PR_TOKEN", "GITHUB_TOKEN", ""],
        default=os.environ.get("CT_TOKEN", ""),
        help="which token pushes and calls gh (ct.yml sets CT_TOKEN); empty: unknown (local)",
    )


FIX = (
    "configure a GitHub App (variable `CT_APP_CLIENT_ID`, secret `CT_APP_PRIVATE_KEY`) or a "
    "fine-grained token (secret `CT_PR_TOKEN`) with contents and pull-requests write: its "
    "pushes and pull requests run the PR workflow"
)


def no_checks_note(branch: str) -> str:
    """For the PR body when GITHUB_TOKEN pushed: GitHub starts no workflow for its pushes
    ("events triggered by the GITHUB_TOKEN, with the exception of workflow_dispatch and
    repository_dispatch, will not create a new workflow run": docs.github.com, Automatic
    token authentication), so an open PR gets no `synchronize` run: its head has no checks
    and the report comment describes an earlier commit, with nothing on the page saying so."""
    return (
        "> [!WARNING]\n"
        "> **Checks will not run on this push.** The continuous-training workflow pushed "
        f"`{branch}` with `GITHUB_TOKEN`, and GitHub starts no workflow for pushes made with "
        "it: this head has no PR checks and any report comment describes an earlier commit, "
        "until someone closes and reopens this pull request or pushes a commit to "
        f"`{branch}`. To fix it for good, {FIX}.\n\n"
    )


def _not_permitted(proposal: Proposal, first: bool) -> tuple[str, str, str]:
    """(annotation title, annotation text, job-summary markdown) when GitHub refused to let
    GITHUB_TOKEN open the PR: what happened, where to open it by hand, the two fixes."""
    where = (
        f"open it at {proposal.compare_url}"
        if proposal.compare_url
        else f"open a PR from {proposal.branch} into {proposal.base}"
    )
    setting = (
        "Settings → Actions → General → Workflow permissions → "
        '"Allow GitHub Actions to create and approve pull requests"'
    )
    if first:
        title = "Retraining PR not opened: repository setting"
        text = (
            f"Retraining is proposed on branch {proposal.branch} (pushed), but GitHub does not "
            "let GITHUB_TOKEN open pull requests in this repository (new repositories start "
            f"that way). {where[0].upper()}{where[1:]}; to fix it for good, configure a GitHub "
            "App or CT_PR_TOKEN (see the job summary)."
        )
    else:
        title = "Retraining PR still not opened"
        text = (
            f"Branch {proposal.branch} was already pushed by an earlier run and still has no "
            "open pull request: GitHub does not let GITHUB_TOKEN open one in this repository. "
            f"{where[0].upper()}{where[1:]}, and configure a GitHub App or CT_PR_TOKEN "
            "(see the job summary)."
        )
    link = f"[open the pull request]({proposal.compare_url})" if proposal.compare_url else where
    summary = "\n".join(
        [
            f"### {'⚠️' if first else '❌'} {title}",
            "",
            f"The drift check and retraining worked and branch `{proposal.branch}` is pushed, "
            "but GitHub refused to open its pull request: this workflow fell back to "
            "`GITHUB_TOKEN` (no GitHub App or `CT_PR_TOKEN` is configured), and the repository "
            "does not allow GitHub Actions to create pull requests.",
            "",
            f"- **Now:** {link}. Later runs update that pull request.",
            "- **Fix (recommended):** a GitHub App (variable `CT_APP_CLIENT_ID`, secret "
            "`CT_APP_PRIVATE_KEY`) or a fine-grained token (secret `CT_PR_TOKEN`) with "
            "contents and pull-requests write. Its pull requests run the PR workflow, so "
            "the quality gate checks the retrained model.",
            f"- **Fix (quick):** {setting}. The PR then opens, but pull requests opened with "
            "`GITHUB_TOKEN` trigger no workflows: its quality gate does not run until someone "
            "closes and reopens it.",
            "",
        ]
    )
    return title, text, summary + "\n"


@command(
    "propose",
    "commit the retrained pipeline to the fixed retraining branch; open or update its one PR",
    _propose_args,
)
def _propose(a: argparse.Namespace, params: Params) -> int:
    """Exit 0 when the proposal reached GitHub (PR created or updated, nothing new, or a
    concurrent run pushed first); 1 on any failure, a push failure with its cause.

    When GitHub refuses to let GITHUB_TOKEN open the PR (the repository setting a new
    repository starts with), the branch is pushed and one click on the compare link opens
    the PR, so the first time this is a setup step, not a broken pipeline: exit 0 with a
    warning annotation and a job-summary section saying what to do. If the branch was
    already there from an earlier run and still has no open PR, the proposal has waited a
    whole cycle unseen, and a green run would let drift go unnoticed (GitHub notifies on
    failed scheduled runs, not on warnings): exit 1 with the same explanation. Once someone
    opens the PR by hand, later runs edit it (editing is not refused) and are green again.
    """
    from mlops_engine.ct.proposal import Proposal, PushFailed, propose
    from mlops_engine.step_files import annotation

    body = Path(a.body).read_text()
    title_line = body.splitlines()[0].lstrip("# ").strip()
    body_file = a.body
    if a.token == "GITHUB_TOKEN":  # the note goes to GitHub only, not into the commit
        body_file = str(Path(tempfile.mkdtemp(prefix="propose-")) / "pr.md")
        heading, _, rest = body.partition("\n\n")
        Path(body_file).write_text(f"{heading}\n\n{no_checks_note(params.retrain.branch)}{rest}")
    proposal = Proposal(
        branch=params.retrain.branch,
        base=a.base,
        title=title_line,
        body_file=body_file,
        key=Path(a.key_file).read_text().strip(),
        paths=a.paths,
        labels=params.retrain.labels,
        remote=a.remote,
        repository_url=a.repository_url,
    )
    try:
        outcome = propose(proposal)
    except PushFailed as err:
        sys.stdout.write(annotation("error", "Retraining branch not pushed", err.cause) + "\n")
        add_summary(
            a.summary,
            f"### ❌ Retraining branch not pushed\n\n{err.cause}.\n\n```\n{err.output}\n```\n\n",
        )
        raise
    sys.stdout.write(f"{outcome.result}\n")
    if outcome.result in ("created", "updated") and a.token == "GITHUB_TOKEN":
        title = "Retraining PR without checks"
        text = (
            f"{proposal.branch} was pushed with GITHUB_TOKEN: GitHub runs no workflow for that "
            "push, so the PR's head has no checks and its report comment is stale until "
            f"someone closes and reopens the PR or pushes to the branch. To fix it, {FIX}."
        )
        sys.stdout.write(annotation("warning", title, text) + "\n")
        add_summary(a.summary, f"### ⚠️ {title}\n\n{text}\n\n")
    if outcome.result != "not_permitted":
        return 0
    first = not outcome.branch_existed
    title, text, summary = _not_permitted(proposal, first)
    sys.stdout.write(annotation("warning" if first else "error", title, text) + "\n")
    add_summary(a.summary, summary)
    return 0 if first else 1


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
    """Informational in a PR's checks: a GitHub API error (``gh run list`` failing: an
    outage, a rate limit, a token without ``actions: read``) is a warning that says the age
    is unknown, never a pass that hides it, and never a failed required check."""
    import datetime as dt

    from mlops_engine.ct.schedule import describe, last_runs

    try:
        runs = last_runs(a.workflow)
    except RuntimeError as err:
        level, text = (
            "stale",
            (
                f"Could not read the last drift check ({a.workflow}) from GitHub, so its age is "
                f"unknown: {err}. This does not affect this pull request's checks; see the "
                "Actions tab for the ct workflow's runs."
            ),
        )
        log.warning("ct-status: %s", text)
    else:
        level, text = describe(
            runs, dt.datetime.now(dt.UTC), params.monitor.max_silence_days, a.workflow
        )
    from mlops_engine.step_files import annotation

    sys.stdout.write(
        (annotation("warning", "Drift check", text) if level == "stale" else text) + "\n"
    )
    add_summary(a.summary, f"{'⚠️' if level == 'stale' else '✅'} {text}\n\n")
    return 1 if level == "stale" and a.strict else 0
