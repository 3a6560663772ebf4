"""Reproduce the pipeline the way CI should: restore from a DVC remote when there is one.

With a remote (configured by the template's user, credentials from CI secrets), pulled
data and the run-cache let unchanged stages be restored instead of recomputed. Without one
(a fresh clone of the template, or a fork's pull request that sees no secrets) everything
is recomputed from the data in the repository.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence

log = logging.getLogger(__name__)


def _dvc(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    log.info("$ dvc %s", " ".join(args))
    proc = subprocess.run(["dvc", *args], text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} exited {proc.returncode}")
    return proc


def remotes() -> list[str]:
    proc = subprocess.run(["dvc", "remote", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def reproduce(push: bool = False, extra: Sequence[str] = ()) -> None:
    """``dvc repro`` (with ``--pull`` and the run-cache when a remote exists); optional push."""
    if not remotes():
        log.info("no DVC remote configured: reproducing from the data in the repository")
        _dvc("repro", *extra)
        return
    if _dvc("pull", "--run-cache", "--allow-missing", check=False).returncode != 0:
        log.warning("dvc pull failed (no credentials on a fork?): continuing without the remote")
        _dvc("repro", *extra)
        return
    _dvc("repro", "--pull", *extra)
    if push:
        _dvc("push", "--run-cache")
