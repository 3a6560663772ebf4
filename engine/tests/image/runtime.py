"""A container runtime for the image tests, provisioned the way a new user of a Debian machine
with no Docker engine and no Docker Hub would (tests only; cd.yml keeps Docker on GitHub).

- podman and runc from Debian (``apt-get install podman runc mmdebstrap``, as root; done once
  when missing). Debian 12's default runtime crun, and podman's default ulimits, fail here
  on ``setrlimit`` and on the host's hybrid cgroups, so podman runs with the tests' own
  ``containers.conf`` (``CONTAINERS_CONF``, never /etc): ``runtime = "runc"`` and ulimits
  that fit under this host's hard limits.
- The base image the Bento's Dockerfile names (``FROM python:3.13-slim``) is never pulled:
  a stand-in with that name is built with ``mmdebstrap --variant=minbase`` from Debian
  trixie, which ships Python 3.13 as python:3.13-slim does (Debian trixie with Python 3.13;
  the official image builds its own CPython, the stand-in has Debian's), plus ``passwd``
  (useradd, which the Dockerfile runs), without docs, manuals and locales as Debian's slim
  images, ``uv`` (the Dockerfile runs
  ``command -v uv || pip install uv``; the stand-in has no pip) and this host's extra CA
  certificates (HTTPS is intercepted here; ``UV_NATIVE_TLS`` makes uv trust them), so the
  build reaches PyPI from inside. It is built only when absent from podman's store.

``problem()`` says exactly why no runtime works (the image tests then skip with it);
``python -m tests.image.runtime`` provisions (.ci/run runs it beside the suite).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

STATE = Path(os.environ.get("MLOPS_IMAGE_STATE", "/var/tmp/mlops-image-tests"))
CONF = STATE / "containers.conf"
BASE = "python:3.13-slim"  # what the Bento's Dockerfile names (serving/image.py)
SUITE = "trixie"  # Debian's release with Python 3.13, as python:3.13-slim
PACKAGES = ("podman", "runc", "mmdebstrap", "uidmap")
CA_DIR = Path("/usr/local/share/ca-certificates")


def env() -> dict[str, str]:
    """What every podman call (and bentoml containerize's) needs: the tests' config."""
    return {**os.environ, "CONTAINERS_CONF": str(CONF)}


def podman(*args: str, check: bool = True, timeout: float = 600, **kw):
    return subprocess.run(
        ["podman", *args],
        env=env(),
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


class NoRuntime(Exception):
    """No container runtime can work on this machine (the image tests skip, saying why)."""


def install_packages() -> str | None:
    """apt-get install what is missing (root only); None, or why it cannot be done here.
    A failing apt-get as root is an error, not a reason to skip."""
    missing = [p for p in ("podman", "runc", "mmdebstrap") if shutil.which(p) is None]
    if not missing:
        return None
    if shutil.which("apt-get") is None:
        return f"{', '.join(missing)} not installed and no apt-get to install them"
    if os.geteuid() != 0:
        return f"{', '.join(missing)} not installed, and installing needs root"
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
    quiet = {"env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, "capture_output": True}
    done = subprocess.run(install, check=False, text=True, **quiet)
    if done.returncode != 0:  # a fresh machine may have no package lists yet
        subprocess.run(["apt-get", "update", "-q"], check=False, **quiet)
        done = subprocess.run(install, check=False, text=True, **quiet)
    if done.returncode != 0:
        raise RuntimeError(f"apt-get install {' '.join(PACKAGES)} failed:\n{done.stderr[-1500:]}")
    return None


def write_conf() -> None:
    """runc, and default ulimits no higher than this host's hard limit (podman's default
    nofile of 1048576 fails setrlimit where the hard limit is lower)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = hard if hard != resource.RLIM_INFINITY else 1048576
    STATE.mkdir(parents=True, exist_ok=True)
    text = (
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc=32768:32768"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )
    if not CONF.exists() or CONF.read_text() != text:
        tmp = CONF.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(CONF)


def has_image(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def build_base() -> None:
    """The stand-in for ``python:3.13-slim`` (see the module's docstring), once."""
    if has_image(BASE):
        return
    uv = os.environ.get("UV") or shutil.which("uv") or str(_root() / ".tools" / "bin" / "uv")
    certs = sorted(CA_DIR.glob("*.crt")) if CA_DIR.is_dir() else []
    with tempfile.TemporaryDirectory(prefix="standin-base-") as tmp:
        work = Path(tmp)
        for cert in certs:
            shutil.copy(cert, work / cert.name)
        shutil.copy(uv, work / "uv")
        copied = " ".join(str(work / c.name) for c in certs)
        hooks = [
            f"copy-in {copied} {CA_DIR}/" if certs else None,
            f"copy-in {work / 'uv'} /usr/local/bin/",
        ]
        cmd = [
            "mmdebstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates,passwd",
            "--format=tar",
            # what Debian's slim images (debian:trixie-slim, python:3.13-slim's base) leave out
            *(
                f"--dpkgopt=path-exclude=/usr/share/{d}/*"
                for d in ("doc", "info", "locale", "man", "groff", "linda", "lintian")
            ),
            "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            *(f"--customize-hook={h}" for h in hooks if h),
            # the certificates in the bundle every client reads; apt lists dropped (slim)
            '--customize-hook=chroot "$1" update-ca-certificates',
            '--customize-hook=rm -rf "$1"/var/lib/apt/lists/*',
            SUITE,
            str(work / "rootfs.tar"),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"mmdebstrap failed ({done.returncode}):\n{done.stderr[-3000:]}")
        podman(
            "import",
            "--change",
            "ENV=PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            "ENV=UV_NATIVE_TLS=1",
            "--change",
            'CMD=["python3"]',
            str(work / "rootfs.tar"),
            BASE,
        )


def _root() -> Path:
    return Path(__file__).resolve().parents[3]


def provision() -> str | None:
    """Everything the image tests need; None when ready, else why not (a skip reason)."""
    reason = install_packages()
    if reason:
        return reason
    write_conf()
    works = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
    if works.returncode != 0:
        return f"podman does not work here: {works.stderr.strip()[-1500:]}"
    build_base()
    return None


def ensure() -> None:
    """``provision``, raising ``NoRuntime`` with its reason."""
    why = provision()
    if why:
        raise NoRuntime(why)


if __name__ == "__main__":
    why = provision()
    print(why or f"podman ready ({CONF}); {BASE} stand-in present", file=sys.stderr)
    sys.exit(1 if why else 0)
