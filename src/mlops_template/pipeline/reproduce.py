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
from pathlib import Path

log = logging.getLogger(__name__)


def _dvc(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    log.info("$ dvc %s", " ".join(args))
    proc = subprocess.run(["dvc", *args], text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} exited {proc.returncode}")
    return proc


def remotes(cwd: Path | None = None) -> list[str]:
    """The DVC remotes configured in the project at ``cwd`` (default: the current one)."""
    proc = subprocess.run(
        ["dvc", "remote", "list"], cwd=cwd, capture_output=True, text=True, check=True
    )
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def reproduce(push: bool = False, extra: Sequence[str] = (), remote_optional: bool = False) -> None:
    """``dvc repro`` (with ``--pull`` and the run-cache when a remote exists); optional push.

    A configured remote that cannot be reached is an error (wrong or missing credentials
    would otherwise retrain silently and, in the merge workflow, skip ``dvc push``), except
    with ``remote_optional``: pr.yml sets it for pull requests from forks, which get no
    secrets and reproduce from the repository's data instead.
    """
    if not remotes():
        log.info("no DVC remote configured: reproducing from the data in the repository")
        _dvc("repro", *extra)
        return
    pulled = _dvc("pull", "--run-cache", "--allow-missing", check=False)
    if pulled.returncode != 0:
        if not remote_optional:
            raise RuntimeError(
                f"the DVC remote is configured but `dvc pull` failed (exit {pulled.returncode}; "
                "dvc's message is above): check the repository secrets for its storage "
                "(AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS_JSON "
                "or AZURE_STORAGE_CONNECTION_STRING; see README, 'Your own data in a DVC "
                "remote') and that the remote's extra is in uv.lock"
            )
        log.warning(
            "dvc pull failed and the remote is optional here (a fork's pull request sees no "
            "secrets): reproducing from the data in the repository"
        )
        _dvc("repro", *extra)
        return
    _dvc("repro", "--pull", *extra)
    if push:
        _dvc("push", "--run-cache")
