"""The one report comment (`make comment`, engine/src/mlops_engine/ci/comment.py) through the gh
stand-in, which pages a PR's comments as GitHub does (30 per page unless per_page, gh's
`--paginate` following every page): on a busy PR (more than 30 comments, ours past the
first page) the report is updated in place, never posted twice (CML 0.20.6 read page one
only); a refusal fails with gh's message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_engine.ci.comment import CML_WATERMARK, MARKER
from tests.project import ROOT
from tests.workflows.github_state import GITHUB_TOKEN, STANDINS, write_state

GH = str(STANDINS / "bin" / "gh")


def _pr(number: int) -> dict:
    return {"number": number, "head": f"b{number}", "base": "main", "title": "t", "body": "",
            "labels": [], "state": "open", "edits": 0, "author": "you"}  # fmt: skip


@pytest.fixture
def github(tmp_path):
    """GitHub's side: PR 7 with 35 comments by people and ours as the 33rd (page two),
    PR 8 with a report comment of its own; a token with `pull-requests: write` (the
    comment job's) and one with read only."""
    state = tmp_path / "gh"
    write_state(
        state,
        tokens={
            GITHUB_TOKEN: {"kind": "github_actions", "login": "github-actions[bot]",
                           "permissions": {"pull_requests": "write"}},
            "read-only": {"kind": "github_actions", "login": "github-actions[bot]",
                          "permissions": {"pull_requests": "read"}},
        },
    )  # fmt: skip
    (state / "prs.json").write_text(json.dumps([_pr(7), _pr(8)]))
    comments = [
        {"id": 2000 + i, "pr": 7, "body": f"review note {i}", "user": "someone", "updates": 0}
        for i in range(35)
    ]
    comments[32] = {
        **comments[32],
        "body": f"old report\n\n{MARKER}\n",
        "user": "github-actions[bot]",
    }
    comments.append({"id": 3000, "pr": 8, "body": f"PR 8's\n{MARKER}", "user": "x", "updates": 0})
    (state / "comments.json").write_text(json.dumps(comments))
    return state


def _env(state: Path, token: str = GITHUB_TOKEN, pr: str = "7") -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{STANDINS / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "STANDIN_GH_STATE": str(state),
        "GITHUB_ACTIONS": "true",
        "GH_TOKEN": token,
        "GH_REPO": "acme/churn",
        "PR_NUMBER": pr,
    }


def _comment(state: Path, body: Path, **kw: str) -> subprocess.CompletedProcess[str]:
    """`make comment`'s command, as the comment job runs it: the runner's python3, -I."""
    script = ROOT / "engine" / "src" / "mlops_engine" / "ci" / "comment.py"
    return subprocess.run(
        ["python3", "-I", str(script), "--body-file", str(body)],
        capture_output=True,
        text=True,
        check=False,
        env=_env(state, **kw),
        cwd=state.parent,
    )


def _comments(state: Path, pr: int) -> list[dict]:
    return [c for c in json.loads((state / "comments.json").read_text()) if c["pr"] == pr]


def test_on_a_busy_pr_the_report_past_page_one_is_updated_not_posted_twice(github, tmp_path):
    body = tmp_path / "report.md"
    body.write_text(f"## Model report\n\n✅ **Quality gate passed**\n\n{MARKER}\n")
    done = _comment(github, body)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "comment: updated comment 2032 on #7" in done.stdout
    ours = [c for c in _comments(github, 7) if MARKER in c["body"]]
    assert len(ours) == 1 and ours[0]["id"] == 2032 and ours[0]["updates"] == 1
    assert "Quality gate passed" in ours[0]["body"]
    assert len(_comments(github, 7)) == 35, "no comment added"
    assert _comments(github, 8)[0]["body"] == f"PR 8's\n{MARKER}", "another PR's untouched"


def test_a_pr_without_the_report_gets_one_and_then_keeps_it(github, tmp_path):
    prs = json.loads((github / "prs.json").read_text())
    (github / "prs.json").write_text(json.dumps([*prs, _pr(9)]))
    body = tmp_path / "report.md"
    body.write_text("## Model report\n\nfirst\n")  # no marker: the command adds it
    assert _comment(github, body, pr="9").returncode == 0
    body.write_text("## Model report\n\nsecond\n")
    second = _comment(github, body, pr="9")
    assert second.returncode == 0, second.stderr
    (only,) = _comments(github, 9)
    assert only["body"] == f"## Model report\n\nsecond\n\n{MARKER}\n" and only["updates"] == 1
    assert only["user"] == "github-actions[bot]"


def test_the_report_cml_posted_before_is_adopted_not_posted_twice(github, tmp_path):
    """A PR opened while CML posted the report (its watermark, no marker) keeps one comment."""
    prs = json.loads((github / "prs.json").read_text())
    (github / "prs.json").write_text(json.dumps([*prs, _pr(10)]))
    cml = f"old\n\n![](https://cml.dev/watermark.png#0f1e {CML_WATERMARK})"
    comments = json.loads((github / "comments.json").read_text())
    comments.append({"id": 4000, "pr": 10, "body": cml, "user": "github-actions[bot]",
                     "updates": 0})  # fmt: skip
    (github / "comments.json").write_text(json.dumps(comments))
    body = tmp_path / "report.md"
    body.write_text("## Model report\n\nnew\n")
    done = _comment(github, body, pr="10")
    assert done.returncode == 0, done.stdout + done.stderr
    (only,) = _comments(github, 10)
    assert only["id"] == 4000 and MARKER in only["body"] and "new" in only["body"]


def test_a_refused_write_fails_with_ghs_message(github, tmp_path):
    body = tmp_path / "report.md"
    body.write_text("x" * 65_537)
    too_long = _comment(github, body)
    assert too_long.returncode == 1
    assert (
        "::error title=PR comment not written::gh api --method PATCH "
        "repos/acme/churn/issues/comments/2032 --input -: gh: Validation Failed: "
        in too_long.stdout
    )
    assert "body is too long (maximum is 65536 characters) (HTTP 422)" in too_long.stdout
    body.write_text("short")
    read_only = _comment(github, body, token="read-only")
    assert read_only.returncode == 1
    assert "gh: Resource not accessible by integration (HTTP 403)" in read_only.stdout
    no_gh = subprocess.run(  # any Python runs it: this one, with no gh on PATH
        [
            sys.executable,
            "-I",
            str(ROOT / "engine/src/mlops_engine/ci/comment.py"),
            "--body-file",
            str(body),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**_env(github), "PATH": "/nonexistent"},
    )
    assert no_gh.returncode == 1 and "gh (the GitHub CLI) is not installed" in no_gh.stdout


def test_the_gh_stand_in_pages_like_github_and_gh(github):
    """30 per page by default, per_page up to 100, `--paginate` follows every page (gh
    asks for 100 per page) and joins them; `--slurp` gives the pages; non-GET refuses it."""

    def api(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GH, "api", *args], capture_output=True, text=True, check=False, env=_env(github)
        )

    path = "repos/acme/churn/issues/7/comments"
    first = json.loads(api(path).stdout)
    assert [c["id"] for c in first] == list(range(2000, 2030)), "page one: 30, oldest first"
    assert len(json.loads(api(f"{path}?page=2").stdout)) == 5
    assert len(json.loads(api(f"{path}?per_page=100").stdout)) == 35
    assert len(json.loads(api("--paginate", path).stdout)) == 35
    pages = json.loads(api("--paginate", "--slurp", f"{path}?per_page=10").stdout)
    assert [len(p) for p in pages] == [10, 10, 10, 5]
    refused = api("--paginate", "--method", "PATCH", "repos/acme/churn/issues/comments/2000")
    assert refused.returncode == 1 and "not supported for non-GET requests" in refused.stderr
