"""Which machine runs the workflows is decided in one place: the repository variable RUNNER
(docs/scale-out.md). Every job of every workflow reads it, so a bigger runner (a GitHub
larger runner, an actions-runner-controller scale set, a self-hosted label) is one setting."""

from __future__ import annotations

import subprocess

import yaml

from tests.project import BIN, ROOT, env

RUNS_ON = "${{ vars.RUNNER || 'ubuntu-latest' }}"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))


def test_every_job_runs_on_the_one_variable():
    jobs = {
        f"{path.name} {name}": job.get("runs-on")
        for path in WORKFLOWS
        for name, job in yaml.safe_load(path.read_text())["jobs"].items()
    }
    assert len(jobs) >= 8  # pr 2, cd 2, ct 2, audit 1, canary 2
    assert {where: r for where, r in jobs.items() if r != RUNS_ON} == {}


def test_act_reads_the_variable_when_it_picks_a_platform(tmp_path):
    """act evaluates runs-on against `--var`: with RUNNER set it asks for that platform, so
    the tests' `-P ubuntu-latest=-self-hosted` applies exactly when RUNNER is unset, as
    GitHub falls back to ubuntu-latest (a dry run: nothing is executed)."""
    run = subprocess.run(
        [
            *(str(BIN / "act"), "-n", "workflow_dispatch", "-W", ".github/workflows/audit.yml"),
            *("-P", "ubuntu-latest=-self-hosted", "--var", "RUNNER=gpu-box"),
        ],
        cwd=ROOT,
        env={**env(), "XDG_CACHE_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Skipping unsupported platform -- Try running with `-P gpu-box=...`" in (
        run.stdout + run.stderr
    )
