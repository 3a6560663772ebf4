"""Open or update the one retraining pull request: real git for the branch, ``gh`` for the PR.

``cml pr create`` cannot do this (with a fixed branch that exists it returns the old PR
without pushing; with its default branch it opens a new PR whenever main moved), so the
logic is here: rebuild the fixed branch on top of the base, skip the commit when the
idempotency key is unchanged, push with a lease (a concurrent run that pushed first wins
and this one stops cleanly), then create the PR or edit the open one.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)
KEY_TRAILER = "Retrain-Key"
Result = Literal["created", "updated", "unchanged", "lost_race"]


@dataclass(frozen=True)
class Proposal:
    branch: str
    base: str
    title: str
    body_file: str
    key: str
    paths: Sequence[str]
    labels: Sequence[str] = ()
    remote: str = "origin"


def _git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def _gh(*args: str) -> str:
    proc = subprocess.run(["gh", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"gh {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def remote_head(p: Proposal) -> str | None:
    proc = _git("ls-remote", "--heads", p.remote, f"refs/heads/{p.branch}")
    line = proc.stdout.strip()
    return line.split()[0] if line else None


def _key_of(p: Proposal, commit: str) -> str | None:
    """The idempotency key recorded in the branch head's commit message."""
    _git("fetch", "--quiet", p.remote, f"refs/heads/{p.branch}")
    body = _git("log", "-1", "--format=%B", commit).stdout
    for line in body.splitlines():
        if line.startswith(f"{KEY_TRAILER}:"):
            return line.split(":", 1)[1].strip()
    return None


def open_pr(p: Proposal) -> int | None:
    out = _gh(
        "pr", "list", "--head", p.branch, "--base", p.base, "--state", "open", "--json", "number"
    )
    numbers = [item["number"] for item in json.loads(out or "[]")]
    return numbers[0] if numbers else None


def sync_pr(p: Proposal) -> Literal["created", "updated"]:
    number = open_pr(p)
    if number is not None:
        _gh("pr", "edit", str(number), "--title", p.title, "--body-file", p.body_file)
        log.info("propose: updated PR #%s", number)
        return "updated"
    for label in p.labels:  # `--label` fails on a label the repository does not have yet
        _gh("label", "create", label, "--force", "--description", "opened by continuous training")
    args = [
        "pr",
        "create",
        "--base",
        p.base,
        "--head",
        p.branch,
        "--title",
        p.title,
        "--body-file",
        p.body_file,
    ]
    for label in p.labels:
        args += ["--label", label]
    try:
        log.info("propose: %s", _gh(*args).strip())
    except RuntimeError as err:
        if "already exists" not in str(err):
            raise
        log.info("propose: a concurrent run opened the PR first; updating it instead")
        return sync_pr(p)
    return "created"


def propose(p: Proposal) -> Result:
    """Commit ``paths`` onto ``branch`` (rebuilt from the current checkout), push, sync the PR."""
    existing = remote_head(p)
    if existing is not None and _key_of(p, existing) == p.key:
        log.info("propose: %s already holds key %s: no new commit", p.branch, p.key)
        sync_pr(p)
        return "unchanged"
    _git("checkout", "-q", "-B", p.branch)
    _git("add", "--all", "--", *p.paths)
    message = f"{p.title}\n\n{KEY_TRAILER}: {p.key}\n"
    _git(
        "-c",
        "user.name=mlops-template-bot",
        "-c",
        "user.email=mlops-template-bot@users.noreply.github.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        message,
    )
    lease = f"--force-with-lease=refs/heads/{p.branch}:{existing or ''}"
    pushed = _git("push", "--quiet", lease, p.remote, f"HEAD:refs/heads/{p.branch}", check=False)
    if pushed.returncode != 0:
        log.warning(
            "propose: %s moved while this run worked (another run pushed first); leaving it: %s",
            p.branch,
            pushed.stderr.strip(),
        )
        return "lost_race"
    return sync_pr(p)
