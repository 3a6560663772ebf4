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

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from mlops_template.automation.template_update import (
    ANSWERS,
    CONFLICT_START,
    UpdateError,
    answers_text,
    update,
)
from tests.project import BIN, ROOT, env, run, tracked_files

pytestmark = [pytest.mark.workflows, pytest.mark.slow]

# Paths this scenario edits, in one place (the engine/project split moves them).
FEATURES = "src/mlops_template/pipeline/features.py"
ENGINE = "src/mlops_template/ci/gate.py"
WORKFLOW = ".github/workflows/ct.yml"
DOC = "docs/ci.md"
MAKEFILE = "Makefile"
PARAMS = "params.yaml"
UV = str(ROOT / ".tools" / "bin" / "uv") if (ROOT / ".tools/bin/uv").exists() else "uv"


def git(cwd: Path, *args: str) -> str:
    return run(cwd, "git", *args).stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new))


def make_template(root: Path) -> Path:
    """This working tree as the template's repository, released as v1."""
    template = root / "template"
    for rel in tracked_files():
        (template / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, template / rel)
    release(template, "v1", first=True)
    return template


def release(template: Path, tag: str, first: bool = False) -> None:
    """The release step: the answers file names the tag, then the commit is tagged."""
    (template / ANSWERS).write_text(answers_text(tag, str(template)))
    if first:
        git(template.parent, "init", "-q", "-b", "main", str(template))
    git(template, "add", "-A")
    git(template, "commit", "-qm", f"Release {tag}")
    git(template, "tag", tag)


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
    git(project, "commit", "-qam", "Our edits")


V2_ENGINE = "# v2: the gate's engine change\n"


def template_v2(template: Path) -> None:
    (template / ENGINE).write_text((template / ENGINE).read_text() + V2_ENGINE)
    edit(template / WORKFLOW, "timeout-minutes: 55", "timeout-minutes: 50")
    (template / DOC).write_text((template / DOC).read_text() + "\nv2: a note on the gate.\n")
    edit(template / MAKEFILE, "# One entry point for", "# The one entry point for")
    text = (template / PARAMS).read_text()
    (template / PARAMS).write_text(text + "# v2: a comment at the end of params.yaml\n")
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

    started = time.perf_counter()
    result = update(project, ref="v2", uv=UV)
    print(f"copier update: {time.perf_counter() - started:.1f} s")

    assert (result.from_ref, result.to_ref) == ("v1", "v2")
    assert git(project, "rev-parse", "HEAD") == head, "nothing committed"
    for path in (ENGINE, WORKFLOW, DOC):  # the template's changes, byte for byte
        assert (project / path).read_text() == (template / path).read_text(), path
    assert (project / FEATURES).read_text() == ours[FEATURES], "a team-only file is kept"
    params = (project / PARAMS).read_text()
    assert "\nseed: 7  " in params and params.endswith("params.yaml\n"), "both sides kept"
    assert yaml.safe_load(params)["seed"] == 7
    makefile = (project / MAKEFILE).read_text()
    assert makefile.startswith(CONFLICT_START + "\n# Our team's entry point for")
    assert "=======\n# The one entry point for" in makefile and ">>>>>>> after updating" in makefile
    assert result.conflicted == [MAKEFILE]
    assert result.changed == sorted([ANSWERS, DOC, ENGINE, MAKEFILE, PARAMS, WORKFLOW])
    assert (project / ANSWERS).read_text() == answers_text("v2", str(template))
    assert result.relocked == "unchanged"

    # Resolved and committed: the same release again changes nothing.
    shutil.copy2(template / MAKEFILE, project / MAKEFILE)  # a person resolves: theirs
    git(project, "add", "-A")
    git(project, "commit", "-qm", "Template v2")
    again = update(project, ref="v2", uv=UV)
    assert again.nothing_new and again.to_ref == "v2"
    assert git(project, "status", "--porcelain") == ""
    # and with no ref, the newest release tag is v2 too
    assert update(project, uv=UV).nothing_new


def test_update_refuses_a_dirty_tree_a_missing_answers_file_and_an_unknown_ref(made, capsys):
    from mlops_template.cli import main

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
    code = subprocess.run(
        [str(BIN / "mlops"), "update-template", "--ref", "v2"],
        cwd=project,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )
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
