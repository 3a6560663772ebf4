"""The dependency canary's logic (engine/src/mlops_engine/canary/upgrade.py) and its report command,
without act: what moved between two real lock files, the first error and the suspects in
real failure output, the committed files restored whatever happens, and the one issue kept
through the gh stand-in (tests/workflows/standins/bin/gh)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mlops_engine.canary.upgrade import (
    Result,
    Settings,
    Step,
    first_error,
    markdown,
    run,
    suspects,
    update_issue,
)
from mlops_engine.lock_diff import Move, locked_versions, moved_packages
from tests.project import BIN, ROOT, uv_path
from tests.workflows.github_state import GITHUB_TOKEN, STANDINS, write_state

# the workspace member uv resolves together with the project
ENGINE_FILES = ("engine/pyproject.toml", "engine/README.md")

LOCK = (ROOT / "uv.lock").read_text()

# What pytest printed when evidently 0.7.23 met pandas 3.1.1 (a canary run on this machine,
# paths shortened): evidently is in the traceback, but pandas is what moved.
EVIDENTLY_ON_PANDAS_31 = """\
tests/model/test_drift_reference.py:43: in test_the_month_just_learned_is_not_drift
    result, _ = check_window(
engine/src/mlops_engine/ct/drift.py:108: in _definition
    from evidently import DataDefinition
venv/lib/python3.11/site-packages/evidently/__init__.py:5: in <module>
    from .core.datasets import Dataset
venv/lib/python3.11/site-packages/evidently/legacy/utils/types.py:9: in <module>
    from pandas.core.dtypes.common import infer_dtype_from_object
E   ImportError: cannot import name 'infer_dtype_from_object' from 'pandas.core.dtypes.common' (venv/lib/python3.11/site-packages/pandas/core/dtypes/common.py)
=========================== short test summary info ============================
FAILED tests/model/test_drift_reference.py::test_the_month_just_learned_is_not_drift
1 failed in 25.61s
"""  # noqa: E501


def _bumped(lock: str, name: str, new: str) -> str:
    """``lock`` with package ``name`` at version ``new`` (the lock's own format)."""
    pattern = rf'(\[\[package\]\]\nname = "{re.escape(name)}"\nversion = )"[^"]+"'
    out, n = re.subn(pattern, rf'\1"{new}"', lock)
    assert n == 1, name
    return out


def test_moved_packages_names_each_package_with_old_and_new_version():
    def locked(name: str) -> str:
        return re.search(rf'name = "{name}"\nversion = "([^"]+)"', LOCK).group(1)

    upgraded = _bumped(_bumped(LOCK, "pandas", "3.1.1"), "threadpoolctl", "99.0")
    moved = moved_packages(LOCK, upgraded)
    assert [m.describe() for m in moved] == [
        f"pandas {locked('pandas')} -> 3.1.1",
        f"threadpoolctl {locked('threadpoolctl')} -> 99.0",
    ]
    # locked twice (one version per Python range): both versions, one entry
    assert len(locked_versions(LOCK)["scipy"].split(", ")) == LOCK.count('name = "scipy"\n')
    assert moved_packages(LOCK, LOCK) == []
    assert "mlops-template" not in {m.name for m in moved_packages(LOCK, "version = 1\n")}


def test_the_first_error_and_the_suspect_are_the_moved_package_not_the_one_that_broke():
    error = first_error(EVIDENTLY_ON_PANDAS_31)
    assert error.startswith("ImportError: cannot import name 'infer_dtype_from_object'")
    moved = [Move("pandas", "2.3.3", "3.1.1"), Move("pytz", "2026.6", None)]
    dists = {"pandas": ["pandas"], "evidently": ["evidently"]}
    assert suspects(error, EVIDENTLY_ON_PANDAS_31, moved, dists) == [moved[0]]
    # a module name that differs from its distribution (sklearn -> scikit-learn)
    sk = Move("scikit-learn", "1.8.0", "1.9.0")
    assert suspects("AttributeError: 'sklearn.x' has no y", "", [sk], {"sklearn": [sk.name]})
    assert first_error("ERROR: failed to reproduce 'train'\n") == (
        "ERROR: failed to reproduce 'train'"
    )


def test_the_committed_lock_and_pyproject_are_restored_when_the_resolution_fails(tmp_path):
    """A requirement no release satisfies: `uv lock` (real, against PyPI) fails, the result
    names it, and the project's files are byte for byte what they were."""
    for name in ("pyproject.toml", "uv.lock", "README.md", *ENGINE_FILES):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    before = {p: (tmp_path / p).read_bytes() for p in ("pyproject.toml", "uv.lock")}
    uv = uv_path()
    result = run(tmp_path, Settings(upgrade="--upgrade", override=["pandas==0.0.1"]), uv=uv)
    assert not result.ok and [s.name for s in result.steps] == ["resolve the newest releases"]
    assert "pandas" in result.failed.first_error, result.failed.log_tail
    assert {p: (tmp_path / p).read_bytes() for p in before} == before


def test_when_nothing_moves_nothing_else_runs_and_the_files_are_untouched(tmp_path):
    """Every package already at its newest allowed release (evidently is pinned exactly):
    the real `uv lock` resolves the committed lock again, so there is no other environment
    to install, reproduce or test."""
    for name in ("pyproject.toml", "uv.lock", "README.md", *ENGINE_FILES):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    before = {p: (tmp_path / p).read_bytes() for p in ("pyproject.toml", "uv.lock")}
    uv = uv_path()
    result = run(tmp_path, Settings(upgrade="--upgrade-package evidently"), uv=uv)
    assert result.ok and result.moved == [], result.failed
    assert [s.name for s in result.steps] == ["resolve the newest releases"]
    assert not (tmp_path / "build" / "canary" / "venv").exists(), "nothing installed"
    assert "No package moved" in markdown(result, None)
    assert {p: (tmp_path / p).read_bytes() for p in before} == before


def _result(ok: bool) -> Result:
    tests = Step("tests", "pytest", ok, 3.0)
    if not ok:
        tests.first_error = "ImportError: cannot import name 'infer_dtype_from_object'"
        tests.failing = ["tests/model/test_drift_reference.py::test_a", "t::b"]
    pandas = Move("pandas", "2.3.3", "3.1.1")
    return Result(
        upgrade="--upgrade-package pandas",
        override=["pandas>=3.1"],
        moved=[pandas],
        steps=[Step("pipeline", "dvc repro -f", True, 9.0), tests],
        suspects=[] if ok else [pandas],
    )


@pytest.fixture
def gh(tmp_path, monkeypatch):
    """The gh stand-in on PATH, in a checkout with a github.com remote, as on a runner."""
    state = tmp_path / "gh"
    write_state(
        state,
        tokens={
            GITHUB_TOKEN: {"kind": "github_actions", "login": "github-actions[bot]",
                           "permissions": {"contents": "read", "issues": "write"}},
            "no-issues": {"kind": "github_actions", "login": "github-actions[bot]",
                          "permissions": {"contents": "read"}},
        },
    )  # fmt: skip
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    subprocess.run(
        ["git", "remote", "add", "origin", "https://github.com/acme/churn.git"],
        cwd=work,
        check=True,
    )
    monkeypatch.chdir(work)
    monkeypatch.setenv("PATH", f"{STANDINS / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_GH_STATE", str(state))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GH_TOKEN", GITHUB_TOKEN)
    monkeypatch.delenv("GH_REPO", raising=False)
    return state


def _issues(state: Path) -> list[dict]:
    return json.loads((state / "issues.json").read_text())


def test_the_report_says_whether_the_pipeline_reproduced_dvc_lock():
    same, moved, unknown = _result(True), _result(True), _result(True)
    same.lock_reproduced = True
    moved.lock_reproduced, moved.changed_outputs = False, ["models/model.joblib"]
    assert "reproduces the committed `dvc.lock` bit for bit" in markdown(same, None)
    text = markdown(Result.from_json(moved.to_json()), None)
    assert "does not reproduce `dvc.lock`: `models/model.joblib` changed" in text
    silent = markdown(unknown, None)  # the pipeline did not finish: no claim either way
    assert "bit for bit" not in silent and "does not reproduce" not in silent


def test_one_issue_is_opened_updated_in_place_and_closed(gh, tmp_path):
    body = tmp_path / "body.md"
    body.write_text(markdown(_result(False), "https://example.test/run/1"))
    assert update_issue(_result(False), body) == "opened https://github.com/acme/churn/issues/1"
    body.write_text(markdown(_result(False), "https://example.test/run/2"))
    assert update_issue(_result(False), body) == "updated #1"
    (issue,) = _issues(gh)
    assert issue["title"] == "Dependency canary: pandas 2.3.3 -> 3.1.1 breaks tests"
    assert issue["edits"] == 1 and "run/2" in issue["body"]
    assert (
        "First failing test: `tests/model/test_drift_reference.py::test_a` (and 1 more)"
        in (issue["body"])
    )
    body.write_text(markdown(_result(True), None))
    assert update_issue(_result(True), body) == "passed; closed #1"
    assert update_issue(_result(True), body) == "passed; no open canary issue"
    (issue,) = _issues(gh)
    assert issue["state"] == "closed"
    assert issue["comments"][0].startswith("The dependency canary passes again.")


def _report(result: Result | None, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`make canary-report` (mlops canary-report) on ``result``, as the report job runs it."""
    result_file = tmp_path / "result.json"
    if result is not None:
        result_file.write_text(result.to_json())
    cmd = [str(BIN / "mlops"), "--params", str(ROOT / "params.yaml"), "canary-report"]
    cmd += ["--result", str(result_file), "--summary", str(tmp_path / "summary.md")]
    cmd += ["--body", str(tmp_path / "issue.md"), "--run-url", "https://example.test/run/9"]
    return subprocess.run(
        cmd, capture_output=True, text=True, check=False, env={**os.environ, **env}
    )


def test_a_refused_issue_write_fails_the_job_and_issues_turned_off_only_warn(gh, tmp_path):
    """A token without `issues` (GitHub refuses): exit 1 with gh's message as an error
    annotation, the whole result still in the job summary. Issues turned off (the
    repository's choice): a warning, exit 0, the summary is the one place it goes."""
    refused = _report(_result(False), tmp_path, GH_TOKEN="no-issues")
    assert refused.returncode == 1, refused.stderr
    assert (
        "::error title=Dependency canary%3A no issue written::gh issue list --label "
        "dependency-canary --state open --json number,title: GraphQL:" in refused.stdout
    )
    assert "Resource not accessible by integration (repository.issues)" in refused.stdout
    assert "infer_dtype_from_object" in (tmp_path / "summary.md").read_text()
    assert not (gh / "issues.json").exists()

    write_state(gh, tokens=json.loads((gh / "tokens.json").read_text()))
    settings = json.loads((gh / "settings.json").read_text())
    (gh / "settings.json").write_text(json.dumps({**settings, "has_issues": False}))
    off = _report(_result(False), tmp_path)
    assert off.returncode == 0, off.stderr
    assert "::warning title=Dependency canary%3A no issue written" in off.stdout
    assert "the 'acme/churn' repository has disabled issues" in off.stdout


def _long(ok: bool) -> Result:
    """A result whose log tail alone is over GitHub's 65,536 characters (40 lines of a
    3,000-character repr, as a failing assertion on a wide frame prints)."""
    result = _result(ok)
    result.steps[-1].log_tail = "\n".join(f"E   {i:02d} " + "x" * 3000 for i in range(40))
    result.moved += [Move(f"package-{i:03d}", "1.0", "1.1") for i in range(300)]
    return result


def test_a_long_result_opens_a_capped_issue_and_closes_it_with_a_capped_comment(gh, tmp_path):
    """The stand-in refuses a body over 65,536 characters as GitHub does: the issue body
    and the closing comment are capped like the PR report, pointing at the summary."""
    opened = _report(_long(False), tmp_path)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    (issue,) = _issues(gh)
    assert len(issue["body"]) <= 65_536 < len((tmp_path / "summary.md").read_text())
    assert "Suspected (moved, and named by the error): **pandas 2.3.3 -> 3.1.1**" in issue["body"]
    assert "the job summary of https://example.test/run/9" in issue["body"]
    closed = _report(_long(True), tmp_path)
    assert closed.returncode == 0, closed.stdout + closed.stderr
    (issue,) = _issues(gh)
    assert issue["state"] == "closed" and len(issue["comments"][0]) <= 65_536


def test_without_gh_the_report_fails_with_a_clear_error_not_a_traceback(gh, tmp_path):
    no_gh = _report(_result(False), tmp_path, PATH=str(BIN))  # the project's tools, no gh
    assert no_gh.returncode == 1
    assert "gh (the GitHub CLI) is not installed on this runner" in no_gh.stdout
    assert "Traceback" not in no_gh.stderr


def test_the_gh_stand_in_refuses_a_closing_comment_over_65536_characters(gh, tmp_path):
    body = tmp_path / "b.md"
    body.write_text(markdown(_result(False), None))
    update_issue(_result(False), body)
    gh_bin = str(STANDINS / "bin" / "gh")
    too_long = subprocess.run(
        [gh_bin, "issue", "close", "1", "--comment", "x" * 65_537],
        capture_output=True,
        text=True,
        check=False,
    )
    assert too_long.returncode == 1
    assert "Body is too long (maximum is 65536 characters) (addComment)" in too_long.stderr
    assert _issues(gh)[0]["state"] == "open"
