"""`make rename-package NAME=...` renames the project's package without touching the engine:
the folder, its imports, dvc.yaml's deps, pyproject's name and entry point, then the lock;
the engine then finds the project under its new name (mlops_engine.project)."""

from __future__ import annotations

import shutil
import subprocess
import zipfile

import pytest

from mlops_engine.onboarding.rename import rename
from tests.project import BIN, ROOT, clone, run, uv_path

OWNED = ("pyproject.toml", "dvc.yaml", "README.md", "Makefile", "src", "tests")


def _owned_copy(dest):
    for name in OWNED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def test_every_reference_moves_and_the_engine_is_untouched(tmp_path):
    project = _owned_copy(tmp_path)
    done = rename(project, "bike_demand")
    assert done.old == "tabular_project"
    assert not (project / "src" / "tabular_project").exists()
    assert (project / "src" / "bike_demand" / "features.py").exists()
    left = subprocess.run(
        ["grep", "-rIl", "--exclude-dir=__pycache__", "tabular_project", *OWNED],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert left == [], f"still naming the old package: {left}"
    pyproject = (project / "pyproject.toml").read_text()
    assert 'name = "bike-demand"' in pyproject and 'hooks = "bike_demand"' in pyproject
    assert "src/bike_demand" in (project / "dvc.yaml").read_text()
    assert rename(project, "bike_demand").files == (), "a second run changes nothing"


@pytest.mark.parametrize(
    ("name", "why"),
    [("Bike", "lowercase"), ("class", "lowercase Python identifier"), ("pandas", "already")],
)
def test_a_bad_name_is_refused_and_nothing_moves(tmp_path, name, why):
    project = _owned_copy(tmp_path)
    with pytest.raises(ValueError, match=why):
        rename(project, name)
    assert (project / "src" / "tabular_project").is_dir()


@pytest.mark.slow  # a clone, uv lock and uv build: ~10 s
def test_the_renamed_project_locks_and_builds_a_wheel_the_engine_finds(tmp_path):
    """In a clone: the rename, `uv lock` (what the make target runs next) and the project's
    wheel, whose entry point (what mlops_engine.project reads) names the new package."""
    project = clone(tmp_path / "p")
    run(project, str(BIN / "mlops"), "rename-package", "bike_demand")
    uv = uv_path()
    run(project, uv, "lock", "--offline", "--quiet")
    lock = (project / "uv.lock").read_text()
    assert 'name = "bike-demand"' in lock and "tabular-project" not in lock
    run(project, uv, "build", "--wheel", "--out-dir", "dist", "--quiet", "--offline")
    (wheel,) = (project / "dist").glob("bike_demand-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "hooks = bike_demand" in z.read(points).decode()
    assert "bike_demand/features.py" in names and not any("tabular_project" in n for n in names)
