"""The one report comment on a pull request: found among ALL the PR's comments, updated in
place, or created.

GitHub lists a PR's comments 30 per page by default (REST ``GET
/repos/{owner}/{repo}/issues/{number}/comments``, pages linked by the ``Link`` header).
CML 0.20.6, which posted the report before, read the first page only, so on a PR with more
than 30 comments it no longer saw its own and posted a second report. Here ``gh api
--paginate`` follows every page (gh asks for 100 per page and joins the pages into one
JSON array); the report is ours when its body holds ``MARKER``, the hidden line
``markdown.render`` ends the report with. One comment found: ``PATCH`` it; none: ``POST``.

Standard library and ``gh`` only (through gh.py, loaded by its path), so the comment job
of pr.yml runs it with the runner's ``python3`` from the base branch's checkout (``make
comment``): that job holds the ``pull-requests: write`` token and never installs or runs
the pull request's code.
A refusal (no permission, a body over GitHub's 65,536 characters, no ``gh``) exits 1 with
gh's message.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

MARKER = "<!-- mlops-template report -->"
# What CML 0.20.6 left in the report comments it posted before `make comment` existed
# (pr.yml ran `cml comment update --watermark-title="mlops-template report"`, and CML writes
# its watermark image with the title "CML watermark <title>"): a PR opened before a project
# took this version keeps its one comment, which the first update adopts and marks.
CML_WATERMARK = '"CML watermark mlops-template report"'


if __package__:
    from mlops_engine.gh import Gh, GhError
    from mlops_engine.gh import api as gh_api
else:  # run as a file by the runner's python3, the package not installed (make comment)
    import importlib.util

    _spec = importlib.util.spec_from_file_location("gh", Path(__file__).parents[1] / "gh.py")
    assert _spec is not None and _spec.loader is not None
    _gh = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_gh)
    Gh, GhError, gh_api = _gh.Gh, _gh.GhError, _gh.api


def _arrays(text: str) -> list[dict]:
    """The items of gh's output: one JSON array (gh joins the pages), or one array per page
    back to back (older gh releases)."""
    decoder, items, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        page, i = decoder.raw_decode(text, i)
        items += page
    return items


def find(repo: str, number: int, gh: Gh = gh_api, marker: str = MARKER) -> int | None:
    """The id of the PR's comment holding ``marker`` (the oldest, if several), or None."""
    comments = _arrays(gh("--paginate", f"repos/{repo}/issues/{number}/comments"))
    ours = [c["id"] for c in comments if marker in (c.get("body") or "")]
    if not ours:  # a report CML posted, from before this version
        ours = [c["id"] for c in comments if CML_WATERMARK in (c.get("body") or "")]
    return min(ours) if ours else None


def upsert(repo: str, number: int, body: str, gh: Gh = gh_api, marker: str = MARKER) -> str:
    """Update our comment on PR ``number`` to ``body``, or create it; what was done."""
    if marker not in body:
        body = f"{body.rstrip()}\n\n{marker}\n"
    payload = json.dumps({"body": body})
    found = find(repo, number, gh, marker)
    if found is not None:
        path = f"repos/{repo}/issues/comments/{found}"
        gh("--method", "PATCH", path, "--input", "-", stdin=payload)
        return f"updated comment {found} on #{number}"
    path = f"repos/{repo}/issues/{number}/comments"
    created = json.loads(gh("--method", "POST", path, "--input", "-", stdin=payload))
    return f"created comment {created.get('id')} on #{number}"


def main(argv: list[str] | None = None) -> int:
    """`make comment`: prints are its output (a workflow command on failure, as
    step_files.annotation escapes it)."""
    p = argparse.ArgumentParser(prog="comment", description=__doc__.split("\n\n")[0])
    p.add_argument("--body-file", required=True, help="the markdown to post")
    p.add_argument("--repo", default=os.environ.get("GH_REPO"), help="owner/name ($GH_REPO)")
    p.add_argument("--pr", default=os.environ.get("PR_NUMBER"), help="number ($PR_NUMBER)")
    a = p.parse_args(argv)
    if not a.repo or not str(a.pr or "").isdigit():
        print("comment: needs --repo (or GH_REPO) and --pr (or PR_NUMBER)", file=sys.stderr)  # noqa: T201
        return 2
    with open(a.body_file, encoding="utf-8") as fh:
        body = fh.read()
    try:
        done = upsert(a.repo, int(a.pr), body)
    except GhError as err:
        text = str(err).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        print(f"::error title=PR comment not written::{text}", flush=True)  # noqa: T201
        return 1
    print(f"comment: {done}", flush=True)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
