"""On template-update.yml (weekly, or dispatched) and by hand (``make update-template``): a
later release of the template applied to this project, and the one pull request carrying it.
See ``automation/template_update.py``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mlops_template.commands import command, log
from mlops_template.config import Params
from mlops_template.step_files import add_summary

OUT = "build/template-update"
BRANCH = "template/update"
LABEL = "template-update"


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


@command(
    "update-template",
    "apply a later template release to the working tree (copier update, 3-way merge)",
    _update_args,
)
def _update_template(a: argparse.Namespace, params: Params) -> int:
    """Exit 0 when the update is applied, conflicts included (they are marked in the files
    and listed); 1 when it could not run (dirty tree, no answers file, unknown ref...)."""
    from mlops_template.automation.template_update import describe, pr_body, update

    result = update(Path.cwd(), a.source, a.ref, uv=os.environ.get("UV") or "uv")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(result.to_json())
    (out / "pr.md").write_text(pr_body(result))
    for line in describe(result):
        sys.stdout.write(line + "\n")
    if result.nothing_new:
        add_summary(a.summary, f"### Template update: nothing new\n\n{describe(result)[0]}\n\n")
    else:
        add_summary(a.summary, pr_body(result) + "\n")
    return 0


def _propose_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--result", default=f"{OUT}/result.json")
    p.add_argument("--body", default=f"{OUT}/pr.md")
    p.add_argument("--base", default="main")
    p.add_argument("--branch", default=BRANCH)
    p.add_argument("--remote", default="origin")
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))


@command(
    "propose-template-update",
    "commit the applied template update to its fixed branch; open or update its one PR",
    _propose_args,
)
def _propose_template_update(a: argparse.Namespace, params: Params) -> int:
    """After ``update-template`` in the same checkout. Nothing new: no commit, no push, no
    PR. Otherwise the retraining PR's machinery (``ct/proposal.py``): the fixed branch is
    rebuilt on the checked-out base, pushed with a lease unless it already holds this
    release on this base (the key), and its one PR is created or edited."""
    from mlops_template.automation.template_update import Update, pr_title, proposal_key
    from mlops_template.ct.proposal import Proposal, PushFailed, propose, remote_head
    from mlops_template.revisions import commit_of, git
    from mlops_template.step_files import annotation

    result = Update.from_json(Path(a.result).read_text())
    if result.nothing_new:
        log.info("propose-template-update: already at %s: no branch, no PR", result.to_ref)
        return 0
    # conflicted paths are unmerged in the index until added: the branch commit takes them
    # as they are, markers included (the PR body lists them)
    git("add", "--all", "--", ".")
    server, repo = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    proposal = Proposal(
        branch=a.branch,
        base=a.base,
        title=pr_title(result),
        body_file=a.body,
        key=proposal_key(result, commit_of("HEAD")),
        paths=["."],
        labels=(LABEL,),
        remote=a.remote,
        repository_url=f"{server}/{repo}" if server and repo else None,
    )
    existed = remote_head(proposal) is not None
    try:
        outcome = propose(proposal)
    except PushFailed as err:
        sys.stdout.write(annotation("error", "Template update not pushed", err.cause) + "\n")
        add_summary(a.summary, f"### ❌ Template update not pushed\n\n{err.cause}.\n\n")
        raise
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
