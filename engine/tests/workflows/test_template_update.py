"""Template updates on real git repositories with the real copier (`mlops update-template`),
and template-update.yml under act opening its one pull request.

The template is this working tree's files in a git repository whose release commit carries
the answers file naming it (the release step of docs/template-updates.md), tagged v1. The
project is what GitHub's "Use this template" makes of it: the same files, one commit, no
history shared with the template. The team edits a file the template never touches
(`features.py`), one the template changes elsewhere (`params.yaml`) and one the template
changes on the same line (the Makefile's first line). Release v2 changes engine code, a
workflow, a doc and those two files.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from mlops_engine.automation.template_update import (
    ANSWERS,
    CONFLICT_START,
    Update,
    UpdateError,
    answers_text,
    update,
)
from tests.project import BIN, ROOT, env, run, tracked_files

pytestmark = pytest.mark.slow

# Paths this scenario edits, in one place (the engine/project split moves them).
FEATURES = "src/tabular_project/features.py"
ENGINE = "engine/src/mlops_engine/ci/gate.py"
WORKFLOW = ".github/workflows/ct.yml"
DOC = "docs/ci.md"
MAKEFILE = "Makefile"
PARAMS = "params.yaml"
# Binary files copier cannot merge as text: one the team changes (its pipeline's figure),
# one the template changes.
FIGURE = "reports/figures/feature_importance.png"
THEIR_FIGURE = "reports/figures/residuals.png"
UV = str(ROOT / ".tools" / "bin" / "uv") if (ROOT / ".tools/bin/uv").exists() else "uv"


def git(cwd: Path, *args: str) -> str:
    return run(cwd, "git", *args).stdout


def mlops(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mlops"), *args],
        cwd=project,
        env={**env(), "UV": UV},
        capture_output=True,
        text=True,
        check=False,
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new))


def make_template(root: Path) -> Path:
    """This working tree as the template's repository, released as v1. Its address is a
    URL, as a release records it (copier clones names ending in .git as git URLs)."""
    template = root / "template.git"
    for rel in tracked_files():
        (template / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, template / rel)
    release(template, "v1", first=True)
    return template


def release(template: Path, tag: str, first: bool = False) -> None:
    """The release step: the answers file names the tag, then the commit is tagged."""
    (template / ANSWERS).write_text(answers_text(tag, url(template)))
    if first:
        git(template.parent, "init", "-q", "-b", "main", str(template))
    git(template, "add", "-A")
    git(template, "commit", "-qm", f"Release {tag}")
    git(template, "tag", tag)


def url(template: Path) -> str:
    return f"file://{template}"


def use_this_template(template: Path, dest: Path, tag: str = "v1") -> Path:
    """GitHub's "Use this template": the files of the template's default branch at ``tag``,
    committed once in a new repository."""
    dest.mkdir()
    archive = subprocess.run(
        ["git", "archive", tag], cwd=template, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "Initial commit")
    return dest


def team_edits(project: Path) -> None:
    (project / FEATURES).write_text((project / FEATURES).read_text() + "\n# our feature notes\n")
    edit(project / PARAMS, "\nseed: 42 ", "\nseed: 7  ")
    edit(project / MAKEFILE, "# One entry point for", "# Our team's entry point for")
    (project / FIGURE).write_bytes(b"\x89PNG\r\n\x1a\n\x00our figure\x00" * 64)
    git(project, "commit", "-qam", "Our edits")


V2_ENGINE = "# v2: the gate's engine change\n"


def template_v2(template: Path) -> None:
    (template / ENGINE).write_text((template / ENGINE).read_text() + V2_ENGINE)
    edit(template / WORKFLOW, "timeout-minutes: 55", "timeout-minutes: 50")
    (template / DOC).write_text((template / DOC).read_text() + "\nv2: a note on the gate.\n")
    edit(template / MAKEFILE, "# One entry point for", "# The one entry point for")
    text = (template / PARAMS).read_text()
    (template / PARAMS).write_text(text + "# v2: a comment at the end of params.yaml\n")
    (template / THEIR_FIGURE).write_bytes(b"\x89PNG\r\n\x1a\n\x00v2's figure\x00" * 64)
    release(template, "v2")


@pytest.fixture
def made(tmp_path):
    template = make_template(tmp_path)
    project = use_this_template(template, tmp_path / "project")
    team_edits(project)
    template_v2(template)
    return template, project


def test_update_applies_the_template_keeps_the_team_and_marks_the_co_edited_file(made):
    template, project = made
    head = git(project, "rev-parse", "HEAD")
    assert git(project, "rev-list", "--count", "HEAD").strip() == "2"
    ours = {p: (project / p).read_text() for p in (FEATURES, PARAMS, MAKEFILE)}
    our_figure = (project / FIGURE).read_bytes()

    # Read from a mirror (--source) while the recorded address is unreachable: the answers
    # keep the recorded one (git's url.<mirror>.insteadOf rewrites copier's clones).
    mirror = template.parent / "mirror"
    git(template.parent, "clone", "-q", "--mirror", str(template), str(mirror))
    away = template.rename(template.parent / "away")
    started = time.perf_counter()
    out = mlops(project, "update-template", "--ref", "v2", "--source", str(mirror))
    away.rename(template)
    print(f"mlops update-template: {time.perf_counter() - started:.1f} s")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"template: v1 -> v2 ({mirror})" in out.stdout and "conflicts (1)" in out.stdout
    result = Update.from_json((project / "build/template-update/result.json").read_text())

    assert (result.from_ref, result.to_ref) == ("v1", "v2")
    assert git(project, "rev-parse", "HEAD") == head, "nothing committed"
    for path in (ENGINE, WORKFLOW, DOC):  # the template's changes, byte for byte
        assert (project / path).read_text() == (template / path).read_text(), path
    assert (project / FEATURES).read_text() == ours[FEATURES], "a team-only file is kept"
    # binary files: the team's figure kept (copier's text diff alone would lose it), the
    # template's new one taken
    assert (project / FIGURE).read_bytes() == our_figure
    assert (project / THEIR_FIGURE).read_bytes() == (template / THEIR_FIGURE).read_bytes()
    params = (project / PARAMS).read_text()
    assert "\nseed: 7  " in params and params.endswith("params.yaml\n"), "both sides kept"
    assert yaml.safe_load(params)["seed"] == 7
    makefile = (project / MAKEFILE).read_text()
    assert makefile.startswith(CONFLICT_START + "\n# Our team's entry point for")
    assert "=======\n# The one entry point for" in makefile and ">>>>>>> after updating" in makefile
    assert result.conflicted == [MAKEFILE]
    assert result.changed == sorted(
        [ANSWERS, DOC, ENGINE, MAKEFILE, PARAMS, THEIR_FIGURE, WORKFLOW]
    )
    assert (project / ANSWERS).read_text() == answers_text("v2", url(template))
    assert result.relocked == "unchanged"
    assert git(project, "status", "--porcelain", "--ignored", "build").startswith("!!")

    # The project's code tier (pr.yml's `make test-code`) fails on the marked Makefile, as
    # the PR body says: a Makefile, a doc or a workflow with markers fails nothing else there.
    tier = subprocess.run(
        [str(BIN / "pytest"), "-m", "code", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert tier.returncode == 1, tier.stdout[-3000:]
    assert f"resolve the conflicts marked in ['{MAKEFILE}']" in tier.stdout, tier.stdout[-3000:]

    # Resolved and committed: the same release again changes nothing.
    shutil.copy2(template / MAKEFILE, project / MAKEFILE)  # a person resolves: theirs
    git(project, "add", "-A")
    git(project, "commit", "-qm", "Template v2")
    again = update(project, ref="v2", uv=UV)
    assert again.nothing_new and again.to_ref == "v2"
    assert git(project, "status", "--porcelain") == ""
    # nothing new: --propose commits, pushes and opens nothing (this project has no remote)
    out = mlops(project, "update-template", "--ref", "v2", "--propose")
    assert out.returncode == 0 and "template: already at v2" in out.stdout, out.stderr
    assert git(project, "branch", "--list", "template/update") == ""
    assert git(project, "rev-parse", "HEAD") == git(project, "rev-parse", "main")
    # and with no ref, the newest release tag is v2 too
    assert update(project, uv=UV).nothing_new


def test_update_refuses_a_dirty_tree_a_missing_answers_file_and_an_unknown_ref(made):

    template, project = made
    (project / FEATURES).write_text("# half done\n")
    with pytest.raises(UpdateError, match=f"uncommitted changes \\({FEATURES}\\)"):
        update(project, ref="v2")
    git(project, "checkout", "--", FEATURES)
    with pytest.raises(UpdateError, match="unknown ref 'v9'"):
        update(project, ref="v9")
    missing = template.parent / "missing"
    with pytest.raises(UpdateError, match="cannot read the template at"):
        update(project, source=str(missing), ref="v2")
    git(project, "rm", "-q", ANSWERS)
    git(project, "commit", "-qm", "no answers")
    with pytest.raises(UpdateError, match=f"{ANSWERS} not found"):
        update(project, ref="v2")
    # the command says so and exits 1, leaving the tree as it was
    code = mlops(project, "update-template", "--ref", "v2")
    assert code.returncode == 1 and f"{ANSWERS} not found" in code.stderr
    assert git(project, "status", "--porcelain") == ""


def test_the_committed_answers_file_is_copiers_render_naming_this_release():
    """The release step (docs/template-updates.md): `_commit` names this release's tag, in
    copier's own rendering (a "Use this template" copy and copier's render agree byte for
    byte). Before the tag exists it names the next release, the project's version."""
    answers = yaml.safe_load((ROOT / ANSWERS).read_text())
    assert (ROOT / ANSWERS).read_text() == answers_text(answers["_commit"], answers["_src_path"])
    tags = run(ROOT, "git", "tag", "--list", answers["_commit"]).stdout.split()
    if tags:
        at_tag = run(ROOT, "git", "show", f"{answers['_commit']}:{ANSWERS}").stdout
        assert yaml.safe_load(at_tag)["_commit"] == answers["_commit"]
    else:
        import tomllib

        version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
        assert answers["_commit"] == f"v{version}"
    jinja = ROOT / "{{_copier_conf.answers_file}}.jinja"
    assert jinja.read_text().splitlines()[0] == answers_text("x", "y").splitlines()[0]


APP = ("--var", "CT_APP_CLIENT_ID=Iv23li-update", "-s", "CT_APP_PRIVATE_KEY=stand-in-key")
BRANCH = "template/update"


def test_the_workflow_opens_one_pull_request_and_a_rerun_opens_no_second(tmp_path):
    """template-update.yml under act on a sandbox made from template v1 (the box's one
    commit carries v1's answers file), with the team's edits pushed to main: dispatched
    with ref v2 it pushes `template/update` with the App's token (the release changes a
    workflow: the push rules want `workflows` write) and opens one PR listing the range,
    the changed files and the conflicted Makefile. The schedule's run (no ref: the newest
    tag, v2 again) on the same main pushes nothing and opens no second PR."""
    from tests.workflows import github_state
    from tests.workflows.act import act, sandbox, step_outcomes

    template = make_template(tmp_path / "t")
    box = sandbox(tmp_path / "s")
    shutil.copy2(template / ANSWERS, box.repo / ANSWERS)
    box.git("commit", "-q", "--amend", "-am", "Initial commit")
    # the same tree as the template's v1: what "Use this template" makes of it
    assert box.git("rev-parse", "HEAD^{tree}") == git(template, "rev-parse", "v1^{tree}")
    team_edits(box.repo)
    box.git("push", "-q", "--force", "origin", "main")
    template_v2(template)
    main = box.git("rev-parse", "HEAD").strip()

    started = time.perf_counter()
    first = act(
        box, "workflow_dispatch", {"inputs": {"ref": "v2"}}, "template-update.yml", extra=APP
    )
    print(f"first run: {time.perf_counter() - started:.0f} s")
    log = first.stdout + first.stderr
    assert first.returncode == 0, log[-8000:]
    (pr,) = [p for p in box.prs() if p["head"] == BRANCH]
    assert pr["base"] == "main" and pr["labels"] == ["template-update"]
    assert pr["title"] == "Template update: v1 → v2"
    assert pr["author"] == github_state.TOKENS[github_state.APP_TOKEN]["login"]
    body = pr["body"]
    assert "moved from **v1** to **v2**" in body
    assert "1 file(s) with conflicts" in body and f"- `{MAKEFILE}`" in body
    for path in (ENGINE, WORKFLOW, DOC, PARAMS, ANSWERS):
        assert f"- `{path}`" in body, path
    pushed = github_state.pushes(box.root / "gh")
    assert [(p["ref"], p["kind"]) for p in pushed[-1:]] == [(f"refs/heads/{BRANCH}", "app")]
    box.git("fetch", "-q", "origin")
    head = box.git("rev-parse", f"origin/{BRANCH}").strip()
    assert box.git("rev-parse", f"{head}~1").strip() == main, "one commit on main"
    assert box.git("show", f"{head}:{WORKFLOW}") == (template / WORKFLOW).read_text()
    assert box.git("show", f"{head}:{FEATURES}") == (box.repo / FEATURES).read_text()
    assert box.git("show", f"{head}:{MAKEFILE}").startswith(CONFLICT_START)
    assert yaml.safe_load(box.git("show", f"{head}:{ANSWERS}"))["_commit"] == "v2"

    prs, refs = box.prs(), box.git("ls-remote", "origin")
    started = time.perf_counter()
    again = act(box, "schedule", {"schedule": "41 4 * * 1"}, "template-update.yml", extra=APP)
    print(f"second run: {time.perf_counter() - started:.0f} s")
    log = again.stdout + again.stderr
    assert again.returncode == 0, log[-8000:]
    step = "Apply the template's release and open or update the one template-update PR"
    assert step_outcomes(log)[step] == "success"
    assert "template/update already holds v1 -> v2 on this main" in log
    assert "applied to the working tree" not in log, "copier did not run again"
    assert box.git("ls-remote", "origin") == refs, "nothing pushed"
    assert box.prs() == prs, "no second PR, the one PR not even edited"
    assert len(github_state.pushes(box.root / "gh")) == len(pushed)
    assert box.prs()[0]["body"] == body


def test_a_refused_workflow_push_is_explained_as_the_release_changing_a_workflow():
    """GitHub's refusal as the push rules print it (standins/github/pre-receive, the
    message the act test above meets when the token lacks workflows write)."""
    from mlops_engine.commands.template import push_cause
    from mlops_engine.ct.proposal import PushFailed, push_failure

    output = (
        "remote: refusing to allow a GitHub App to create or update workflow "
        "`.github/workflows/ct.yml` without `workflows` permission\n"
        "error: failed to push some refs to 'origin.git'"
    )
    race, cause = push_failure(output)
    assert not race
    text = push_cause(PushFailed("template/update", cause, output))
    assert text.startswith("this template release changes .github/workflows/ct.yml")
    assert "CT_APP_CLIENT_ID" in text and "retraining" not in text
    other = PushFailed("template/update", "the token may not push", "Permission to x denied")
    assert push_cause(other) == "the token may not push"
