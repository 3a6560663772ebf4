"""On template-update.yml (weekly, or dispatched) and by hand (``make update-template``): a
later release of the template applied to this project, and the one pull request carrying it.
See ``automation/template_update.py``."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_engine.commands import command, log
from mlops_engine.config import Params
from mlops_engine.step_files import add_summary

if TYPE_CHECKING:
    from mlops_engine.ct.proposal import PushFailed

# GitHub's refusal, as git prints it (see ct/proposal.py push_failure for its forms)
WORKFLOW_REFUSAL = re.compile(r"to create or update workflow `([^`]+)` without `workflows?`")
OUT = "build/template-update"
BRANCH = "template/update"
LABEL = "template-update"


def push_cause(err: PushFailed) -> str:
    """The cause of a refused push, said for a template update: ``ct/proposal.py`` explains
    a refused workflow change for the retraining branch (the base moved), whereas here the
    release itself changes the workflow."""
    m = WORKFLOW_REFUSAL.search(err.output)
    if not m:
        return err.cause
    return (
        f"this template release changes {m.group(1)}, and GitHub lets only a token with "
        "Workflows: write push a workflow change. Configure the GitHub App (variable "
        "CT_APP_CLIENT_ID, secret CT_APP_PRIVATE_KEY) with Workflows read and write, or the "
        "secret CT_PR_TOKEN with the `workflow` scope; GITHUB_TOKEN never may"
    )


def _update_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        help="where to read the template: git URL or path (default: the answers file's "
        "_src_path, which stays recorded)",
    )
    p.add_argument(
        "--ref",
        help="the release to move to: tag, branch or commit (default: the newest vX.Y.Z tag)",
    )
    p.add_argument("--out", default=OUT, help="result.json and the PR body go here")
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))
    p.add_argument(
        "--propose",
        action="store_true",
        help=f"then commit the update to --branch ({BRANCH}) and open or update its one PR "
        "(gh, GH_TOKEN); nothing new: no commit, no push, no PR",
    )
    p.add_argument("--base", default="main")
    p.add_argument("--branch", default=BRANCH)
    p.add_argument("--remote", default="origin")


@command(
    "update-template",
    "apply a later template release to the working tree (copier update, 3-way merge); "
    "--propose: and open or update its one PR",
    _update_args,
)
def _update_template(a: argparse.Namespace, params: Params) -> int:
    """Exit 0 when the update is applied, conflicts included (they are marked in the files
    and listed); 1 when it could not run (dirty tree, no answers file, unknown ref...) or,
    with ``--propose``, when the branch could not be pushed.

    With ``--propose`` the proposal runs in this same process, with everything it needs
    imported before copier touches the tree: the update may leave conflict markers in any
    file (the Makefile, ``pyproject.toml``, ``params.yaml``, this package's own modules),
    and a second step reading them (``make``, ``uv run``, ``mlops``) would stop there. When
    the branch already holds this release on this base and its PR is open (a re-run),
    copier does not run at all."""
    from mlops_engine import git
    from mlops_engine.automation import template_update as tu
    from mlops_engine.ct.proposal import (
        Proposal,
        PushFailed,
        already_proposed,
        propose,
        remote_head,
    )
    from mlops_engine.git import commit_of
    from mlops_engine.step_files import annotation

    base_commit = commit_of("HEAD")
    plan = tu.prepare(Path.cwd(), a.source, a.ref)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    server, repo = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    proposal = Proposal(
        branch=a.branch,
        base=a.base,
        title=f"Template update: {plan.from_ref} → {plan.ref}",
        body_file=str(out / "pr.md"),
        key=tu.proposal_key(plan, base_commit),
        paths=["."],
        labels=(LABEL,),
        remote=a.remote,
        repository_url=f"{server}/{repo}" if server and repo else None,
    )
    if a.propose and not plan.nothing_new and already_proposed(proposal):
        text = (
            f"{a.branch} already holds {plan.from_ref} -> {plan.ref} on this {a.base} and its "
            "pull request is open: nothing to push"
        )
        log.info("update-template: %s", text)
        add_summary(a.summary, f"### Template update: already proposed\n\n{text}.\n\n")
        return 0
    result = tu.apply(plan, uv=os.environ.get("UV") or "uv")
    (out / "result.json").write_text(result.to_json())
    (out / "pr.md").write_text(tu.pr_body(result))
    for line in tu.describe(result):
        sys.stdout.write(line + "\n")
    if result.nothing_new:
        add_summary(a.summary, f"### Template update: nothing new\n\n{tu.describe(result)[0]}\n\n")
        return 0
    add_summary(a.summary, tu.pr_body(result) + "\n")
    if not a.propose:
        return 0
    # The retraining PR's machinery (ct/proposal.py): the fixed branch rebuilt on the
    # checked-out base with one commit, pushed with a lease unless it already holds this
    # key, its one PR created or edited. Conflicted paths are unmerged in the index until
    # added: the commit takes them as they are, markers included (the PR body lists them).
    git.run("add", "--all", "--", ".")
    existed = remote_head(proposal) is not None
    try:
        outcome = propose(proposal)
    except PushFailed as err:
        cause = push_cause(err)
        sys.stdout.write(annotation("error", "Template update not pushed", cause) + "\n")
        add_summary(a.summary, f"### ❌ Template update not pushed\n\n{cause}.\n\n")
        raise RuntimeError(f"pushing {err.branch} failed: {cause}\n{err.output}") from err
    sys.stdout.write(f"{outcome.result}\n")
    if outcome.result == "not_permitted":
        text = (
            f"Branch {a.branch} is pushed, but GitHub does not let GITHUB_TOKEN open pull "
            f"requests here: open it at {proposal.compare_url or a.branch}, and configure the "
            "GitHub App (CT_APP_CLIENT_ID, CT_APP_PRIVATE_KEY) so its checks run"
        )
        sys.stdout.write(annotation("warning" if not existed else "error", "No PR", text) + "\n")
        add_summary(a.summary, f"### Template update PR not opened\n\n{text}.\n\n")
        return 1 if existed else 0
    return 0


@command(
    "release-check",
    "check the engine's built wheel and sdist before publishing (release.yml)",
    lambda p: (
        p.add_argument("--dist", default="dist", help="where `uv build` wrote them"),
        p.add_argument("--pyproject", default="engine/pyproject.toml"),
        p.add_argument("--tag", help="the tag that triggered the release (engine-vX.Y.Z)"),
    ),
)
def _release_check(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.automation.release import check

    problems = check(Path(a.dist), Path(a.pyproject), a.tag or None)
    for problem in problems:
        log.error("release-check: %s", problem)
    if not problems:
        log.info("release-check: %s is ready to publish", ", ".join(sorted(os.listdir(a.dist))))
    return 1 if problems else 0
