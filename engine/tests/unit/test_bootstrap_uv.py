"""`make` on a machine without uv and with a Python that has no ensurepip (stock Debian or
Ubuntu without python3-venv): the Makefile bootstraps uv from its wheel on PyPI with the
standard library alone (engine/src/mlops_engine/bootstrap_uv.py), checking the pinned sha256.

The Python here is a real one made as Debian ships it: this interpreter's binary with its
standard library minus `ensurepip`, so `python3 -m venv` fails exactly as there ("Command
'[..., '-m', 'ensurepip', ...]' returned non-zero exit status 1"). The wheel comes from PyPI
(the network, as for `uv lock` in unit/canary/test_upgrade.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from mlops_engine import bootstrap_uv
from tests.project import ROOT


@pytest.fixture
def python_without_ensurepip(tmp_path) -> Path:
    """A bin/ folder whose python3 has no ensurepip (and so no working `-m venv`)."""
    exe = Path(os.path.realpath(sys._base_executable))
    paths = sysconfig.get_paths(vars={"installed_base": sys.base_prefix, "base": sys.base_prefix})
    stdlib = Path(paths["stdlib"])
    root = tmp_path / "debian-python"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(exe, root / "bin" / "python3")  # a copy: its prefix is `root`, not the original's
    lib = root / "lib" / stdlib.name
    lib.mkdir(parents=True)
    for entry in stdlib.iterdir():
        if entry.name not in ("ensurepip", "site-packages"):
            (lib / entry.name).symlink_to(entry)
    return root / "bin"


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "engine" / "src" / "mlops_engine").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", project)
    for name in ("bootstrap_uv.py", "credentials.py"):  # what the Makefile runs before uv
        shutil.copy(
            ROOT / "engine" / "src" / "mlops_engine" / name,
            project / "engine" / "src" / "mlops_engine",
        )
    return project


def test_make_bootstraps_uv_where_python_has_no_venv(tmp_path, python_without_ensurepip):
    bare_env = {
        "PATH": f"{python_without_ensurepip}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
        **{k: v for k, v in os.environ.items() if k in bootstrap_uv.CA_VARIABLES},
    }
    assert shutil.which("uv", path=bare_env["PATH"]) is None, "no uv on this machine"
    venv = subprocess.run(
        ["python3", "-m", "venv", str(tmp_path / "v")],
        env=bare_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert venv.returncode != 0 and "ensurepip" in venv.stdout + venv.stderr, "as on Debian"

    project = _project(tmp_path)
    uv = project / ".tools" / "bin" / "uv"
    made = subprocess.run(
        ["make", str(uv)], cwd=project, env=bare_env, capture_output=True, text=True, check=False
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert "sha256 checked" in made.stdout
    version = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith(f"uv {bootstrap_uv.VERSION} ")
    assert (project / ".tools" / "bin" / "uvx").exists()


def test_the_pins_follow_the_makefile_and_a_changed_wheel_is_refused(tmp_path, monkeypatch):
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^UV_VERSION := (\S+)$", makefile, re.M).group(1) == bootstrap_uv.VERSION
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        for pinned in re.findall(r'version: "(\d+\.\d+\.\d+)"', workflow.read_text()):
            assert pinned == bootstrap_uv.VERSION, workflow.name
    machine = bootstrap_uv.this_machine()
    name, _ = bootstrap_uv.WHEELS[machine]
    monkeypatch.setitem(bootstrap_uv.WHEELS, machine, (name, "0" * 64))
    with pytest.raises(bootstrap_uv.BootstrapError, match=r"sha256 [0-9a-f]{64}, expected 0{64}"):
        bootstrap_uv.install(bootstrap_uv.VERSION, tmp_path / "bin")
    assert not (tmp_path / "bin" / "uv").exists(), "nothing unpacked"
    with pytest.raises(bootstrap_uv.BootstrapError, match=r"no pinned wheel hashes for uv 9\.9\.9"):
        bootstrap_uv.install("9.9.9", tmp_path / "bin")
