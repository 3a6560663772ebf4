"""`mlops ct-status` (pr.yml's last step) against the gh stand-in: the age of the last drift
check, and a GitHub API error reported as a warning, never as success or a failed check."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from mlops_engine.cli import main
from tests.project import ROOT
from tests.workflows.github_state import GITHUB_TOKEN, STANDINS, write_state

# What gh prints when the Actions API fails (format: cli/go-gh pkg/api HTTPError.Error)
OUTAGE = "HTTP 502: Server Error (https://api.github.com/repos/acme/churn/actions/workflows/ct.yml)"


@pytest.fixture
def gh(tmp_path, monkeypatch):
    state = tmp_path / "gh"
    write_state(state)
    for k, v in {
        "PATH": f"{STANDINS / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "STANDIN_GH_STATE": str(state),
        "GITHUB_ACTIONS": "true",
        "GH_TOKEN": GITHUB_TOKEN,
        "GH_REPO": "acme/churn",
    }.items():
        monkeypatch.setenv(k, v)
    return state


def _ct_status(tmp_path, capsys, *flags: str) -> tuple[int, str, str]:
    summary = tmp_path / "summary.md"
    code = main(
        ["--params", str(ROOT / "params.yaml"), "ct-status", "--summary", str(summary), *flags]
    )
    return code, capsys.readouterr().out, summary.read_text()


def test_a_recent_successful_run_is_reported(gh, tmp_path, capsys):
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    runs = [{"createdAt": now, "conclusion": "success", "url": "https://x/1"}]
    (gh / "runs.json").write_text(json.dumps(runs))
    code, out, summary = _ct_status(tmp_path, capsys)
    assert code == 0 and "::warning" not in out
    assert summary.startswith("✅ Last scheduled drift check (ct.yml): 0.0 days ago, success")


def test_a_run_by_hand_cannot_hide_a_silent_schedule(gh, tmp_path, capsys):
    """GitHub disabled the schedule 30 days ago; someone ran ct.yml by hand today. Only the
    scheduled run counts (`gh run list --event schedule`): the warning stays."""
    now = dt.datetime.now(dt.UTC)
    stamp = lambda days: (now - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    runs = [
        {
            "createdAt": stamp(0),
            "conclusion": "success",
            "url": "https://x/2",
            "event": "workflow_dispatch",
            "path": "ct.yml",
        },
        {
            "createdAt": stamp(30),
            "conclusion": "success",
            "url": "https://x/1",
            "event": "schedule",
            "path": "ct.yml",
        },
        {
            "createdAt": stamp(0),
            "conclusion": "success",
            "url": "https://x/3",
            "event": "pull_request",
            "path": "pr.yml",
        },
    ]
    (gh / "runs.json").write_text(json.dumps(runs))
    code, out, _ = _ct_status(tmp_path, capsys)
    assert code == 0
    (warning,) = [line for line in out.splitlines() if line.startswith("::warning")]
    assert "30.0 days ago" in warning and "https://x/1" in warning and "x/2" not in warning
    runs[1]["event"] = "workflow_dispatch"  # never scheduled at all
    (gh / "runs.json").write_text(json.dumps(runs))
    _, out, _ = _ct_status(tmp_path, capsys)
    assert "has never run on its schedule" in out


def test_an_api_error_is_a_warning_not_success_and_not_a_failure(gh, tmp_path, capsys):
    (gh / "failures.json").write_text(json.dumps({"run list": OUTAGE}))
    code, out, summary = _ct_status(tmp_path, capsys)
    assert code == 0, "a GitHub API hiccup must not fail the PR's required check"
    (warning,) = [line for line in out.splitlines() if line.startswith("::warning")]
    assert "Could not read the last drift check (ct.yml) from GitHub" in warning
    assert OUTAGE in warning and "age is unknown" in warning
    assert summary.startswith("⚠️ Could not read the last drift check")
    assert "✅" not in summary
    assert _ct_status(tmp_path, capsys, "--strict")[0] == 1, "--strict still fails on it"
