"""Bootstrap uv (the Makefile's ``.tools/bin/uv``) with nothing but a Python 3 standard
library: no venv, no ensurepip, no pip.

``python3 -m venv`` needs ensurepip, which Debian and Ubuntu ship apart (``python3-venv``):
on a stock system it fails, while the README promises git, make and any Python 3. uv's
wheel on PyPI holds uv's standalone binary (``uv-X.Y.Z.data/scripts/uv``), and a wheel is
a zip: this script finds the wheel for this machine in PyPI's simple index (the JSON form,
PEP 691), downloads it with urllib, checks its sha256 against the pin below (the wheel is
code that runs: a changed file is refused, not installed) and unpacks ``uv`` and ``uvx``
into the destination folder.

TLS: the CA bundle pip and requests would use, when named (``SSL_CERT_FILE``,
``REQUESTS_CA_BUNDLE``, ``PIP_CERT``, ``CURL_CA_BUNDLE``, the first that exists), else the
system's store (Python's default context). The index: ``PIP_INDEX_URL`` when set (a
mirror of PyPI), else https://pypi.org/simple.

Standard library only, run as ``python3 -I engine/src/mlops_engine/bootstrap_uv.py --version V
--dest DIR``. ``WHEELS`` pins the Makefile's ``UV_VERSION``
(tests/unit/test_bootstrap_uv.py checks they agree); a new uv version needs its hashes here
(PyPI lists them on the release's "Download files" page).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import ssl
import stat
import sys
import urllib.request
import zipfile
from pathlib import Path

VERSION = "0.13.9"
# (system, machine, libc) -> (wheel file name, sha256): uv 0.13.9's wheels on PyPI.
WHEELS = {
    ("linux", "x86_64", "glibc"): (
        "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
    ),
    ("linux", "aarch64", "glibc"): (
        "uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
        "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe",
    ),
    ("linux", "aarch64", "musl"): (
        "uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
        "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe",
    ),
    ("linux", "x86_64", "musl"): (
        "uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl",
        "2c45530751517d6c3bbc69a19473f6effe47cce047bede01ffd8af7ea7b36b25",
    ),
    ("darwin", "x86_64", ""): (
        "uv-0.13.9-py3-none-macosx_10_12_x86_64.whl",
        "c16ed11e013557536b3e60065f1b912f6407bd6518e041b961e23ef9e6b4fbf5",
    ),
    ("darwin", "arm64", ""): (
        "uv-0.13.9-py3-none-macosx_11_0_arm64.whl",
        "66c512266d633bef48384a1f53003f41f2a8e7b36fe6e7fbfd3e0fd52d96fa63",
    ),
}
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "CURL_CA_BUNDLE")


class BootstrapError(RuntimeError):
    pass


def this_machine() -> tuple[str, str, str]:
    system = platform.system().lower()
    machine = {"amd64": "x86_64", "arm64": "arm64" if system == "darwin" else "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    libc = ""
    if system == "linux":
        libc = "glibc" if platform.libc_ver()[0] == "glibc" else "musl"
    return system, machine, libc


def tls_context(environ: dict[str, str] | os._Environ[str] = os.environ) -> ssl.SSLContext:
    for name in CA_VARIABLES:
        path = environ.get(name)
        if path and Path(path).is_file():
            return ssl.create_default_context(cafile=path)
    return ssl.create_default_context()


def _get(url: str, context: ssl.SSLContext, accept: str = "*/*") -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, context=context, timeout=120) as response:
            return response.read()
    except OSError as err:  # URLError, HTTPError, timeouts, TLS failures
        raise BootstrapError(f"could not download {url}: {err}") from err


def wheel_url(index: str, filename: str, context: ssl.SSLContext) -> str:
    """The URL of ``filename`` in the index's uv page (PEP 691 JSON)."""
    page = _get(f"{index.rstrip('/')}/uv/", context, "application/vnd.pypi.simple.v1+json")
    files = json.loads(page).get("files", [])
    for f in files:
        if f.get("filename") == filename:
            return urllib.request.urljoin(f"{index.rstrip('/')}/uv/", f["url"])
    raise BootstrapError(f"{filename} is not in {index}/uv/")


def install(version: str, dest: Path, index: str | None = None) -> Path:
    """Download, verify and unpack uv ``version`` into ``dest``; the uv binary's path."""
    if version != VERSION:
        raise BootstrapError(
            f"no pinned wheel hashes for uv {version} (this script pins {VERSION}): "
            "update WHEELS in engine/src/mlops_engine/bootstrap_uv.py with the Makefile's "
            "UV_VERSION"
        )
    machine = this_machine()
    if machine not in WHEELS:
        raise BootstrapError(
            f"no uv wheel pinned for {'/'.join(filter(None, machine))}: install uv yourself "
            "(https://docs.astral.sh/uv/getting-started/installation/) and put it on PATH"
        )
    filename, sha256 = WHEELS[machine]
    index = index or os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"
    context = tls_context()
    data = _get(wheel_url(index, filename, context), context)
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise BootstrapError(f"{filename}: sha256 {digest}, expected {sha256}; not installed")
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        for name in ("uv", "uvx"):
            target = dest / name
            target.write_bytes(wheel.read(f"uv-{version}.data/scripts/{name}"))
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return dest / "uv"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="download uv's pinned wheel and unpack uv")
    p.add_argument("--version", required=True, help="the Makefile's UV_VERSION")
    p.add_argument("--dest", required=True, help="folder for uv and uvx (.tools/bin)")
    a = p.parse_args(argv)
    try:
        uv = install(a.version, Path(a.dest))
    except BootstrapError as err:
        print(f"uv bootstrap: {err}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"uv bootstrap: {uv} (uv {a.version}, sha256 checked)")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
