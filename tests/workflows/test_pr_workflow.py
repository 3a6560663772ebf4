"""The pull-request workflow, executed with act against throwaway repositories (slow).

The scenarios assert what comes after the workflow's test tiers (`make test-code`, `make
test-data-model`: validation, the gate, the comment), so they scope each tier to one module
through PYTEST_ARGS, which `make` reads from the environment: the steps still run and must
pass, and the full tiers are the tests this suite runs itself, on a fresh clone in CI. That
saves ~25 s of pytest per scenario (~60 s of a worker on a 2x slower machine).
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.workflows.act import (
    act,
    edit_params,
    pull_request_event,
    sandbox,
    step_outcomes,
    with_dvc_remote,
)

pytestmark = [pytest.mark.workflows, pytest.mark.slow, pytest.mark.example]

BETTER = {"max_leaf_nodes": 7}
SCOPED = ("--env", "PYTEST_ARGS=tests/code/test_split.py tests/data/test_contract.py")


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
    result = act(box, "pull_request", pull_request_event(), "pr.yml", extra=SCOPED)
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
    assert "| mae | 19.74 → 19.08 |" in body, "champion -> challenger with the interval"
    assert "| hr_band=night |" in body, "each slice compared too"
    assert "intervals.png" in body
    assert "| `train.hyperparams.max_leaf_nodes` | 15 | 7 |" in body
    assert "pass the data contract" in body
    assert "xychart-beta" in body and "feature_importance.png" in body
    assert "![" not in body, "images must stay private unless publishing is opted into"
    call = box.cml_calls()[-1]
    assert call["args"][:2] == ["comment", "update"] and "--no-publish" in call["args"]
    # act copies the repository into every job, so git would answer here; on GitHub this job
    # has no checkout and real CML needs --repo (the stand-in records where it came from)
    assert call["repo"] == "https://github.com/acme/churn", call
    assert call["token_set"]
    assert "Quality gate passed" in log, "the report is also written to the job summary"
    figures = {p.name for p in (box.artifacts / "pr-report" / "figures").iterdir()}
    assert {"predicted_vs_actual.png", "residuals.png", "feature_importance.png"} <= figures
    assert (box.artifacts / "pr-report" / "pr" / "intervals.png").exists()
    assert (box.artifacts / "pr-report" / "pr" / "plots_diff" / "index.html").exists()

    # A second push to the same PR makes the model worse: the gate fails naming the metrics,
    # and the same comment is updated (no new one) to explain the failure to reviewers.
    _open_pr(box, "Fewer iterations", _hyperparams({"max_leaf_nodes": 15, "max_iter": 30}))
    result = act(box, "pull_request", pull_request_event(), "pr.yml", extra=SCOPED)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert step_outcomes(log).get("Quality gate against the base branch") == "failure"
    assert "gate: FAILED on mae, rmse, r2" in log
    assert "mae: 19.74 -> 26.08, difference +6.34" in log and "(regressed;" in log
    (comment,) = box.comments()
    assert comment["updates"] == 1
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


def test_fork_pr_gets_no_comment_job(tmp_path):
    box = sandbox(tmp_path)  # cold: a fork's PR sees no remote, and every stage runs here
    _open_pr(box, "Tune", _hyperparams(BETTER))
    result = act(box, "pull_request", pull_request_event(fork=True), "pr.yml", extra=SCOPED)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert box.comments() == [] and box.cml_calls() == []
    assert "Quality gate passed" in result.stdout  # the job summary still has the report


def test_pr_touching_no_pipeline_input_restores_training_from_the_remote(tmp_path, dvc_seed):
    box = sandbox(tmp_path, dvc_seed)
    with_dvc_remote(box)

    def touch_report_code(repo):
        path = repo / "src/mlops_template/ci/markdown.py"
        text = path.read_text()
        path.write_text(text.replace("The pull-request report:", "The pull request report:"))

    _open_pr(box, "Reword the report", touch_report_code)
    result = act(box, "pull_request", pull_request_event(), "pr.yml", extra=SCOPED)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    assert "$ dvc pull --run-cache" in log
    assert "Running stage" not in log, "training must be restored, not rerun"
    assert "Data and pipelines are up to date." in log
    (comment,) = box.comments()
    assert "✅ **Quality gate passed**" in comment["body"]
