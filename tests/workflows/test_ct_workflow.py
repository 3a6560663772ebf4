"""The scheduled continuous-training workflow under act, on throwaway repositories.

Real: the drift check (Evidently), retraining (dvc repro), git branches pushed to a bare
`origin`. Stand-ins: the `gh` CLI (records calls, keeps the open PRs in a file) and the
GitHub actions listed in standins/README.md. A new repository's first night (the warning
without the App, then the App's one PR on the moved main) is the loop's step 3
(tests/workflows/test_loop.py).
"""

from __future__ import annotations

import concurrent.futures

import fsspec
import pandas as pd
import pytest

from tests.s3 import s3_environment
from tests.workflows import github_state
from tests.workflows.act import act, sandbox, seed_production

pytestmark = [pytest.mark.workflows, pytest.mark.slow, pytest.mark.example]
BRANCH = "retrain/auto"


def _run(box, *variables: str, extra: tuple[str, ...] = (), workspace: str = "act-cache"):
    """ct.yml dispatched, with NAME=VALUE repository variables and act's ``extra`` flags."""
    for v in variables:
        extra += ("--var", v)
    return act(box, "workflow_dispatch", {}, "ct.yml", extra=extra, workspace=workspace)


def _branch_head(box) -> str | None:
    out = box.git("ls-remote", "--heads", "origin", f"refs/heads/{BRANCH}").strip()
    return out.split()[0] if out else None


def _ok(result) -> None:
    assert result.returncode == 0, (result.stdout + result.stderr)[-8000:]


def test_a_corrupted_production_batch_fails_at_validation_not_as_drift(
    tmp_path, dvc_seed, params, model, s3_server
):
    from mlops_template import storage
    from mlops_template.pipeline.ingest import ingest

    box = sandbox(tmp_path, dvc_seed)
    whole = params.ingest.model_copy(update={"history_until": None})
    year = ingest(storage.read_table(box.repo / params.ingest.source), whole)
    april = year[(year["timestamp"] >= "2011-04-01") & (year["timestamp"] < "2011-05-01")]
    april = april.reset_index(drop=True)
    sinks = seed_production(box, april, model, params, labelled=True, s3=s3_server)
    with s3_environment(s3_server):
        fs, root = fsspec.url_to_fs(sinks["labelled"])
        bad = sorted(fs.glob(f"{root}/date=*/*.parquet"))[3]
        with fs.open(bad, "rb") as fh:
            frame = pd.read_parquet(fh)
        frame.loc[0, "hum"] = 7.0
        with fs.open(bad, "wb") as fh:
            frame.to_parquet(fh, index=False)
    feedback_before = sorted(p.name for p in (box.repo / "data" / "feedback").iterdir())

    result = _run(box, "CT_DEMO_STREAM=false")
    assert result.returncode != 0
    assert "column 'hum' failed rule 'max <= 1'" in result.stdout + result.stderr
    assert "it is not drift" in result.stdout + result.stderr
    assert _branch_head(box) is None and box.prs() == []
    assert sorted(p.name for p in (box.repo / "data" / "feedback").iterdir()) == feedback_before


def test_two_runs_at_once_leave_one_commit_and_one_pr(tmp_path, dvc_seed):
    box = sandbox(tmp_path, dvc_seed)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda i: _run(box, workspace=f"act-{i}"), range(2)))
    for result in results:
        _ok(result)
    (pr,) = box.prs()
    # the sandbox's runs fall back to GITHUB_TOKEN (no App): its push starts no workflow,
    # and the PR body says so (ct.yml's CT_TOKEN names the token `make propose` used)
    (push,) = [p for p in github_state.pushes(box.root / "gh") if p["ref"].endswith(BRANCH)]
    assert (push["kind"], push["triggers_workflows"]) == ("github_actions", False)
    assert "**Checks will not run on this push.**" in pr["body"]
    box.git("fetch", "-q", "origin", f"+refs/heads/{BRANCH}:refs/remotes/origin/{BRANCH}")
    count = box.git("rev-list", "--count", f"main..origin/{BRANCH}").strip()
    assert count == "1", "one retraining commit on top of main"
