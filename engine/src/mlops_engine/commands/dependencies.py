"""On the weekly dependency canary (canary.yml): the project on the newest releases, and the
one issue (or job summary) that says which upgrade breaks what. See ``canary/upgrade.py``."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from mlops_engine.commands import command, log
from mlops_engine.config import Params
from mlops_engine.step_files import add_summary, annotation

RESULT = "build/canary/result.json"


def _canary_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--upgrade",
        default=os.environ.get("CANARY_UPGRADE") or "--upgrade",
        help="uv lock flags choosing what may move (env CANARY_UPGRADE; default --upgrade)",
    )
    p.add_argument(
        "--override",
        default=os.environ.get("CANARY_OVERRIDE", ""),
        help="requirements that override pyproject.toml's ranges, space-separated, e.g. "
        "'pandas>=3.1' (env CANARY_OVERRIDE)",
    )
    p.add_argument(
        "--tests",
        default=os.environ.get("CANARY_TESTS") or '-m "not slow" -n auto',
        help="pytest arguments: the tier to run (env CANARY_TESTS; default: the fast tier, "
        '-m "not slow" -n auto)',
    )
    p.add_argument(
        "--extras",
        default=os.environ.get("CANARY_EXTRAS", ""),
        help="pyproject extras to install with the upgrade, space-separated (env "
        "CANARY_EXTRAS; `make canary` passes what `make test-fast` installs)",
    )
    p.add_argument("--out", default="build/canary")


@command(
    "canary",
    "newest dependency releases: resolve (uv.lock untouched), install apart, dvc repro -f, tests",
    _canary_args,
)
def _canary(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.canary.upgrade import Settings, run

    settings = Settings(
        upgrade=a.upgrade,
        override=shlex.split(a.override),
        tests=a.tests,
        extras=a.extras.split(),
        out=Path(a.out),
    )
    result = run(Path.cwd(), settings, uv=os.environ.get("UV") or "uv")
    (Path(a.out) / "result.json").write_text(result.to_json())
    for move in result.moved:
        log.info("moved: %s", move.describe())
    for step in result.steps:
        log.info("%s: %s in %.1fs", step.name, "passed" if step.ok else "FAILED", step.seconds)
    failed = result.failed
    if failed is None:
        log.info("canary: %d package(s) moved, everything passes", len(result.moved))
        return 0
    log.error("canary: %s failed: %s", failed.name, failed.first_error)
    if result.suspects:
        log.error("suspected: %s", ", ".join(m.describe() for m in result.suspects))
    return 1


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--result", default=RESULT)
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))
    p.add_argument(
        "--run-url", default=os.environ.get("CANARY_RUN_URL"), help="link to the workflow run"
    )
    p.add_argument("--body", default="build/canary/issue.md")


@command(
    "canary-report",
    "the canary's result as the one GitHub issue (gh) and the job summary",
    _report_args,
)
def _canary_report(a: argparse.Namespace, params: Params) -> int:
    """The job summary always gets the whole result. The issue body is capped at GitHub's
    65,536 characters (``caps.cap``). A refused ``gh`` call, or no ``gh``, fails
    the job with gh's message (an error annotation); only a repository with issues turned
    off is a warning, the summary then being the one place the result goes."""
    from mlops_engine.canary.upgrade import (
        ISSUES_DISABLED,
        Result,
        markdown,
        update_issue,
    )
    from mlops_engine.caps import cap
    from mlops_engine.gh import GhError

    path = Path(a.result)
    result = Result.from_json(path.read_text()) if path.exists() else None
    text = markdown(result, a.run_url)
    where = "this run's job summary and its artifact `canary-result`"
    if a.run_url:
        where = f"the job summary of {a.run_url} and its artifact `canary-result`"
    body = cap(text, where)
    Path(a.body).parent.mkdir(parents=True, exist_ok=True)
    Path(a.body).write_text(body)
    add_summary(a.summary, text, where)
    try:
        done = update_issue(result, Path(a.body))
    except GhError as err:
        disabled = ISSUES_DISABLED in str(err)
        print(  # noqa: T201 (a workflow command: GitHub reads it from stdout)
            annotation(
                "warning" if disabled else "error",
                "Dependency canary: no issue written",
                f"{err}. The result is in this job's summary.",
            ),
            flush=True,
        )
        return 0 if disabled else 1
    log.info("canary issue: %s", done)
    return 0
