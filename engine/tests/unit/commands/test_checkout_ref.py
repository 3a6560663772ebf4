"""`mlops checkout-ref`: what cd.yml's rebuild accepts as `ref`, on a real git repository
with a remote, as a full-history actions/checkout leaves it (other branches only as
origin/<name>), and the checkout stand-in's refusal of the same abbreviated SHA."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlops_engine.cli import main
from tests.project import ROOT, env
from tests.workflows.github_state import STANDINS

CHECKOUT = STANDINS / "checkout" / "checkout"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=env(), check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """origin with main (3 commits), a tag v1 on the first, a branch `release` on the
    second; `work` is a clone at main's head, as cd.yml's checkout on a dispatch."""
    origin = tmp_path / "origin"
    origin.mkdir()
    _git(origin, "init", "-q", "-b", "main")
    for i in range(3):
        (origin / "f.txt").write_text(f"{i}\n")
        _git(origin, "add", "f.txt")
        _git(origin, "commit", "-qm", f"c{i}")
    _git(origin, "tag", "v1", "HEAD~2")
    _git(origin, "branch", "release", "HEAD~1")
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", str(origin), str(work))
    monkeypatch.chdir(work)
    return origin, work


def _checkout_ref(ref: str) -> int:
    return main(["--params", str(ROOT / "params.yaml"), "checkout-ref", "--ref", ref])


def test_a_short_sha_a_tag_and_a_branch_are_checked_out(runner):
    origin, work = runner
    first = _git(origin, "rev-parse", "HEAD~2")
    for ref, expected in [
        (first[:7], first),
        ("v1", first),
        ("release", _git(origin, "rev-parse", "release")),
        (first, first),
    ]:
        assert _checkout_ref(ref) == 0, ref
        assert _git(work, "rev-parse", "HEAD") == expected, ref


def test_an_empty_ref_stays_at_the_pushed_commit(runner):
    origin, work = runner
    assert _checkout_ref("") == 0
    assert _git(work, "rev-parse", "HEAD") == _git(origin, "rev-parse", "HEAD")


def test_an_unknown_ref_fails_naming_it(runner, caplog):
    _origin, work = runner
    head = _git(work, "rev-parse", "HEAD")
    assert _checkout_ref("deadbee") == 1
    assert "ref 'deadbee' names no commit in this repository" in caplog.text
    assert "commit SHA (full or abbreviated" in caplog.text
    assert _git(work, "rev-parse", "HEAD") == head, "nothing moved"


def _stand_in(
    origin: Path, workspace: Path, ref: str, depth: str = "0", sha: str = ""
) -> subprocess.CompletedProcess[str]:
    """The checkout stand-in into ``workspace`` from ``origin``, on a push to main at ``sha``
    (GITHUB_REF, GITHUB_SHA) unless ``ref`` is given."""
    environ = {**env(), "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": sha}
    environ["GITHUB_REPOSITORY"] = "acme/churn"
    return subprocess.run(
        [str(CHECKOUT), str(workspace), str(origin), ref, depth],
        capture_output=True, text=True, check=False, env=environ,
    )  # fmt: skip


def test_the_checkout_stand_in_refuses_a_short_sha_like_actions_checkout(runner, tmp_path):
    """actions/checkout v7.0.1 takes 40 hex digits as a commit and anything shorter as a
    branch or tag name (see the stand-in's docstring): cd.yml must not pass it `ref`."""
    origin, _work = runner
    first = _git(origin, "rev-parse", "HEAD~2")
    work = tmp_path / "ws"
    short = _stand_in(origin, work, first[:7])
    assert short.returncode == 1
    assert f"A branch or tag with the name '{first[:7]}' could not be found" in short.stdout
    for ref, expected in [(first, first), ("v1", first), ("release", "origin/release")]:
        assert _stand_in(origin, work, ref).returncode == 0, ref
        assert _git(work, "rev-parse", "HEAD") == _git(work, "rev-parse", expected)
    assert _stand_in(origin, work, "f" * 40).returncode == 1, "a commit the origin lacks"


def test_the_checkout_stand_in_fetches_what_actions_checkout_fetches(runner, tmp_path):
    """Built by `git init` + `git fetch` from origin, not copied: fetch-depth 0 has every
    branch and tag (others as origin/<name>, main as a local branch at the event's commit)
    and not a commit in no branch (a force push's `before`, which origin still has); depth
    1 is shallow, the event's commit alone; an event's commit origin lacks fails."""
    origin, _work = runner
    _git(origin, "checkout", "-q", "-b", "gone")
    (origin / "f.txt").write_text("dropped\n")
    _git(origin, "commit", "-qam", "dropped")
    dropped = _git(origin, "rev-parse", "HEAD")
    _git(origin, "checkout", "-q", "main")
    _git(origin, "branch", "-q", "-D", "gone")
    head = _git(origin, "rev-parse", "main")
    full = tmp_path / "full"
    assert _stand_in(origin, full, "", "0", head).returncode == 0
    assert _git(full, "rev-parse", "HEAD") == head
    assert _git(full, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert _git(full, "rev-parse", "origin/release") == _git(origin, "rev-parse", "release")
    assert _git(full, "rev-parse", "v1") == _git(origin, "rev-parse", "v1")
    assert _git(full, "rev-list", "--count", "HEAD") == "3"
    missing = subprocess.run(["git", "-C", str(full), "cat-file", "-e", dropped], check=False)
    assert missing.returncode != 0, "an unreachable object is not fetched"
    assert "github.com/acme/churn" in _git(full, "remote", "get-url", "github")
    shallow = tmp_path / "shallow"
    assert _stand_in(origin, shallow, "", "1", head).returncode == 0
    assert _git(shallow, "rev-parse", "HEAD") == head
    assert _git(shallow, "rev-list", "--count", "HEAD") == "1"
    assert _git(shallow, "rev-parse", "--is-shallow-repository") == "true"
    gone = _stand_in(origin, tmp_path / "gone", "", "1", "e" * 40)
    assert gone.returncode == 1 and "failed with exit code" in gone.stdout


def test_the_base_is_fetched_by_sha_after_a_force_push_or_fails(
    runner, tmp_path, caplog, monkeypatch
):
    """cd.yml's first step after setup: `--base` is the push's `before`; a force push left it
    out of the checkout, so it is fetched by SHA (GitHub serves it while it exists); gone,
    the step fails naming it (git.have; #32 item 6)."""
    origin, _work = runner
    _git(origin, "config", "uploadpack.allowAnySHA1InWant", "true")
    before = _git(origin, "rev-parse", "HEAD")
    _git(origin, "reset", "-q", "--hard", "HEAD~1")
    (origin / "f.txt").write_text("rewritten\n")
    _git(origin, "commit", "-qam", "force-pushed")
    fresh = tmp_path / "fresh"
    _git(tmp_path, "clone", "-q", "--no-local", str(origin), str(fresh))
    monkeypatch.chdir(fresh)
    args = ["--params", str(ROOT / "params.yaml"), "checkout-ref", "--ref", "", "--base"]
    assert main([*args, before]) == 0
    assert _git(fresh, "rev-parse", f"{before}^{{commit}}") == before
    assert main([*args, "0" * 40]) == 0, "a push that created the branch: no base"
    _git(origin, "reflog", "expire", "--expire=now", "--all")
    _git(origin, "gc", "-q", "--prune=now")
    later = tmp_path / "later"
    _git(tmp_path, "clone", "-q", "--no-local", str(origin), str(later))
    monkeypatch.chdir(later)
    assert main([*args, before]) == 1
    assert f"commit {before}, the base to compare with, is not in this checkout" in caplog.text
    assert "Run workflow, `ref` = the pushed commit" in caplog.text
