"""The folder decides a test's tier (tests/tiers.py): run by real pytest on a small suite of
its own, a test gets its folder's marker and is selected by it; a test file in a folder
with no tier, or a test marked with a second tier, fails collection saying what to do.
And this repository's suite: every folder registered holds tests, and this test is `code`
because it sits in repo/."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.project import ROOT
from tests.tiers import FOLDERS

SUITE = ROOT / "engine" / "tests"

CONFTEST = """
from pathlib import Path

from tests.tiers import FolderTiers


def pytest_configure(config):
    folders = {"unit": "code", "web": "service"}
    config.pluginmanager.register(FolderTiers(Path(__file__).parent, folders), "tiers")
"""


def _suite(root: Path, files: dict[str, str]) -> None:
    # `slow` as the project registers it; the tiers are registered by the plugin
    (root / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers\nmarkers =\n    slow: takes long\n"
    )
    (root / "conftest.py").write_text(CONFTEST)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))


def _collect(root: Path, *args: str) -> subprocess.CompletedProcess:
    # pytest's own plugins only (the installed ones import pandas, hypothesis, hydra: ~6 CPU-s)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "engine"), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_folder_sets_the_tier_and_an_unregistered_folder_or_second_tier_fails(tmp_path):
    _suite(
        tmp_path,
        {
            "unit/test_core.py": """
                import pytest

                def test_plain():
                    pass

                @pytest.mark.slow
                def test_slow_stays_slow():
                    pass
            """,
            "web/test_app.py": "def test_app():\n    pass\n",
            "unit/test_marked.py": """
                import pytest

                pytestmark = pytest.mark.service

                def test_in_two_tiers():
                    pass
            """,
            "newfolder/test_new.py": "def test_new():\n    pass\n",
            "test_top.py": "def test_top():\n    pass\n",
        },
    )

    code = _collect(tmp_path, "--continue-on-collection-errors", "-m", "code and not slow")
    out = code.stdout + code.stderr
    assert "unit/test_core.py::test_plain" in out, out
    assert "test_slow_stays_slow" not in out and "web/test_app.py" not in out, out
    assert code.returncode != 0, out  # the three broken files fail the collection
    new = f"newfolder/test_new.py: a test file {tmp_path.name}/newfolder/, which has no tier"
    assert new in out, out
    assert "register the folder and its tier marker in FOLDERS" in out, out
    assert f"test_top.py: a test file directly in {tmp_path.name}/, which has no tier" in out, out
    assert "unit/test_marked.py::test_in_two_tiers is marked ['service']" in out, out
    assert "move the test to the folder of its tier" in out, out

    service = _collect(tmp_path, "-m", "service", "web", "unit/test_core.py")
    assert service.returncode == 0, service.stdout + service.stderr
    assert "web/test_app.py::test_app" in service.stdout and "test_plain" not in service.stdout


def test_every_registered_folder_holds_tests_and_every_test_folder_is_registered():
    holding = {p.relative_to(SUITE).parts[0] for p in SUITE.rglob("test_*.py")}
    assert holding == set(FOLDERS), holding ^ set(FOLDERS)


def test_this_suite_marks_by_folder(request):
    tiers = set(FOLDERS.values())
    assert {m.name for m in request.node.iter_markers()} & tiers == {"code"}
