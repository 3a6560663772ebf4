"""The dependency canary (canary.yml) under act with its DEFAULT arguments (`uv lock
--upgrade`, the fast tier `-m "not slow" -n auto`, the extras `make test-fast` installs), as
the Monday schedule runs it: a package broken on purpose opens the one issue naming it and
the first error, and a clean run closes it.

Real: `uv lock --upgrade` against PyPI, the upgraded install, `dvc repro -f`, pytest.
Which releases are "newest" moves every day, so the sandbox's repository fixes it the way
a repository can (pyproject.toml's `[tool.uv]`, committed): `exclude-newer-package` holds
every locked package at the newest file of its locked version (upload times from uv.lock),
so on any day `--upgrade` resolves the committed lock again; and `find-links` names a
folder, the sandbox's own package index, that the broken run fills with `PyYAML 99.0`,
whose `import yaml` raises (a release gone wrong; a local file has no upload time, so it
is newer than anything). Its run: only pyyaml moves, the whole pipeline runs and passes (no
stage imports PyYAML) and the default test tier fails at once (tests/project.py imports
it, so conftest does not load): seconds, not the tier's minutes. The clean run stops after
the resolution (nothing moved).
Stand-ins: `gh` (issues, labels; GitHub's side in a file) and the actions of standins/."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.project import run
from tests.workflows import github_state
from tests.workflows.act import act, sandbox

pytestmark = [pytest.mark.slow, pytest.mark.example]
# The report job's GITHUB_TOKEN, as canary.yml's `report` job asks for it.
TOKENS = {
    github_state.GITHUB_TOKEN: {
        "kind": "github_actions",
        "login": "github-actions[bot]",
        "permissions": {"contents": "read", "issues": "write"},
    }
}
BROKEN = "PyYAML 99.0 is broken on purpose, by the canary test"


def _newest_files(lock_text: str) -> dict[str, str]:
    """Package -> one second after the newest file of its locked version(s) (uv.lock's
    upload-time): uv may take nothing uploaded later, so nothing moves."""
    newest: dict[str, dt.datetime] = {}
    for package in tomllib.loads(lock_text)["package"]:
        files = [package["sdist"]] if "sdist" in package else []
        times = [f["upload-time"] for f in files + package.get("wheels", []) if "upload-time" in f]
        if times:
            t = max(dt.datetime.fromisoformat(x.replace("Z", "+00:00")) for x in times)
            newest[package["name"]] = max(newest.get(package["name"], t), t)
    return {
        n: (t + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ") for n, t in newest.items()
    }


def _hold_releases(repo: Path, index: Path) -> None:
    """Commit the `[tool.uv]` settings above to the sandbox's pyproject.toml."""
    held = _newest_files((repo / "uv.lock").read_text())
    table = ", ".join(f'"{name}" = "{when}"' for name, when in sorted(held.items()))
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text()
    assert text.count("[tool.uv]\n") == 1
    settings = f'find-links = ["{index}"]\nexclude-newer-package = {{ {table} }}\n'
    pyproject.write_text(text.replace("[tool.uv]\n", "[tool.uv]\n" + settings))
    run(repo, "git", "commit", "-qam", "hold every release at the locked one; a local index")


def _broken_wheel(index: Path) -> None:
    """PyYAML 99.0 (py3-none-any): valid metadata, an `import yaml` that raises."""
    dist = "PyYAML-99.0.dist-info"
    files = {
        "yaml/__init__.py": f"raise ImportError({BROKEN!r})\n",
        f"{dist}/METADATA": "Metadata-Version: 2.1\nName: PyYAML\nVersion: 99.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{dist}/top_level.txt": "yaml\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(index / "PyYAML-99.0-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)


def _run(box):
    """canary.yml as the schedule runs it: no inputs, every default."""
    return act(box, "workflow_dispatch", {"inputs": {}}, "canary.yml")


def _issues(box) -> list[dict]:
    path = box.root / "gh" / "issues.json"
    return json.loads(path.read_text()) if path.exists() else []


def test_the_default_canary_names_a_broken_release_and_a_clean_run_closes_the_issue(tmp_path):
    box = sandbox(tmp_path)
    github_state.write_state(box.root / "gh", tokens=TOKENS, git_dir=box.origin)
    index = tmp_path / "index"
    index.mkdir()
    _hold_releases(box.repo, index)
    box.git("push", "-q", "origin", "main")  # the run checks out main as GitHub has it
    committed = (box.repo / "uv.lock").read_text()
    pyyaml = re.search(r'name = "pyyaml"\nversion = "([^"]+)"', committed).group(1)

    _broken_wheel(index)
    bad = _run(box)
    log = bad.stdout + bad.stderr
    assert bad.returncode != 0, "the canary job fails: the run is red"
    result = json.loads((box.artifacts / "canary-result" / "result.json").read_text())
    assert [m["name"] for m in result["moved"]] == ["pyyaml"], result["moved"]
    _, sync, pipeline, tests = result["steps"]
    # what `make test-fast` installs (the Makefile's TESTS_NEED), and the default tier
    assert sync["command"].endswith(" sync --frozen --extra=s3"), sync
    assert pipeline["command"] == "dvc repro -f" and pipeline["ok"], "no stage imports PyYAML"
    assert tests["command"].endswith("-rfE -m 'not slow' -n auto") and not tests["ok"]
    sync_log = (box.artifacts / "canary-result" / "sync.log").read_text()
    assert " + s3fs==" in sync_log, "the upgraded environment has the tier's S3 client"
    (issue,) = _issues(box)
    assert issue["state"] == "open" and issue["labels"] == ["dependency-canary"]
    assert issue["author"] == "github-actions[bot]"
    assert f"pyyaml {pyyaml} -> 99.0" in issue["title"] and "breaks tests" in issue["title"]
    body = issue["body"]
    assert f"ImportError: {BROKEN}" in body
    assert f"Suspected (moved, and named by the error): **pyyaml {pyyaml} -> 99.0**" in body
    assert "| pipeline | ✅ passed |" in body and "| tests | ❌ failed |" in body
    assert "Run: https://github.com/acme/churn/actions/runs/" in body
    assert "Dependency canary: no issue written" not in log

    (index / "PyYAML-99.0-py3-none-any.whl").unlink()  # the release is pulled
    clean = _run(box)
    assert clean.returncode == 0, (clean.stdout + clean.stderr)[-8000:]
    (issue,) = _issues(box)
    assert issue["state"] == "closed" and issue["stateReason"] == "COMPLETED"
    (comment,) = issue["comments"]
    assert comment.startswith("The dependency canary passes again.")
    assert "No package moved" in comment
    steps = json.loads((box.artifacts / "canary-result" / "result.json").read_text())["steps"]
    assert [s["name"] for s in steps] == ["resolve the newest releases"], "nothing else to run"
    assert (box.repo / "uv.lock").read_text() == committed
