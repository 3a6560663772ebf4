"""Open or update the one retraining pull request: real git for the branch, ``gh`` for the PR.

``cml pr create`` cannot do this (with a fixed branch that exists it returns the old PR
without pushing; with its default branch it opens a new PR whenever main moved), so the
logic is here: rebuild the fixed branch on top of the base, skip the commit when the
idempotency key is unchanged, push with a lease (a concurrent run that pushed first wins
and this one stops cleanly), then create the PR or edit the open one.

Two outcomes are told apart from plain failures because the right reaction differs:

- A push the lease refused is a lost race, not an error: the other run's branch is as good
  as ours. Every other push failure (no permission, a token that may not touch workflow
  files, a protected branch, a hook) raises ``PushFailed`` naming the cause, because the
  proposal did not reach GitHub.
- ``gh pr create`` refused because the repository does not allow GitHub Actions to create
  pull requests (a new repository's default) returns ``not_permitted``: the branch is
  pushed, a human can open the PR from it, and the command decides how loud to be.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from mlops_engine import gh, git

log = logging.getLogger(__name__)
KEY_TRAILER = "Retrain-Key"
Result = Literal["created", "updated", "unchanged", "lost_race", "not_permitted"]

# GitHub's refusal when the repository setting "Allow GitHub Actions to create and approve
# pull requests" is off and `gh pr create` runs with GITHUB_TOKEN. gh prints it as
# "pull request create failed: GraphQL: <message> (createPullRequest)" (cli/cli
# pkg/cmd/pr/create/create.go submitPR; cli/go-gh pkg/api/errors.go GraphQLError.Error);
# seen verbatim in e.g. microsoft/AL-Go#159 and peter-evans/create-pull-request#1175.
PR_NOT_PERMITTED = "GitHub Actions is not permitted to create or approve pull requests"


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
    repository_url: str | None = None  # https://github.com/owner/name, for the compare link

    @property
    def compare_url(self) -> str | None:
        """GitHub's "open a pull request" page for this branch, when the repository is known."""
        if not self.repository_url:
            return None
        return (
            f"{self.repository_url.rstrip('/')}/compare/"
            f"{quote(self.base, safe='/')}...{quote(self.branch, safe='/')}?expand=1"
        )


@dataclass(frozen=True)
class ProposalOutcome:
    result: Result
    # The branch was on the remote before this run: an earlier run proposed retraining and,
    # when ``result`` is ``not_permitted``, that proposal has no open PR either.
    branch_existed: bool


class PushFailed(RuntimeError):
    """The retraining branch could not be pushed for a reason other than a lost race."""

    def __init__(self, branch: str, cause: str, output: str) -> None:
        self.branch, self.cause, self.output = branch, cause, output
        super().__init__(f"pushing {branch} failed: {cause}\n{output}")


# What git prints when the lease refused the push, i.e. another run moved the branch:
# - client side, the advertised ref differs from the expected one: "[rejected] ... (stale
#   info)" (git remote.c set_ref_status_for_push -> REF_STATUS_REJECT_STALE, printed by
#   transport.c print_one_push_report; the same in git 2.39 and today). With an explicit
#   lease value the update is forced once the lease holds, so "fetch first" and
#   "non-fast-forward" cannot happen here;
# - server side, the ref moved between the advertisement and the update: git's own
#   receive-pack says "cannot lock ref '<ref>': is at <sha> but expected <sha>" (or, when the
#   lease expected no branch and another run created it first, "cannot lock ref '<ref>':
#   reference already exists", seen when two runs started at once) and
#   "[remote rejected] ... (failed to update ref)" (refs/files-backend.c, receive-pack.c).
_RACE = re.compile(
    r"\[rejected\].*\(stale info\)"
    r"|cannot lock ref '[^']+': (?:is at \w+ but expected|reference already exists)"
)
_WORKFLOWS = re.compile(
    r"refusing to allow (an? (?:GitHub App|OAuth App|Personal Access Token)) to create or "
    r"update workflow `([^`]+)` without `(workflows?)` (?:permission|scope)"
)
_DENIED = re.compile(r"Permission to (\S+) denied to (\S+?)\.?[ \t]*$", re.MULTILINE)


def push_failure(output: str) -> tuple[bool, str]:
    """(is_lost_race, cause) for the output of a failed ``git push``.

    The causes are GitHub's own messages, as git prints them: an HTTP 403 with "Permission
    to <repo> denied to <who>" (a token without contents: write), the workflow-file rule
    ("refusing to allow a GitHub App to create or update workflow `<file>` without
    `workflows` permission", and its Personal Access Token / OAuth App forms with
    `workflow` scope), branch protection and rulesets (GH006, GH013), and hooks.
    """
    if _RACE.search(output):
        return True, "another run pushed the branch first (the lease was stale)"
    if m := _WORKFLOWS.search(output):
        who, path, grant = m.groups()
        return False, (
            f"GitHub refuses to let this token ({who}) create or update {path} without "
            f"`{grant}` write. The rebuilt branch differs from its last pushed state in "
            "workflow files, most likely because the base branch changed them since. Close the "
            "retraining PR and delete its branch (the next run starts it fresh), or use a token "
            f"with `{grant}` write (a GitHub App or personal token; GITHUB_TOKEN never has it)"
        )
    if m := _DENIED.search(output):
        return False, (
            f"the token ({m.group(2)}) may not push to {m.group(1)} (HTTP 403): it needs "
            "contents: write on this repository (the job's `permissions:`, the GitHub App's "
            "installation or the fine-grained token's repository permissions)"
        )
    if "returned error: 403" in output:
        return False, "GitHub answered HTTP 403: the token may not push to this repository"
    if "Authentication failed" in output or "returned error: 401" in output:
        return False, "GitHub rejected the token (invalid or expired): authentication failed"
    if "GH006" in output or "GH013" in output or "protected branch" in output:
        return False, "a branch protection rule or ruleset on the retraining branch refused it"
    if "hook declined" in output:
        return False, "a server-side hook declined the push (see its messages above)"
    return False, "git push failed (see git's output)"


def remote_head(p: Proposal) -> str | None:
    proc = git.run("ls-remote", "--heads", p.remote, f"refs/heads/{p.branch}")
    line = proc.stdout.strip()
    return line.split()[0] if line else None


def _key_of(p: Proposal, commit: str) -> str | None:
    """The idempotency key recorded in the branch head's commit message."""
    git.run("fetch", "--quiet", p.remote, f"refs/heads/{p.branch}")
    body = git.run("log", "-1", "--format=%B", commit).stdout
    for line in body.splitlines():
        if line.startswith(f"{KEY_TRAILER}:"):
            return line.split(":", 1)[1].strip()
    return None


def open_pr(p: Proposal) -> int | None:
    out = gh.run(
        "pr", "list", "--head", p.branch, "--base", p.base, "--state", "open", "--json", "number"
    )
    numbers = [item["number"] for item in json.loads(out or "[]")]
    return numbers[0] if numbers else None


def already_proposed(p: Proposal) -> bool:
    """The branch on the remote holds ``p.key`` and its PR is open: ``propose`` would push
    nothing and only re-edit the PR, so a caller whose proposal is costly to build (the
    template update runs copier) may skip building it."""
    head = remote_head(p)
    return head is not None and _key_of(p, head) == p.key and open_pr(p) is not None


def sync_pr(p: Proposal) -> Literal["created", "updated", "not_permitted"]:
    number = open_pr(p)
    if number is not None:
        gh.run("pr", "edit", str(number), "--title", p.title, "--body-file", p.body_file)
        log.info("propose: updated PR #%s", number)
        return "updated"
    for label in p.labels:  # `--label` fails on a label the repository does not have yet
        gh.run(
            "label", "create", label, "--force", "--description", "opened by continuous training"
        )
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
        log.info("propose: %s", gh.run(*args).strip())
    except gh.GhError as err:
        if PR_NOT_PERMITTED in err.stderr:
            log.warning("propose: %s pushed, but GitHub refused to open its PR: %s", p.branch, err)
            return "not_permitted"
        if "already exists" not in err.stderr:
            raise
        log.info("propose: a concurrent run opened the PR first; updating it instead")
        return sync_pr(p)
    return "created"


def propose(p: Proposal) -> ProposalOutcome:
    """Commit ``paths`` onto ``branch`` (rebuilt from the current checkout), push, sync the PR."""
    existing = remote_head(p)
    existed = existing is not None
    if existing is not None and _key_of(p, existing) == p.key:
        log.info("propose: %s already holds key %s: no new commit", p.branch, p.key)
        synced = sync_pr(p)
        return ProposalOutcome(
            "not_permitted" if synced == "not_permitted" else "unchanged", existed
        )
    git.run("checkout", "-q", "-B", p.branch)
    git.run("add", "--all", "--", *p.paths)
    message = f"{p.title}\n\n{KEY_TRAILER}: {p.key}\n"
    git.run(
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
    pushed = git.run("push", lease, p.remote, f"HEAD:refs/heads/{p.branch}", check=False)
    if pushed.returncode != 0:
        output = (pushed.stdout + pushed.stderr).strip()
        race, cause = push_failure(output)
        if not race:
            raise PushFailed(p.branch, cause, output)
        log.warning("propose: %s moved while this run worked (%s); leaving it", p.branch, cause)
        return ProposalOutcome("lost_race", existed)
    return ProposalOutcome(sync_pr(p), existed)
