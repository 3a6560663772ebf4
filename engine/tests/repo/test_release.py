"""The engine's release check (`make engine-dist`, release.yml): the wheel and sdist `uv
build` makes pass it, and it names what a broken release gets wrong: a tag that is not the
version, a dependency the wheel does not require, a template of the reports' wording left
out (package data), test files shipped."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from mlops_engine.automation.release import check
from tests.project import ROOT, run, uv_path

pytestmark = pytest.mark.slow  # uv build: ~5 s

PYPROJECT = ROOT / "engine" / "pyproject.toml"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    uv = uv_path()
    run(ROOT, uv, "build", "--package", "mlops-engine", "--out-dir", str(out), "--quiet")
    return out


def test_the_built_engine_is_ready_to_publish_under_its_tag(dist):
    import tomllib

    version = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert check(dist, PYPROJECT, f"engine-v{version}") == []
    assert check(dist, PYPROJECT, "engine-v99.0.0") == [
        f"tag 'engine-v99.0.0' is not engine-v{version} (engine/pyproject.toml)"
    ]


def test_a_wheel_missing_a_dependency_a_template_or_shipping_tests_is_refused(dist, tmp_path):
    (wheel,) = dist.glob("*.whl")
    broken = tmp_path / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(broken, "w") as out:
        for item in src.infolist():
            if item.filename.endswith("templates/model_card.md.j2"):
                continue  # package data left out of the build
            data = src.read(item)
            if item.filename.endswith("/METADATA"):
                data = b"\n".join(
                    line
                    for line in data.split(b"\n")
                    if not line.startswith(b"Requires-Dist: dvc>")
                )
            out.writestr(item, data)
        out.writestr("tests/test_x.py", "")
    shutil.copy(next(dist.glob("*.tar.gz")), tmp_path)
    problems = check(tmp_path, PYPROJECT)
    assert any("Requires-Dist lacks dvc" in p for p in problems), problems
    assert any("ships the engine's tests" in p for p in problems), problems
    assert any("no mlops_engine/templates/model_card.md.j2" in p for p in problems), problems
