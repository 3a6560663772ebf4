"""Reproduce the pipeline the way CI should: restore from a DVC remote when there is one.

With a remote (configured by the template's user, credentials from CI secrets), pulled
data and the run-cache let unchanged stages be restored instead of recomputed. Without one
(a fresh clone of the template, or a fork's pull request that sees no secrets) everything
is recomputed from the data in the repository.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from mlops_engine.credentials import storage_advice

log = logging.getLogger(__name__)


def _dvc(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run dvc. Without a terminal (CI) its stderr is passed through line by line and also
    kept (``.stderr``), so a failure can be told apart (storage down or credentials
    refused); on a terminal dvc keeps it, with its progress bars, and ``.stderr`` is None."""
    log.info("$ dvc %s", " ".join(args))
    if sys.stderr.isatty():
        proc = subprocess.run(["dvc", *args], text=True, check=False)
        said = None
    else:
        with subprocess.Popen(
            ["dvc", *args], stderr=subprocess.PIPE, encoding="utf-8", errors="replace"
        ) as popen:
            lines: deque[str] = deque(maxlen=2000)  # dvc's errors come last
            for line in popen.stderr:
                sys.stderr.write(line)
                lines.append(line)
        sys.stderr.flush()
        proc, said = popen, "".join(lines)
    if check and proc.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} exited {proc.returncode}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, None, said)


def remotes(cwd: Path | None = None) -> list[str]:
    """The DVC remotes configured in the project at ``cwd`` (default: the current one)."""
    return list(remote_urls(cwd))


def remote_urls(cwd: Path | None = None) -> dict[str, str]:
    """Remote name -> URL (`dvc remote list`) of the project at ``cwd``."""
    proc = subprocess.run(
        ["dvc", "remote", "list"], cwd=cwd, capture_output=True, text=True, check=True
    )
    pairs = ([*line.split(maxsplit=1), ""] for line in proc.stdout.splitlines() if line.strip())
    return {pair[0]: pair[1].split()[0] if pair[1] else "" for pair in pairs}


def reproduce(
    push: bool = False,
    extra: Sequence[str] = (),
    remote_optional: bool = False,
    lock_base: str | None = None,
) -> None:
    """``dvc repro`` (with ``--pull`` and the run-cache when a remote exists); optional push.

    A configured remote that cannot be reached is an error (wrong or missing credentials
    would otherwise retrain silently and, in the merge workflow, skip ``dvc push``), except
    with ``remote_optional``: pr.yml sets it for pull requests from forks, which get no
    secrets and reproduce from the repository's data instead.

    ``lock_base`` (pr.yml: the base branch): when `uv.lock` moved any package since then,
    every stage re-runs (``--force``), because DVC's hashes do not cover package versions
    and the run-cache would restore outputs built with the old releases
    (lock_diff.py; the report then says whether they reproduced).
    """
    if lock_base:
        from mlops_engine.lock_diff import moved_since, record

        moved = moved_since(lock_base)
        if moved is None:
            log.warning(
                "--lock-base %s: no uv.lock there (or no such revision) to compare with; "
                "stages re-run only as DVC decides",
                lock_base,
            )
        elif moved:
            log.info(
                "uv.lock moves %d package(s) since %s (%s): every stage re-runs on them",
                len(moved),
                lock_base,
                ", ".join(m.describe() for m in moved[:5]),
            )
            extra = (*extra, "--force")
        record(lock_base, moved, forced=bool(moved))
    urls = remote_urls()
    if not urls:
        log.info("no DVC remote configured: reproducing from the data in the repository")
        _dvc("repro", *extra)
        return
    pulled = _dvc("pull", "--run-cache", "--allow-missing", check=False)
    if pulled.returncode != 0:
        if not remote_optional:
            told = "; ".join(storage_advice(url, pulled.stderr) for url in urls.values())
            raise RuntimeError(
                f"the DVC remote is configured but `dvc pull` failed (exit {pulled.returncode}; "
                f"dvc's message is above): {told} (docs/pipeline.md, 'Your own data in a DVC "
                "remote')"
            )
        log.warning(
            "dvc pull failed and the remote is optional here (a fork's pull request sees no "
            "secrets): reproducing from the data in the repository"
        )
        _dvc("repro", *extra)
        return
    _dvc("repro", "--pull", *extra)
    if push:
        pushed = _dvc("push", "--run-cache", check=False)
        if pushed.returncode != 0:
            # dvc uploads each object whole and skips those the remote has: nothing pushed
            # is half there, and running the push again completes it.
            told = "; ".join(storage_advice(url, pushed.stderr) for url in urls.values())
            raise RuntimeError(
                f"`dvc push --run-cache` failed (exit {pushed.returncode}; dvc's message is "
                "above): the outputs are reproduced but not all stored. Re-run `make "
                f"repro-push` (it uploads only what the remote lacks) once fixed: {told}"
            )
