"""No tracked file holds a conflict block. A template update commits the files that both
the template and the project changed with copier's inline markers (docs/template-updates.md),
and its pull request says its checks fail on them: this test, in the unit tier pr.yml runs,
is the check that fails on every such file, Markdown and YAML included."""

from __future__ import annotations

import subprocess

from mlops_engine.automation.template_update import has_conflict_markers
from tests.project import ROOT


def test_no_tracked_file_holds_conflict_markers():
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    marked = [f for f in files if f and has_conflict_markers(ROOT / f)]
    assert marked == [], f"resolve the conflicts marked in {marked}, then commit"


def test_the_check_finds_copiers_and_gits_blocks_and_nothing_else(tmp_path):
    copier = tmp_path / "Makefile"
    copier.write_text(
        "<<<<<<< before updating\n# ours\n=======\n# theirs\n>>>>>>> after updating\nrun:\n"
    )
    git = tmp_path / "notes.md"
    git.write_text("a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> feature\n")
    quoted = tmp_path / "doc.md"  # shown in a doc, indented: not a conflict
    quoted.write_text("    <<<<<<< before updating\n    =======\n    >>>>>>> after updating\n")
    rule = tmp_path / "rule.md"  # a Markdown rule and an arrow alone
    rule.write_text("Title\n=======\n>>>>>>> not a block\n")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe<<<<<<< x\n=======\n>>>>>>> y\n")
    assert [has_conflict_markers(p) for p in (copier, git, quoted, rule, binary)] == [
        True,
        True,
        False,
        False,
        False,
    ]
