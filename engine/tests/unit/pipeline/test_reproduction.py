"""A pull request that moves uv.lock (lock_diff.py, pipeline/reproduce.py): every stage
re-runs on the new releases, and the report says whether dvc.lock reproduced and why not."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mlops_engine import lock_diff as reproduction
from mlops_engine import storage
from mlops_engine.pipeline import reproduce as reproduce_module
from tests.project import ROOT, env

LOCK = (ROOT / "uv.lock").read_text()
PANDAS = re.search(r'name = "pandas"\nversion = "([^"]+)"', LOCK).group(1)
DVC_LOCK = """schema: '2.0'
stages:
  split:
    cmd: mlops split
    outs:
    - path: data/processed/test.parquet
      hash: md5
      md5: {test}
      size: 10
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env(), check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """main with the project's uv.lock and a dvc.lock; the working tree on a PR branch."""
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "uv.lock").write_text(LOCK)
    (tmp_path / "dvc.lock").write_text(DVC_LOCK.format(test="a" * 32))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "main")
    _git(tmp_path, "checkout", "-qb", "pr")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _bump_pandas(repo: Path) -> None:
    old = f'name = "pandas"\nversion = "{PANDAS}"'
    bumped = LOCK.replace(old, 'name = "pandas"\nversion = "9.9.9"')
    assert bumped != LOCK
    (repo / "uv.lock").write_text(bumped)
    _git(repo, "commit", "-qam", "Bump pandas")


def test_a_pr_that_moves_nothing_is_silent(repo):
    assert reproduction.moved_since("main") == []
    assert reproduction.note("main") is None
    assert reproduction.moved_since("no-such-branch") is None  # no base: nothing to compare


def test_a_lock_only_pr_that_reproduces_says_so_once_every_stage_reran(repo):
    _bump_pandas(repo)
    moved = reproduction.moved_since("main")
    assert [m.describe() for m in moved] == [f"pandas {PANDAS} -> 9.9.9"]
    # Without the forced re-run (a plain `make repro`: the run-cache restored everything)
    # the report may not claim the releases reproduced anything.
    said = reproduction.note("main")
    assert "did not rebuild the outputs on them" in said and "reproduced" not in said
    reproduction.record("main", moved, forced=True)
    said = reproduction.note("main")
    assert f"pandas {PANDAS} -> 9.9.9" in said and "reproduced the committed `dvc.lock`" in said


def test_outputs_the_new_releases_changed_are_named_with_the_packages(repo):
    _bump_pandas(repo)
    reproduction.record("main", reproduction.moved_since("main"), forced=True)
    (repo / "dvc.lock").write_text(DVC_LOCK.format(test="b" * 32))  # what `dvc repro` wrote
    said = reproduction.note("main")
    assert said.startswith("**`dvc.lock` did not reproduce**: 1 output(s)")
    assert "`data/processed/test.parquet`" in said and f"pandas {PANDAS} -> 9.9.9" in said
    assert "Run `dvc repro --force` on the branch and commit `dvc.lock`" in said


def test_an_uncommitted_lock_is_named_without_blaming_releases(repo):
    (repo / "dvc.lock").write_text(DVC_LOCK.format(test="b" * 32))
    said = reproduction.note("main")
    assert "is not what this revision builds" in said and "package" not in said


@pytest.mark.parametrize(("bump", "expected"), [(False, ("repro",)), (True, ("repro", "--force"))])
def test_repro_reruns_every_stage_only_when_the_lock_moved(repo, monkeypatch, bump, expected):
    if bump:
        _bump_pandas(repo)
    calls = []
    monkeypatch.setattr(reproduce_module, "remote_urls", lambda cwd=None: {})
    monkeypatch.setattr(reproduce_module, "_dvc", lambda *args, check=True: calls.append(args))
    reproduce_module.reproduce(lock_base="main")
    assert calls == [expected]
    assert storage.read_json(reproduction.RECORD)["forced"] is bump
