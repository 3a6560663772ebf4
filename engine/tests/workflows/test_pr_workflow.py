"""The pull-request workflow, executed with act against throwaway repositories (slow).

The scenarios assert what comes after the workflow's test tiers (`make test-code`, `make
test-data-model`: the project's own tests, then validation, the gate, the comment), so they
scope the tiers to two of the project's modules (its hooks and its data, no model training)
through PYTEST_ARGS, which `make` reads from the environment: the steps still run and must
pass, and the full tiers are the tests this suite runs itself (`make test`), on a fresh
clone in CI. The scoping
is safe only because every tree here is the template's own plus a param or data edit: the
states only the loop produces (a retraining PR's moved window) are tested with the tiers
unscoped, every step as pr.yml says, in tests/workflows/test_loop.py.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from tests.project import dvc
from tests.workflows.act import (
    act,
    edit_params,
    merge_group_event,
    pull_request_event,
    sandbox,
    step_outcomes,
    with_dvc_remote,
)

pytestmark = [pytest.mark.slow, pytest.mark.example]

BETTER = {"max_leaf_nodes": 7}
SCOPED = ("--env", "PYTEST_ARGS=tests/test_hooks.py tests/test_data.py")


def _open_pr(box, message, change) -> None:
    if "feature" not in box.git("branch", "--list", "feature"):
        box.git("checkout", "-q", "-b", "feature")
    change(box.repo)
    box.git("commit", "-qam", message)


def _hyperparams(values):
    return lambda repo: edit_params(repo, lambda p: p["train"]["hyperparams"].update(values))


def test_improving_pr_passes_and_a_degrading_push_fails_in_the_one_comment(tmp_path, dvc_seed):
    box = sandbox(tmp_path, dvc_seed)
    _open_pr(box, "Tune the model", _hyperparams(BETTER))
    # 310 public test rows cannot show every check within its tolerance (docs/ci.md): a maintainer
    # accepts the inconclusive ones with the label, which pr.yml passes to the gate
    accept = pull_request_event(labels=("gate:accept", "other"))
    result = act(box, "pull_request", accept, "pr.yml", extra=SCOPED)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    steps = step_outcomes(log)
    for step in (
        "Lint",
        "Unit tests",
        "Data and model tests",
        "Quality gate against the base branch",
    ):
        assert steps.get(step) == "success", (step, steps)
    (comment,) = box.comments()
    body = comment["body"]
    assert "✅ **Quality gate passed**" in body
    assert "Accepted by the label `gate:accept`" in body, "the acceptance is recorded"
    assert "| mae | 20.63 → 19.76 |" in body, "champion -> challenger with the interval"
    assert "| hr_band=night |" in body, "each slice compared too"
    assert "intervals.png" in body
    assert "| `train.hyperparams.max_leaf_nodes` | 15 | 7 |" in body
    assert "pass the data contract" in body
    assert "xychart-beta" in body and "feature_importance.png" in body
    assert "![" not in body, "images must stay private unless publishing is opted into"
    assert comment["pr"] == 1 and comment["user"] == "github-actions[bot]"
    assert body.rstrip().endswith("<!-- mlops-template report -->"), "how it is found again"
    # `make comment` read every page of the PR's comments (gh api --paginate), then posted
    api = [c["args"] for c in box.gh_calls() if c["args"][:1] == ["api"]]
    assert api[0] == ["api", "--paginate", "repos/acme/churn/issues/1/comments"], api
    assert api[1][:3] == ["api", "--method", "POST"], api
    assert "Quality gate passed" in log, "the report is also written to the job summary"
    figures = {p.name for p in (box.artifacts / "pr-report" / "figures").iterdir()}
    assert {"predicted_vs_actual.png", "residuals.png", "feature_importance.png"} <= figures
    assert (box.artifacts / "pr-report" / "pr" / "intervals.png").exists()
    assert (box.artifacts / "pr-report" / "pr" / "plots_diff" / "index.html").exists()

    # The PR joins a merge queue: GitHub merges it onto main as the branch
    # gh-readonly-queue/main/pr-1-<main's sha> and runs pr.yml on merge_group, whose event
    # carries no labels. The gate compares with the queue's base_sha, the inconclusive
    # checks warn (GATE_INCONCLUSIVE=warn: the PR was reviewed before it queued), and no
    # comment job runs.
    box.git("checkout", "-q", "--detach", "main")
    box.git("merge", "-q", "--no-ff", "-m", "Merge pull request #1 from acme/feature", "feature")
    queued = merge_group_event(box, 1, box.git("rev-parse", "HEAD").strip())
    result = act(box, "merge_group", queued, "pr.yml", extra=SCOPED)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    assert step_outcomes(log).get("Quality gate against the base branch") == "success"
    assert f"checkout stand-in at {queued['merge_group']['head_sha']}" in log
    assert f"gate: comparing with {queued['merge_group']['base_sha']}" in log
    assert "(inconclusive, warning;" in log, "inconclusive checks warn, not need review"
    assert "needs review" not in log and "accepted by label" not in log
    (comment,) = box.comments()
    assert comment["updates"] == 0, "no comment job on merge_group"
    box.git("checkout", "-q", "feature")

    # A second push to the same PR makes the model worse: the gate fails naming the metrics,
    # and the same comment is updated (no new one) to explain the failure to reviewers.
    _open_pr(box, "Fewer iterations", _hyperparams({"max_leaf_nodes": 15, "max_iter": 30}))
    result = act(box, "pull_request", pull_request_event(), "pr.yml", extra=SCOPED)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert step_outcomes(log).get("Quality gate against the base branch") == "failure"
    assert "gate: FAILED on mae, rmse, mae on hr_band=evening_peak" in log
    # the slices not shown worse are too wide to tell on 52-164 public rows: warnings
    assert "(too small to tell, warning;" in log, "listed, not failing"
    assert "mae: 20.63 -> 27.78, difference +7.146" in log and "(regressed;" in log
    (comment,) = box.comments()
    assert comment["updates"] == 1, "the same comment, edited (PATCH)"
    assert "❌ **Quality gate failed**" in comment["body"]
    assert "| `train.hyperparams.max_iter` | 500 | 30 |" in comment["body"]
    assert "| `train.hyperparams.max_leaf_nodes` |" not in comment["body"], "diffed with main"


def test_pr_with_corrupted_data_fails_at_validation(tmp_path, dvc_seed):
    box = sandbox(tmp_path, dvc_seed)

    def corrupt(repo):
        path = repo / "data/raw/bikeshare_2011.csv.gz"
        raw = pd.read_csv(path)
        raw.loc[100, "hum"] = 1.7
        raw.to_csv(path, index=False)

    _open_pr(box, "New data drop", corrupt)
    result = act(box, "pull_request", pull_request_event(), "pr.yml", extra=SCOPED)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    steps = step_outcomes(log)
    assert (
        steps.get("Reproduce the pipeline (DVC remote and run-cache when configured)") == "failure"
    )
    assert "column 'hum' failed rule 'max <= 1'" in log
    assert "Running stage 'train'" not in log
    assert box.comments() == []


def test_fork_pr_gets_no_comment_job(tmp_path, s3_server):
    """The repository has a DVC remote on S3; a fork's PR gets no secrets (act() passes
    none for a fork's event), cannot read it and reproduces every stage from git. Then
    Dependabot's PR, which gets Dependabot secrets only (none here)."""
    box = sandbox(tmp_path)  # cold: no shared cache, as on a fork's runner
    box.s3 = s3_server
    dvc(box.repo, "remote", "add", "-d", "storage", f"s3://{s3_server.bucket('dvc')}/dvc")
    box.git("commit", "-qam", "Add a DVC remote")
    _open_pr(box, "Tune", _hyperparams(BETTER))
    # a maintainer can label a fork's PR: the label is in the event, no secret is needed
    event = pull_request_event(fork=True, labels=("gate:accept",))
    result = act(box, "pull_request", event, "pr.yml", extra=SCOPED)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY not set in this step" not in log
    assert "the remote is optional here" in log and "Running stage 'train'" in log
    assert box.comments() == []
    assert not [c for c in box.gh_calls() if c["args"][:1] == ["api"]], "no comment job"
    assert "Quality gate passed" in result.stdout  # the job summary still has the report

    # Dependabot's PR on the same repository (a branch of it, not a fork) gets Dependabot
    # secrets only: with the storage keys stored as Actions secrets alone, its run cannot
    # read the remote and, unlike a fork's, must not quietly reproduce without it: the
    # reproduce step fails naming the secrets it lacks, and nothing is gated or commented.
    result = act(
        box, "pull_request", pull_request_event(head="dependabot/uv/x"), "pr.yml",
        extra=SCOPED, dependabot_secrets={},
    )  # fmt: skip
    log = result.stdout + result.stderr
    assert result.returncode != 0, log[-4000:]
    steps = step_outcomes(log)
    assert steps["Reproduce the pipeline (DVC remote and run-cache when configured)"] == "failure"
    assert "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY not set in this step" in log
    assert "set the Dependabot secret(s)" in log  # the store a Dependabot run reads (#32 8)
    assert "Quality gate against the base branch" not in steps and box.comments() == []


def test_pr_touching_no_pipeline_input_restores_training_from_the_remote(
    tmp_path, dvc_seed, s3_server
):
    box = sandbox(tmp_path, dvc_seed)
    with_dvc_remote(box, s3_server)
    # The job's DVC cache starts empty (no seeded cache): what it restores comes from S3.
    shutil.rmtree(box.root / "dvc-global")
    dvc(box.repo, "config", "--local", "--unset", "cache.dir")

    def touch_report_code(repo):
        path = repo / "engine/src/mlops_engine/ci/markdown.py"
        text = path.read_text()
        path.write_text(text.replace("The pull-request report:", "The pull request report:"))

    _open_pr(box, "Reword the report", touch_report_code)
    # GitHub's Actions API fails for `gh run list` (mlops ct-status): the gate still runs and
    # the required check stays green, with a warning instead of the drift check's age
    outage = "HTTP 502: Server Error (https://api.github.com/repos/acme/churn/actions/runs)"
    (box.root / "gh" / "failures.json").write_text(json.dumps({"run list": outage}))
    result = act(box, "pull_request", pull_request_event(), "pr.yml", extra=SCOPED)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    assert step_outcomes(log)["Quality gate against the base branch"] == "success"
    assert (
        "its age is unknown: gh run list --workflow ct.yml --event schedule --limit 1 --json "
        f"createdAt,conclusion,status,url,event: {outage} (exit 1)"
    ) in log, "the command, GitHub's message and gh's exit code (mlops_engine/gh.py)"
    assert "$ dvc pull --run-cache" in log
    assert "Running stage" not in log, "training must be restored, not rerun"
    assert "Data and pipelines are up to date." in log
    (comment,) = box.comments()
    assert "✅ **Quality gate passed**" in comment["body"]
