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


# The event's `before` when a push created the branch (GitHub's push webhook payload).
NO_COMMIT = "0" * 40


def resolve(ref: str) -> str:
    """The full SHA of the commit ``ref`` names: a tag, a branch (local or ``origin/<ref>``,
    which is how actions/checkout leaves the other branches) or a commit SHA of any length.

    actions/checkout's `ref` input takes a full SHA, a branch or a tag only: anything else,
    an abbreviated SHA included, is looked up as a branch or tag name and fails with "A
    branch or tag with the name '<ref>' could not be found" (actions/checkout v7.0.1
    src/input-helper.ts: only ``^[0-9a-fA-F]{40}$`` or 64 hex digits is a commit;
    src/ref-helper.ts getCheckoutInfo). A full-history checkout plus this accepts what
    people copy from GitHub's pages: the seven-digit short SHA.
    """
    errors = []
    for candidate in (ref, f"origin/{ref}", f"refs/tags/{ref}"):
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0:
            return proc.stdout.strip()
        if proc.stderr.strip():
            errors.append(proc.stderr.strip())  # e.g. "short object ID ... is ambiguous"
    detail = f" (git: {'; '.join(errors)})" if errors else ""
    raise ValueError(
        f"ref {ref!r} names no commit in this repository: it is not a tag, a branch "
        f"(origin/{ref}) or a commit SHA (full or abbreviated, at least 4 hex digits) in the "
        "history of any branch or tag. A commit that only a deleted branch held cannot be "
        f"rebuilt{detail}"
    )


def check_out(ref: str) -> str:
    """Detach HEAD at the commit ``ref`` names (see ``resolve``); its full SHA."""
    sha = resolve(ref)
    git("checkout", "--quiet", "--detach", sha)
    return sha
