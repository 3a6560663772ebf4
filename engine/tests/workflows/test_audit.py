"""actionlint (with shellcheck) and zizmor --offline report nothing on our workflows, and
both flag a deliberately unsafe canary, so a silent audit cannot pass vacuously."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.project import BIN, ROOT, env, run

WORKFLOWS = sorted(
    p.relative_to(ROOT).as_posix() for p in (ROOT / ".github/workflows").glob("*.y*ml")
)
CANARY = Path(__file__).parent / "canary" / "unsafe.yml"


def _actionlint(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "actionlint"), "-verbose", "-no-color"],
        cwd=repo,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )


def _zizmor(repo: Path) -> subprocess.CompletedProcess[str]:
    """zizmor on the repository's workflow folder only (not the test stand-ins)."""
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--format", "json", ".github/workflows"],
        cwd=repo,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def canary_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("canary")
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(CANARY, repo / ".github" / "workflows" / "unsafe.yml")
    run(repo, "git", "init", "-q")
    return repo


def test_actionlint_is_clean_and_audited_every_workflow():
    result = _actionlint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    log = result.stderr
    for wf in WORKFLOWS:
        assert f"Linting {wf}" in log, f"actionlint did not lint {wf}"
    assert 'Rule "shellcheck" was disabled' not in log, "shellcheck must be installed"


def test_zizmor_offline_is_clean_and_audited_every_workflow():
    result = _zizmor(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []
    for wf in WORKFLOWS:
        assert f"completed {wf}" in result.stderr, f"zizmor did not audit {wf}"


def test_actionlint_flags_the_canary(canary_repo):
    result = _actionlint(canary_repo)
    assert result.returncode != 0
    assert "github.event.pull_request.title" in result.stdout  # untrusted input in run
    assert "SC2086" in result.stdout  # shellcheck ran


def test_zizmor_flags_the_canary(canary_repo):
    result = _zizmor(canary_repo)
    findings = {f["ident"] for f in json.loads(result.stdout)}
    assert result.returncode != 0
    assert {"template-injection", "unpinned-uses", "dangerous-triggers"} <= findings, findings
