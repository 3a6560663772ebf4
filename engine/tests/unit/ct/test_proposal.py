"""`mlops propose` against real git repositories and the gh stand-in: which failures are a
lost race, which fail loudly, and what a new repository without a PR token sees.

GitHub's side is a bare `origin` with GitHub's push rules as a hook and the gh stand-in's
state (tests/workflows/github_state.py); the workspace is a clone with the credentials
actions/checkout persists, so pushes and gh calls run as the token the test names.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mlops_engine.cli import main
from mlops_engine.ct import proposal as propose_mod
from mlops_engine.ct.proposal import Proposal, PushFailed, propose, push_failure
from tests.project import ROOT
from tests.workflows.github_state import (
    APP_TOKEN,
    GITHUB_TOKEN,
    STANDINS,
    TOKENS,
    install_push_rules,
    persist_credentials,
    pushes,
    write_state,
)

REPO = "acme/churn"
BRANCH = "retrain/auto"
COMPARE = f"https://github.com/{REPO}/compare/main...{BRANCH}?expand=1"
PAT = "github_pat_no_pull_requests"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


class GitHub:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root, self.mp = root, monkeypatch
        for k, v in {
            "GIT_AUTHOR_NAME": "owner",
            "GIT_AUTHOR_EMAIL": "o@example.com",
            "GIT_COMMITTER_NAME": "owner",
            "GIT_COMMITTER_EMAIL": "o@example.com",
            "PATH": f"{STANDINS / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "STANDIN_GH_STATE": str(root / "gh"),
            "GITHUB_ACTIONS": "true",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": REPO,
        }.items():
            monkeypatch.setenv(k, v)
        monkeypatch.delenv("GH_REPO", raising=False)
        self.origin = root / "origin.git"
        git(root, "init", "-q", "--bare", "-b", "main", str(self.origin))
        self.tokens = {
            **TOKENS,
            PAT: {"kind": "pat", "login": "someone", "permissions": {"contents": "write"}},
            "read-only": {
                "kind": "github_actions",
                "login": "github-actions[bot]",
                "permissions": {"contents": "read", "pull_requests": "write"},
            },
        }
        self.setting(False)  # a new repository
        install_push_rules(self.origin, root / "gh", REPO)
        self.work = root / "work"  # the retrain job's checkout
        self.work.mkdir()
        git(self.work, "init", "-q", "-b", "main")
        (self.work / ".github" / "workflows").mkdir(parents=True)
        (self.work / ".github" / "workflows" / "ci.yml").write_text("name: ci\n")
        (self.work / "params.yaml").write_text("window: 1\n")
        (self.work / "reports").mkdir()
        (self.work / "reports" / "pr.md").write_text("# Retrain: drift in April\n\nbody\n")
        (self.work / "reports" / "key.txt").write_text("key-1\n")
        git(self.work, "add", "-A")
        git(self.work, "commit", "-qm", "template")
        git(self.work, "remote", "add", "origin", str(self.origin))
        git(self.work, "push", "-q", "origin", "main")
        git(self.work, "remote", "add", "github", f"https://github.com/{REPO}.git")
        monkeypatch.chdir(self.work)

    def setting(self, allowed: bool) -> None:
        write_state(
            self.root / "gh",
            tokens=self.tokens,
            can_approve_pull_request_reviews=allowed,
            git_dir=self.origin,
        )

    def token(self, token: str) -> None:
        """ct.yml passes the same token to checkout (pushes) and to gh (GH_TOKEN), and names
        which one it is in CT_TOKEN."""
        persist_credentials(self.work, token)
        self.mp.setenv("GH_TOKEN", token)
        kind = self.tokens[token]["kind"]
        name = {"github_actions": "GITHUB_TOKEN", "app": "app", "pat": "CT_PR_TOKEN"}[kind]
        self.mp.setenv("CT_TOKEN", name)

    def pushes(self) -> list[dict]:
        return pushes(self.root / "gh")

    def retrained(self, window: int, key: str) -> None:
        (self.work / "params.yaml").write_text(f"window: {window}\n")
        (self.work / "reports" / "key.txt").write_text(f"{key}\n")

    def branch_head(self) -> str | None:
        out = git(self.root, "--git-dir", str(self.origin), "rev-parse", "-q", "--verify",
                  f"refs/heads/{BRANCH}", check=False).stdout.strip()  # fmt: skip
        return out or None

    def prs(self) -> list[dict]:
        path = self.root / "gh" / "prs.json"
        return json.loads(path.read_text()) if path.exists() else []

    def owner_pushes_to_main(self, path: str, text: str) -> None:
        """The repository owner (their own login, no token) changes main elsewhere."""
        other = self.root / f"other-{len(list(self.root.glob('other-*')))}"
        git(self.root, "clone", "-q", str(self.origin), str(other))
        (other / path).write_text(text)
        git(other, "commit", "-qam", f"change {path}")
        git(other, "push", "-q", "origin", "main")
        # the next nightly run checks out the new main
        git(self.work, "fetch", "-q", "origin")
        git(self.work, "checkout", "-q", "-B", "main", "origin/main")

    def propose(self, capsys) -> tuple[int, str, str]:
        summary = self.root / f"summary-{len(list(self.root.glob('summary-*')))}.md"
        code = main(
            [
                "--params",
                str(ROOT / "params.yaml"),
                "propose",
                "--body",
                "reports/pr.md",
                "--key-file",
                "reports/key.txt",
                "--paths",
                "params.yaml",
                "reports",
                "--summary",
                str(summary),
            ]
        )
        out = capsys.readouterr().out
        return code, out, summary.read_text() if summary.exists() else ""

    def proposal(self, key: str) -> Proposal:
        return Proposal(BRANCH, "main", "Retrain", "reports/pr.md", key, ["params.yaml"])


@pytest.fixture
def github(tmp_path, monkeypatch) -> GitHub:
    return GitHub(tmp_path, monkeypatch)


# --- item 4: a new repository, no App and no CT_PR_TOKEN ---------------------------------


def test_without_a_pr_token_the_first_proposal_warns_with_the_way_out(github, capsys):
    github.token(GITHUB_TOKEN)
    code, out, summary = github.propose(capsys)

    assert code == 0, "the first time it is a setup step, not a broken pipeline"
    assert github.branch_head() is not None, "the branch is pushed"
    assert github.prs() == []
    (warning,) = [line for line in out.splitlines() if line.startswith("::warning ")]
    assert warning.startswith("::warning title=Retraining PR not opened")
    assert COMPARE in warning and "CT_PR_TOKEN" in warning
    assert "not_permitted" in out
    assert f"[open the pull request]({COMPARE})" in summary
    assert "CT_APP_CLIENT_ID" in summary and "CT_PR_TOKEN" in summary
    assert "Allow GitHub Actions to create and approve pull requests" in summary
    assert "trigger no workflows" in summary


def test_a_proposal_still_without_a_pr_on_the_next_run_fails(github, capsys):
    github.token(GITHUB_TOKEN)
    assert github.propose(capsys)[0] == 0
    code, out, summary = github.propose(capsys)  # same inputs: no new commit, still no PR
    assert code == 1
    assert "::error title=Retraining PR still not opened::" in out
    assert COMPARE in summary

    # someone opens the PR by hand from the compare link; later runs edit it and are green
    git(github.work, "checkout", "-q", "main")
    hand = subprocess.run(
        ["gh", "pr", "create", "--base", "main", "--head", BRANCH, "--title", "Retrain",
         "--body-file", "reports/pr.md"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "GH_TOKEN": "", "GITHUB_ACTIONS": ""},
    )  # fmt: skip
    assert hand.returncode == 0, hand.stderr
    github.retrained(2, "key-2")
    code, out, _ = github.propose(capsys)
    assert code == 0 and "updated" in out
    assert github.prs()[0]["edits"] == 1


def test_with_the_setting_on_or_an_app_token_the_pr_opens(github, capsys):
    github.token(APP_TOKEN)  # the recommended setup; the setting does not apply to it
    code, out, summary = github.propose(capsys)
    assert (code, summary) == (0, "")
    assert "::warning" not in out and "created" in out
    (pr,) = github.prs()
    assert (pr["head"], pr["author"], pr["labels"]) == (BRANCH, "mlops-ct[bot]", ["retraining"])


NO_CHECKS = "**Checks will not run on this push.**"


def test_a_push_with_github_token_says_the_pr_has_no_checks_in_the_run_and_the_body(github, capsys):
    """Once a retraining PR is open (the setting on, or opened by hand), every later push
    with GITHUB_TOKEN starts no workflow: GitHub's push record says so, and the run and the
    PR body must too, with the fix."""
    github.setting(True)
    github.token(GITHUB_TOKEN)
    for key, result in [("key-1", "created"), ("key-2", "updated")]:
        github.retrained(int(key[-1]), key)
        code, out, summary = github.propose(capsys)
        assert code == 0 and result in out
        last = github.pushes()[-1]
        assert last["ref"] == f"refs/heads/{BRANCH}" and last["new"] == github.branch_head()
        assert (last["kind"], last["triggers_workflows"]) == ("github_actions", False)
        (warning,) = [line for line in out.splitlines() if line.startswith("::warning ")]
        assert warning.startswith("::warning title=Retraining PR without checks::")
        assert "closes and reopens the PR" in warning and "CT_PR_TOKEN" in warning
        assert "### ⚠️ Retraining PR without checks" in summary
        (pr,) = github.prs()
        assert NO_CHECKS in pr["body"] and "`CT_APP_CLIENT_ID`" in pr["body"]
        assert pr["body"].startswith("# Retrain: drift in April\n\n> [!WARNING]")
    committed = git(github.work, "show", f"{github.branch_head()}:reports/pr.md").stdout
    assert NO_CHECKS not in committed, "the note is for GitHub, not the commit"


def test_a_push_with_the_app_token_runs_the_checks_and_says_nothing(github, capsys):
    github.token(APP_TOKEN)
    for key in ("key-1", "key-2"):
        github.retrained(int(key[-1]), key)
        code, out, summary = github.propose(capsys)
        assert code == 0 and "::warning" not in out and summary == ""
        assert github.pushes()[-1]["triggers_workflows"] is True
    assert NO_CHECKS not in github.prs()[0]["body"]


def test_the_same_key_again_adds_no_commit_and_edits_the_one_pr(github, capsys):
    """The next night on the same inputs: the branch already holds the key."""
    github.token(APP_TOKEN)
    assert github.propose(capsys)[0] == 0
    head = github.branch_head()
    code, out, _ = github.propose(capsys)
    assert code == 0 and "unchanged" in out
    assert github.branch_head() == head, "no new commit"
    (pr,) = github.prs()
    assert pr["state"] == "open" and pr["edits"] == 1


def test_any_other_gh_failure_stays_an_error(github, capsys):
    github.token(PAT)  # may push, may not touch pull requests or labels
    code, out, _ = github.propose(capsys)
    assert code == 1
    assert "::warning" not in out
    assert github.prs() == []


# --- item 6: only a lease rejection is a race --------------------------------------------


def test_a_lease_rejection_on_a_real_push_is_a_lost_race(github, monkeypatch):
    """Another run pushes the branch after this one read it: git refuses the lease."""
    github.token(APP_TOKEN)
    assert propose(github.proposal("key-1")).result == "created"
    git(github.work, "checkout", "-q", "main")
    read_branch = propose_mod.remote_head
    concurrent = github.root / "concurrent-run"
    git(github.root, "clone", "-q", str(github.origin), str(concurrent))

    def and_then_another_run_pushes(p):
        seen = read_branch(p)
        (concurrent / "params.yaml").write_text("window: 3\n")
        git(concurrent, "commit", "-qam", "the other run's retraining")
        git(concurrent, "push", "-q", "--force", "origin", f"HEAD:refs/heads/{BRANCH}")
        return seen

    monkeypatch.setattr(propose_mod, "remote_head", and_then_another_run_pushes)
    github.retrained(2, "key-2")
    outcome = propose(github.proposal("key-2"))
    assert outcome.result == "lost_race"
    other = git(concurrent, "rev-parse", "HEAD").stdout.strip()
    assert github.branch_head() == other, "the other run's branch is left alone"


def test_a_ref_moved_inside_the_servers_update_is_a_lost_race(github):
    """Git's receive-pack checks the old value atomically; a hook that moves the branch
    just before the update stands for a concurrent push landing in that window."""
    github.token(APP_TOKEN)
    assert propose(github.proposal("key-1")).result == "created"
    main_sha = git(github.work, "rev-parse", "main").stdout.strip()
    hook = github.origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\nenv -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY "
        f"-u GIT_ALTERNATE_OBJECT_DIRECTORIES git update-ref refs/heads/{BRANCH} {main_sha}\n"
    )
    git(github.work, "checkout", "-q", "main")
    github.retrained(2, "key-2")
    assert propose(github.proposal("key-2")).result == "lost_race"
    assert github.branch_head() == main_sha


def test_a_branch_carrying_workflow_changes_fails_loudly_naming_the_cause(github, capsys):
    github.setting(True)
    github.token(GITHUB_TOKEN)
    assert github.propose(capsys)[0] == 0
    pushed = github.branch_head()
    github.owner_pushes_to_main(".github/workflows/ci.yml", "name: ci\non: push\n")
    github.retrained(2, "key-2")

    code, out, summary = github.propose(capsys)
    assert code == 1
    (error,) = [line for line in out.splitlines() if line.startswith("::error ")]
    assert error.startswith("::error title=Retraining branch not pushed::")
    assert "(a GitHub App) create or update .github/workflows/ci.yml" in error
    assert "delete its branch" in error
    assert "refusing to allow a GitHub App" in summary  # git's own output, for the record
    assert github.branch_head() == pushed


def test_a_token_without_contents_write_fails_loudly(github):
    github.token("read-only")
    with pytest.raises(PushFailed) as err:
        propose(github.proposal("key-1"))
    assert "github-actions[bot]) may not push to acme/churn.git" in err.value.cause
    assert "contents: write" in err.value.cause
    assert github.branch_head() is None


@pytest.mark.parametrize(
    ("output", "race", "cause"),
    [
        # git 2.39 (porcelain and human), as verified on a real push above
        ("!\tHEAD:refs/heads/retrain/auto\t[rejected] (stale info)", True, "lease was stale"),
        (" ! [rejected]        HEAD -> retrain/auto (stale info)", True, "lease was stale"),
        # git 2.39's receive-pack when two runs both expected no branch (seen in the act
        # test of two concurrent ct runs)
        (
            "remote: error: cannot lock ref 'refs/heads/retrain/auto': reference already exists"
            "\n ! [remote rejected] HEAD -> retrain/auto (failed to update ref)",
            True,
            "lease was stale",
        ),
        # GitHub, verbatim from the issues cited in propose.py and the push-rules stand-in
        (
            " ! [remote rejected] cfati_work -> cfati_work (refusing to allow a GitHub App to "
            "create or update workflow `.github/workflows/rebase.yml` without `workflows` "
            "permission)\nerror: failed to push some refs to 'https://github.com/x/yolov5.git'",
            False,
            "(a GitHub App) create or update .github/workflows/rebase.yml without `workflows`",
        ),
        (
            " ! [remote rejected] main -> main (refusing to allow a Personal Access Token to "
            "create or update workflow `.github/workflows/release.yaml` without `workflow` "
            "scope)",
            False,
            "(a Personal Access Token) create or update .github/workflows/release.yaml",
        ),
        (
            "remote: Permission to celestiaorg/celestia-specs.git denied to github-actions[bot]."
            "\nfatal: unable to access 'https://github.com/celestiaorg/celestia-specs.git/': "
            "The requested URL returned error: 403",
            False,
            "(github-actions[bot]) may not push to celestiaorg/celestia-specs.git (HTTP 403)",
        ),
        (
            "remote: error: GH006: Protected branch update failed for refs/heads/retrain/auto."
            "\n ! [remote rejected] HEAD -> retrain/auto (protected branch hook declined)",
            False,
            "branch protection rule or ruleset",
        ),
        (" ! [remote rejected] HEAD -> x (pre-receive hook declined)", False, "hook declined"),
    ],
)
def test_push_failures_are_told_apart(output, race, cause):
    is_race, text = push_failure(output)
    assert is_race is race
    assert cause in text
