"""The one git wrapper (mlops_engine/git.py) and the one gh wrapper (mlops_engine/gh.py) report
a failure as what it is: the command, the exit code and what the tool said. Real git; gh is
the workflows' stand-in (engine/tests/workflows/standins/bin/gh), which refuses as GitHub
does."""

from __future__ import annotations

import os
import subprocess

import pytest

from mlops_engine import gh, git
from tests.workflows.github_state import STANDINS, write_state


def test_a_git_failure_names_the_command_the_exit_code_and_gits_message(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    with pytest.raises(git.GitError) as failed:
        git.run("rev-parse", "--verify", "no-such-branch", cwd=tmp_path)
    assert failed.value.returncode == 128
    assert str(failed.value).startswith("git rev-parse --verify no-such-branch failed (exit 128)")
    assert "Needed a single revision" in str(failed.value)
    assert git.run("rev-parse", "--verify", "no-such-branch", cwd=tmp_path, check=False)


def test_a_gh_refusal_names_the_command_the_exit_code_and_ghs_message(tmp_path, monkeypatch):
    state = tmp_path / "gh"
    write_state(
        state,
        tokens={"no-issues": {"kind": "github_actions", "login": "github-actions[bot]",
                              "permissions": {"contents": "read"}}},
    )  # fmt: skip
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    git.run("remote", "add", "origin", "https://github.com/acme/churn.git", cwd=work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("PATH", f"{STANDINS / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_GH_STATE", str(state))
    monkeypatch.setenv("GH_TOKEN", "no-issues")
    body = "a long issue body\n" * 500
    with pytest.raises(gh.GhError) as refused:
        gh.run("issue", "create", "--title", "t", "--body", body)
    message = str(refused.value)
    assert refused.value.returncode == 1
    assert message.startswith("gh issue create --title t --body <9,000 characters>: ")
    assert "Resource not accessible by integration" in message and message.endswith("(exit 1)")
    assert body not in message  # gh's message, not the body it was given


def test_without_gh_the_error_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(gh.GhError, match="gh \\(the GitHub CLI\\) is not installed"):
        gh.api("repos/acme/churn")
