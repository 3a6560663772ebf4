"""The engine's one way to run git: ``run`` (the command, its exit code and git's stderr in
the error when it fails), and what the gate, the report, the merge workflow and the
retraining PR ask of git through it: files as they are at another revision (the base branch
of a pull request), commits by name or SHA, fetching a base by SHA, checking a ref out.
No other module runs git itself (engine/tests/repo/test_layers.py)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class GitError(RuntimeError):
    """git failed: the command, its exit code and what git said."""

    def __init__(self, args: tuple[str, ...], returncode: int, stderr: str) -> None:
        self.args_, self.returncode, self.stderr = args, returncode, stderr
        super().__init__(f"git {' '.join(args)} failed (exit {returncode}): {stderr}")


def run(
    *args: str,
    check: bool = True,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``git *args`` with its output captured; ``check``: a non-zero exit raises GitError."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.strip())
    return proc


def read_at(ref: str, path: str) -> str | None:
    """Text of ``path`` at ``ref``, or None when the file does not exist there."""
    proc = run("show", f"{ref}:{path}", check=False)
    if proc.returncode == 0:
        return proc.stdout
    if "does not exist" in proc.stderr or "exists on disk, but not in" in proc.stderr:
        return None
    raise ValueError(f"cannot read {path} at {ref}: {proc.stderr.strip()}")


def json_at(ref: str, path: str) -> Any | None:
    text = read_at(ref, path)
    return None if text is None else json.loads(text)


def commit_of(ref: str = "HEAD") -> str:
    proc = run("rev-parse", ref, check=False)
    if proc.returncode != 0:
        raise ValueError(f"unknown git revision {ref!r}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def exists(ref: str) -> bool:
    """Does ``ref`` name a commit here? False for e.g. ``HEAD~1`` in a one-commit repository
    (a repository made with "Use this template"); an error when git itself fails."""
    proc = run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if proc.returncode in (0, 1):
        return proc.returncode == 0
    raise ValueError(f"git cannot resolve {ref!r}: {proc.stderr.strip()}")


# The event's `before` when a push created the branch (GitHub's push webhook payload).
NO_COMMIT = "0" * 40
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")


class MissingCommit(ValueError):
    """A base named by its full SHA that neither the checkout nor origin has."""


def have(ref: str) -> bool:
    """Is ``ref`` a commit here, once fetched from origin by SHA if it has to be?

    actions/checkout (even with fetch-depth 0) fetches branches and tags only. After a force
    push to main, the push event's `before` is in none of them, yet GitHub still serves the
    commit by its SHA (`git fetch origin <sha>`) until it is garbage-collected: a full SHA
    missing here is fetched. When origin cannot give it either, that is ``MissingCommit``,
    never "no base": a gate that silently falls back to its floor after a force push
    would pass a regression. False (no base) only for ``NO_COMMIT`` (the push created the
    branch) and for a name that resolves to nothing here (``HEAD~1`` of a one-commit
    repository, a repository made with "Use this template").
    """
    if ref == NO_COMMIT:
        return False
    if exists(ref):
        return True
    if not _FULL_SHA.fullmatch(ref):
        return False
    fetched = _fetch_by_sha(ref)
    if exists(ref):
        return True
    raise MissingCommit(
        f"commit {ref}, the base to compare with, is not in this checkout and origin did not "
        f"serve it ({fetched}). After a force push the push event's `before` is in no branch; "
        "GitHub serves it by SHA until it is garbage-collected, and this one is gone (or the "
        "fetch was not allowed: in a private repository the step needs GITHUB_TOKEN). "
        "Nothing was compared, so this stops instead of passing the gate unchecked. To check "
        "the pushed commit against its parent instead, run the workflow by hand (cd.yml: "
        "Run workflow, `ref` = the pushed commit)."
    )


def _fetch_by_sha(sha: str) -> str:
    """`git fetch origin <sha>`; with $GITHUB_TOKEN, authenticated the way actions/checkout
    authenticates its own fetch (src/git-auth-helper.ts: the extraheader "AUTHORIZATION:
    basic base64(x-access-token:<token>)" for the server's URL), since workflows check out
    with persist-credentials: false. What git said, for the error."""
    args = ["fetch", "--quiet", "--no-tags", "origin", sha]
    token = os.environ.get("GITHUB_TOKEN")
    if token:
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        args = ["-c", f"http.{server}/.extraheader=AUTHORIZATION: basic {basic}", *args]
    proc = run(*args, check=False)
    return (proc.stderr.strip().splitlines() or ["git fetch said nothing"])[-1]


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
        proc = run("rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}", check=False)
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
    run("checkout", "--quiet", "--detach", sha)
    return sha
