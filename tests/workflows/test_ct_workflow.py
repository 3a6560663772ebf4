"""The scheduled continuous-training workflow under act, on throwaway repositories.

Real: the drift check (Evidently), retraining (dvc repro), git branches pushed to a bare
`origin`. Stand-ins: the `gh` CLI (records calls, keeps the open PRs in a file) and the
GitHub actions listed in standins/README.md.
"""

from __future__ import annotations

import concurrent.futures

import fsspec
import pandas as pd
import pytest
import yaml

from tests.s3 import s3_environment
from tests.workflows import github_state
from tests.workflows.act import act, sandbox, seed_production

pytestmark = [pytest.mark.workflows, pytest.mark.slow, pytest.mark.example]
BRANCH = "retrain/auto"
APP = ("--var", "CT_APP_CLIENT_ID=Iv23li-ct", "-s", "CT_APP_PRIVATE_KEY=stand-in-key")


def _run(box, *variables: str, extra: tuple[str, ...] = (), workspace: str = "act-cache"):
    """ct.yml dispatched, with NAME=VALUE repository variables and act's ``extra`` flags."""
    for v in variables:
        extra += ("--var", v)
    return act(box, "workflow_dispatch", {}, "ct.yml", extra=extra, workspace=workspace)


def _branch_head(box) -> str | None:
    out = box.git("ls-remote", "--heads", "origin", f"refs/heads/{BRANCH}").strip()
    return out.split()[0] if out else None


def _show_rev(box, rev: str) -> str:
    box.git("fetch", "-q", "origin", f"+refs/heads/{BRANCH}:refs/remotes/origin/{BRANCH}")
    return box.git("rev-parse", rev).strip()


def _show(box, path: str) -> str:
    box.git("fetch", "-q", "origin", f"+refs/heads/{BRANCH}:refs/remotes/origin/{BRANCH}")
    return box.git("show", f"origin/{BRANCH}:{path}")


def _ok(result) -> None:
    assert result.returncode == 0, (result.stdout + result.stderr)[-8000:]


def test_a_new_repository_warns_on_the_first_night_and_the_app_then_opens_the_one_pr(
    tmp_path, dvc_seed
):
    """What a new user meets: no App or PR token yet and "Allow GitHub Actions to create and
    approve pull requests" off (a new repository's default). The checkout stand-in persists
    the job's token, so the retraining branch is pushed as that token through GitHub's push
    rules (standins/github/pre-receive)."""
    box = sandbox(tmp_path, dvc_seed)
    github_state.write_state(box.root / "gh", git_dir=box.origin)  # the setting off
    main_lock = yaml.safe_load((box.repo / "dvc.lock").read_text())

    first = _run(box)
    _ok(first)
    log = first.stdout + first.stderr
    assert box.prs() == [], "GITHUB_TOKEN may not open PRs in a new repository"
    assert "Retraining PR not opened: repository setting" in log
    assert "https://github.com/acme/churn/compare/main...retrain/auto?expand=1" in log
    params = yaml.safe_load(_show(box, "params.yaml"))
    assert params["split"]["window"]["end"] == "2011-05-01"
    assert "2011-04-01--2011-04-30.parquet" in box.git(
        "ls-tree", "--name-only", f"origin/{BRANCH}", "data/feedback/"
    )
    lock = yaml.safe_load(_show(box, "dvc.lock"))
    model = next(o for o in lock["stages"]["train"]["outs"] if o["path"] == "models/model.joblib")
    old = next(
        o for o in main_lock["stages"]["train"]["outs"] if o["path"] == "models/model.joblib"
    )
    assert model["md5"] != old["md5"], "the branch carries the retrained model"
    head = _branch_head(box)

    # The person follows the warning (configures the App) while main moves on: the next
    # night rebuilds the branch on top of the new main and the App's token opens the PR.
    (box.repo / "NOTES.md").write_text("main moved on\n")
    box.git("add", "NOTES.md")
    box.git("commit", "-qm", "main moves on")
    box.git("push", "-q", "origin", "main")
    _ok(_run(box, extra=APP))
    assert _branch_head(box) != head, "rebuilt on top of the new main"
    parent = _show_rev(box, f"origin/{BRANCH}~1")
    assert parent == box.git("rev-parse", "main").strip()
    (pr,) = box.prs()
    assert pr["head"] == BRANCH and pr["base"] == "main" and pr["labels"] == ["retraining"]
    assert pr["author"] == github_state.TOKENS[github_state.APP_TOKEN]["login"]
    assert "Champion (main) vs challenger (retrained)" in pr["body"]
    assert "challenger ✅" in pr["body"] and "Drift check: 🟠 drift" in pr["body"]
    assert "retrain-key:" in pr["body"]
    assert "Checks will not run on this push" not in pr["body"]
    pushed = github_state.pushes(box.root / "gh")
    assert [(p["kind"], p["triggers_workflows"]) for p in pushed[-1:]] == [("app", True)]
    # A third night on the same inputs adds no commit and edits the one PR: that is
    # test_proposal's same-key test on real git, and the race of two runs below under act.


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
