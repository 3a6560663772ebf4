"""One Python, declared once in `.python-version`: `make install`, every workflow and the
Bento image must run that version, and nothing may name another.

How each place gets it (docs/dependencies.md):
- `make install` runs `uv sync` with no `--python`, and uv reads `.python-version`;
- the workflows run `make install` after astral-sh/setup-uv without its `python-version`
  input (that input only exports UV_PYTHON, which would override the file), so on GitHub uv
  reads the same file and installs that version if the runner lacks it;
- the Bento image: `[tool.bentoml.build.docker] python_version` in pyproject.toml, which
  BentoML cannot read from a file, so it is compared here.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from tests.project import ROOT, env
from tests.workflows.act import uv_bin_dir

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
PYTHON_FLAG = re.compile(r"--python[ =]+[\"']?([^\s\"']+)")


def declared(root: Path = ROOT) -> str:
    text = (root / ".python-version").read_text().strip()
    if not re.fullmatch(r"3\.\d+", text):
        raise ValueError(f".python-version: {text!r} is not a minor version such as 3.13")
    return text


def _env_pythons(where: str, block: dict | None) -> list[tuple[str, str]]:
    values = [str(v) for k, v in (block or {}).items() if k == "UV_PYTHON"]
    return [(f"{where} env UV_PYTHON", v) for v in values]


def named_pythons(path: Path) -> list[tuple[str, str]]:
    """Every Python version a workflow names: (where, version)."""
    doc = yaml.safe_load(path.read_text())
    found = _env_pythons(path.name, doc.get("env"))
    for job_name, job in doc.get("jobs", {}).items():
        where = f"{path.name} job {job_name}"
        found += _env_pythons(where, job.get("env"))
        for i, step in enumerate(job.get("steps", [])):
            at = f"{where} step {step.get('name') or step.get('uses') or i}"
            found += _env_pythons(at, step.get("env"))
            inputs = step.get("with") or {}
            uses = step.get("uses", "")
            if uses.startswith(("astral-sh/setup-uv@", "actions/setup-python@")):
                if "python-version" in inputs:
                    found.append((f"{at} python-version", str(inputs["python-version"])))
                if "python-version-file" in inputs:
                    found.append((f"{at} python-version-file", str(inputs["python-version-file"])))
            if "uv " in str(step.get("run", "")) or "uvx " in str(step.get("run", "")):
                found += [(f"{at} run --python", v) for v in PYTHON_FLAG.findall(step["run"])]
    return found


def disagreements(path: Path, version: str) -> list[str]:
    return [
        f"{where}: {value!r}, but .python-version declares {version}"
        for where, value in named_pythons(path)
        if value not in (version, ".python-version")
    ]


def test_the_declared_version_is_supported_by_the_project():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"{declared()}.0" in SpecifierSet(project["requires-python"])


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_workflow_names_another_python(path):
    assert disagreements(path, declared()) == []


def test_the_check_catches_a_workflow_naming_another_python(tmp_path):
    wf = tmp_path / "w.yml"
    wf.write_text(
        yaml.safe_dump(
            {
                "env": {"UV_PYTHON": "3.11"},
                "jobs": {
                    "a": {
                        "steps": [
                            {"uses": "astral-sh/setup-uv@x", "with": {"python-version": "3.12"}},
                            {"uses": "actions/setup-python@x", "with": {"python-version": "3.10"}},
                            {"run": "uv run --python 3.9 pytest"},
                            {"run": "uv sync --python=3.14"},
                            {"uses": "astral-sh/setup-uv@x", "with": {"python-version": "3.13"}},
                        ]
                    }
                },
            }
        )
    )
    found = disagreements(wf, "3.13")
    assert [f.split(": ")[-1].split(",")[0] for f in found] == [
        "'3.11'",
        "'3.12'",
        "'3.10'",
        "'3.9'",
        "'3.14'",
    ], found


def test_the_bento_image_runs_the_declared_python():
    docker = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["bentoml"]["build"]
    assert docker["docker"]["python_version"] == declared()


def test_make_install_names_no_python_of_its_own():
    """`uv sync` without `--python` or UV_PYTHON: uv then takes `.python-version`."""
    recipe = subprocess.run(
        ["make", "-n", "-B", "install"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "sync --frozen" in recipe
    assert "--python" not in recipe and "UV_PYTHON" not in recipe, recipe
    assert "UV_PYTHON" not in (ROOT / "Makefile").read_text()


def test_uv_picks_the_declared_python_for_this_project():
    """What `make install` gets: the interpreter uv chooses here, with UV_PYTHON unset."""
    run_env = {k: v for k, v in env().items() if k != "UV_PYTHON"}
    found = subprocess.run(
        [str(Path(uv_bin_dir()) / "uv"), "python", "find"],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    version = subprocess.run(
        [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == declared()


WINDOWS_ONLY = {"pywin32"}  # locked for Windows users; never installed on Linux


def _linux_wheel_missing(package: dict, minor: int) -> bool:
    """True when no wheel in uv.lock installs on CPython 3.<minor>, Linux x86_64."""
    names = [w["url"].rsplit("/", 1)[-1] for w in package.get("wheels", [])]
    if not names:
        return False  # source-only packages in this lock are pure Python
    return not any(
        n.endswith("-none-any.whl")
        or ("x86_64" in n and "manylinux" in n and ("-abi3-" in n or "py3-none-" in n))
        or ("x86_64" in n and "manylinux" in n and f"-cp3{minor}-cp3{minor}-" in n)
        for n in names
    )


def _applies(package: dict, minor: int) -> bool:
    """Whether this locked version is the one Linux gets on 3.<minor> (numpy etc. fork)."""
    from packaging.markers import Marker

    markers = package.get("resolution-markers")
    where = {"python_full_version": f"3.{minor}.0", "python_version": f"3.{minor}"}
    where |= {"sys_platform": "linux", "platform_system": "Linux"}
    return not markers or any(Marker(m).evaluate(where) for m in markers)


def test_every_locked_package_has_a_wheel_for_every_allowed_python():
    """The one check 3.14 gets here (no 3.14 interpreter on these machines): nothing in
    uv.lock needs building from source on Linux x86_64, on 3.14 or on 3.11-3.13."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    allowed = SpecifierSet(lock["requires-python"].replace(" ", ""))
    minors = [m for m in range(11, 20) if f"3.{m}.0" in allowed]
    assert minors == [11, 12, 13, 14]
    missing = {
        (p["name"], p["version"], f"3.{m}")
        for p in lock["package"]
        for m in minors
        if p["name"] not in WINDOWS_ONLY and _applies(p, m) and _linux_wheel_missing(p, m)
    }
    assert missing == set()
