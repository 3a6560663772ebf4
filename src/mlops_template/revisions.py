"""Files as they are at another git revision (the base branch of a pull request)."""

from __future__ import annotations

import json
import subprocess
from typing import Any


def read_at(ref: str, path: str) -> str | None:
    """Text of ``path`` at ``ref``, or None when the file does not exist there."""
    proc = subprocess.run(
        ["git", "show", f"{ref}:{path}"], capture_output=True, text=True, check=False
    )
    if proc.returncode == 0:
        return proc.stdout
    if "does not exist" in proc.stderr or "exists on disk, but not in" in proc.stderr:
        return None
    raise ValueError(f"cannot read {path} at {ref}: {proc.stderr.strip()}")


def json_at(ref: str, path: str) -> Any | None:
    text = read_at(ref, path)
    return None if text is None else json.loads(text)


def commit_of(ref: str = "HEAD") -> str:
    proc = subprocess.run(["git", "rev-parse", ref], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ValueError(f"unknown git revision {ref!r}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def exists(ref: str) -> bool:
    """Does ``ref`` name a commit here? False for e.g. ``HEAD~1`` in a one-commit repository
    (a repository made with "Use this template"); an error when git itself fails."""
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode in (0, 1):
        return proc.returncode == 0
    raise ValueError(f"git cannot resolve {ref!r}: {proc.stderr.strip()}")
