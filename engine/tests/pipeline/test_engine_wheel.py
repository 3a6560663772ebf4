"""The engine as a release would ship it: its wheel and the project's, built with `uv build`,
installed in a clean environment (no workspace, no editable install, the locked versions of
their dependencies), then the project's pipeline and its own tests run on it. What a project
that takes mlops-engine from PyPI runs; the workspace's editable install could hide a file
the wheel leaves out (a template, a stand-in, package data)."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from tests.project import ROOT, clone, lock_outs, run, uv_path

pytestmark = pytest.mark.slow


def test_the_built_wheels_run_the_pipeline_and_the_projects_tests(tmp_path):
    project = clone(tmp_path / "project")
    shutil.rmtree(project / "reports")  # every stage runs (no committed metrics to reuse)
    uv = uv_path()
    dist = tmp_path / "dist"
    run(project, uv, "build", "--all-packages", "--wheel", "--out-dir", str(dist), "--quiet")
    wheels = sorted(p.name.split("-")[0] for p in dist.glob("*.whl"))
    assert wheels == ["mlops_engine", "tabular_project"], wheels
    requirements = tmp_path / "requirements.txt"
    run(
        project,
        uv,
        "export",
        "--frozen",
        "--no-hashes",
        "--no-emit-workspace",
        "--no-emit-project",
        "--no-dev",
        "--extra",
        "s3",
        "--output-file",
        str(requirements),
        "--quiet",
    )
    venv = tmp_path / "venv"
    python = str(venv / "bin" / "python")
    run(tmp_path, uv, "venv", "--quiet", "--python", sys.executable, str(venv))
    run(tmp_path, uv, "pip", "install", "--quiet", "--python", python, "-r", str(requirements))
    pytest_version = next(
        line.split("==")[1]
        for line in run(
            project, uv, "export", "--frozen", "--no-hashes", "--only-dev"
        ).stdout.split()
        if line.startswith("pytest==")
    )
    run(tmp_path, uv, "pip", "install", "--quiet", "--python", python, f"pytest=={pytest_version}")
    run(
        tmp_path,
        uv,
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--python",
        python,
        *map(str, dist.glob("*.whl")),
    )
    env = {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    where = run(
        project,
        python,
        "-c",
        "import mlops_engine, tabular_project as p; "
        "print(mlops_engine.__file__); print(p.__file__)",
        extra_env=env,
    ).stdout.split()
    assert all(str(venv) in w for w in where), f"not the wheels' code: {where}"

    repro = run(project, str(venv / "bin" / "dvc"), "repro", extra_env=env, timeout=900)
    assert lock_outs(project) == lock_outs(ROOT), "the wheels reproduce dvc.lock\n" + repro.stdout
    tests = run(
        project,
        python,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests",
        extra_env=env,
        check=False,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
