"""GitHub caps a PR comment and a PR body at 65,536 characters: the report (`mlops report`,
posted by `make comment`) and the retraining PR body (`mlops retrain`, posted by gh) on a
300-column table stay under it, keep the verdicts, and say where the full report is; the gh
stand-in refuses what GitHub refuses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mlops_engine.caps import BODY_BUDGET, GITHUB_BODY_LIMIT, cap
from mlops_engine.cli import main
from mlops_engine.ct.challenger import render as render_challenger
from mlops_engine.ct.drift import ColumnDrift, WindowResult
from mlops_engine.ct.monitor import summary_markdown
from mlops_engine.ct.retrain import pr_body
from mlops_engine.step_files import SUMMARY_LIMIT, add_summary
from tests.project import ROOT, env
from tests.workflows.github_state import GITHUB_TOKEN, STANDINS, write_state

N = 300
URL = "https://github.com/acme/wide/actions/runs/7"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env(), check=True, capture_output=True)


def _wide(params: dict) -> dict:
    """The example's params with 300 more numeric contract columns (as `mlops init` writes
    them for a 300-column table)."""
    wide = json.loads(json.dumps(params))
    for i in range(N):
        wide["contract"]["columns"][f"sensor_{i:03d}"] = {
            "dtype": "float",
            "min": -1000.0 - i,
            "max": 1000.0 + i,
            "description": f"reading of sensor {i:03d} (normalised, see the data sheet)",
        }
    return wide


@pytest.fixture
def wide_repo(tmp_path, monkeypatch):
    """Base commit: the example's params; head: 300 columns more: every contract entry of
    them is in the report's params diff."""
    repo = tmp_path / "repo"
    (repo / "reports").mkdir(parents=True)
    for name in ("dvc.yaml", "dvc.lock", "reports/metrics.json"):
        shutil.copy(ROOT / name, repo / name)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    (repo / "params.yaml").write_text(yaml.safe_dump(_wide(params), sort_keys=False))
    _git(repo, "commit", "-qam", "300 columns")
    monkeypatch.chdir(repo)
    return repo


def _report(repo: Path) -> tuple[str, str, str]:
    summary = repo / "summary.md"
    code = main(
        [
            "report",
            "--base-ref",
            "HEAD~1",
            "--out",
            "reports/pr/report.md",
            "--artifact-url",
            URL,
            "--summary",
            str(summary),
        ]
    )
    assert code == 0
    shown = (repo / "reports/pr/report.md").read_text()
    full = repo / "reports/pr/report-full.md"
    return shown, full.read_text() if full.exists() else "", summary.read_text()


def test_the_report_on_300_columns_fits_a_comment_with_the_verdict_and_a_link(wide_repo):
    shown, full, summary = _report(wide_repo)
    assert len(full) > GITHUB_BODY_LIMIT, "the whole params diff would not fit"
    assert len(shown) <= BODY_BUDGET
    # no pipeline outputs here: the paired comparison cannot run and the verdict says so
    (verdict,) = [x for x in full.splitlines() if "**Quality gate" in x]
    assert "could not run" in verdict and verdict in shown and "### Metrics" in shown
    metrics = full.split("### Metrics", 1)[1].split("###", 1)[0]
    assert metrics in shown, "the metrics table and its verdicts are whole"
    assert "| `contract.columns.sensor_000.dtype` | – | float |" in shown
    assert "| `contract.columns.sensor_299.max` | – | 1299 |" in full
    assert "| `contract.columns.sensor_299.max` |" not in shown
    assert "more rows not shown: GitHub caps a comment or pull request body at 65,536" in shown
    assert f"`report-full.md` in [the workflow run's artifacts]({URL})" in shown
    assert "### Versions" in shown and shown.rstrip().endswith("<!-- mlops-template report -->")
    assert summary == full, "the job summary (up to 1 MiB) gets it all"


def test_a_short_report_is_left_alone(tmp_path):
    text = "## Model report\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert cap(text, "x") == text


def _rows(n: int, cell: str) -> str:
    """A report with one table of ``n`` rows of ``cell`` (multi-byte text in UTF-8)."""
    rows = [f"| sensor_{i:06d} | {cell} |" for i in range(n)]
    return "## Drift\n\n| column | verdict |\n|---|---|\n" + "\n".join(rows) + "\n\nEnd.\n"


def test_a_job_summary_is_capped_in_bytes_not_characters(tmp_path):
    """GitHub drops a step's summary over 1 MiB of bytes: 400,000 characters of "✅ drifted"
    rows are under 1 Mi characters but over 1 MiB in UTF-8."""
    text = _rows(12_000, "drifted " + "✅" * 40)
    assert len(text) < SUMMARY_LIMIT < len(text.encode())
    summary = tmp_path / "summary.md"
    summary.write_text("### Tests\n\n✅ passed\n\n", encoding="utf-8")  # an earlier command
    add_summary(summary, text, "the artifact `drift-report`")
    written = summary.read_bytes()
    assert len(written) <= SUMMARY_LIMIT, "the step's whole file stays within 1 MiB"
    assert written.decode("utf-8").startswith("### Tests\n\n✅ passed\n\n## Drift")
    assert "GitHub caps a job summary at 1,048,576 bytes" in written.decode()
    assert "the artifact `drift-report`" in written.decode()
    assert len(written) > SUMMARY_LIMIT - 2000, "and keeps what fits"


def test_fit_in_bytes_cuts_at_a_line_and_never_inside_a_character(tmp_path):
    text = "## Notes\n\n" + "\n".join(f"- naïve ✅ {i} é" for i in range(50_000)) + "\n"
    fitted = cap(text, "the log", 100_000, unit="bytes")
    assert len(fitted.encode("utf-8")) <= 100_000 < len(text.encode("utf-8"))
    assert fitted.endswith("*… cut here: the full report is in the log.*\n")
    body = fitted.rsplit("\n\n*… cut here", 1)[0]
    assert body.splitlines()[-1] in text.splitlines(), "a whole line ends what is kept"
    assert len(cap(text, "x", 100_000)) <= 100_000 < len(cap(text, "x", 100_000).encode())


def _drift_summary() -> dict:
    columns = [
        ColumnDrift(f"sensor_{i:03d}", "wasserstein", 0.05 + i / 1000, 0.1, i % 50 == 7)
        for i in range(N)
    ]
    window = WindowResult(
        "2011-04-01",
        "2011-05-01",
        5000,
        4800,
        columns,
        prediction=ColumnDrift("prediction", "wasserstein", 0.4, 0.1, True),
        target=ColumnDrift("bikers", "wasserstein", 0.3, 0.1, True),
        quality={"mae": 31.5},
    )
    return {
        "verdict": "drift",
        "retrain": True,
        "reasons": ["drift in 2 consecutive windows"],
        "windows": [window.as_dict()],
    }


def test_the_retraining_pr_body_on_300_columns_fits_and_keeps_the_drifted_ones(wide_repo):
    _, report, _ = _report(wide_repo)  # the whole report, as run_retrain embeds it
    comparison = {
        "newest, held out (new test split)": {
            "rows": 1000,
            "champion": {"mae": 40.0},
            "challenger": {"mae": 30.0},
        }
    }
    sections = render_challenger(comparison) + summary_markdown(_drift_summary()) + report
    full, shown = pr_body("Retrain up to 2011-05-01", "Opened by CT.", sections, "k1", URL)
    assert len(full) > GITHUB_BODY_LIMIT and len(shown) <= BODY_BUDGET
    assert "| newest, held out (new test split) | 1,000 | mae | 40 | 30 |" in shown
    assert "### Drift check: 🟠 drift (retraining proposed)" in shown
    drift_table = shown.split("| column | test | score | threshold | drifted |", 1)[1]
    for kept in ("| prediction |", "| bikers |", "| sensor_007 |", "| sensor_057 |"):
        assert kept in drift_table.split("\n\n", 1)[0], f"{kept} shown first (drifted)"
    assert "**Quality gate could not run**" in shown, "the report's verdict is kept"
    assert shown.rstrip().endswith("<!-- retrain-key: k1 -->"), "the idempotency key stays"
    assert f"The full report is in {URL}" in shown


# --- the stand-ins refuse what GitHub refuses ---------------------------------------------


def _gh(cwd: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    run_env = {
        **os.environ,
        "STANDIN_GH_STATE": str(state),
        "GITHUB_ACTIONS": "true",
        "GH_TOKEN": GITHUB_TOKEN,
        "GH_REPO": "acme/wide",
    }
    return subprocess.run(
        [str(STANDINS / "bin" / "gh"), *args],
        cwd=cwd,
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_gh_stand_in_refuses_a_body_over_65536_characters(wide_repo, tmp_path):
    shown, full, _ = _report(wide_repo)
    state = tmp_path / "gh"
    write_state(state, can_approve_pull_request_reviews=True)
    (tmp_path / "full.md").write_text(full)
    (tmp_path / "shown.md").write_text(shown)

    create = ["pr", "create", "--base", "main", "--head", "retrain/auto", "--title", "t"]
    too_long = _gh(tmp_path, state, *create, "--body-file", str(tmp_path / "full.md"))
    assert too_long.returncode == 1
    assert (
        "pull request create failed: GraphQL: Body is too long (maximum is 65536 characters) "
        "(createPullRequest)"
    ) in too_long.stderr
    assert _gh(tmp_path, state, *create, "--body-file", str(tmp_path / "shown.md")).returncode == 0
    edit = _gh(tmp_path, state, "pr", "edit", "1", "--body-file", str(tmp_path / "full.md"))
    assert "Body is too long (maximum is 65536 characters) (updatePullRequest)" in edit.stderr

    # the report comment (`make comment`: gh api, REST): a 422 for the whole report
    post = ["api", "--method", "POST", "repos/acme/wide/issues/1/comments", "-F"]
    refused = _gh(tmp_path, state, *post, f"body=@{tmp_path / 'full.md'}")
    assert refused.returncode == 1
    assert "body is too long (maximum is 65536 characters) (HTTP 422)" in refused.stderr
    assert _gh(tmp_path, state, *post, f"body=@{tmp_path / 'shown.md'}").returncode == 0
