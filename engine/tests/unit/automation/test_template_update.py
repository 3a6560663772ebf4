"""What the update says about its conflicts: a text file both sides changed is committed with
copier's markers, which fail the project's checks; a binary file both sides changed is kept
as the project's, which no marker shows and no check fails, so the pull request and the
terminal say so instead of promising markers. (The update itself, on real git:
engine/tests/workflows/test_template_update.py.)"""

from __future__ import annotations

from mlops_engine.automation.template_update import Update, describe, pr_body

FIGURE = "reports/figures/feature_importance.png"


def _update(**kw) -> Update:
    return Update("https://example.test/t.git", "v1", "v2", changed=["Makefile", FIGURE], **kw)


def test_a_binary_conflict_is_named_as_kept_not_as_marked():
    u = _update(conflicted=["Makefile", FIGURE], kept_binary=[FIGURE])
    assert u.marked == ["Makefile"]
    body = pr_body(u)
    warning, binary = body.split("file(s) with conflicts.", 1)[1].split("binary file(s)", 1)
    assert "- `Makefile`" in warning and FIGURE not in warning
    assert "**1 file(s) with conflicts.**" in body
    assert f"- `{FIGURE}`" in binary and "kept as this project's version" in binary
    said = "\n".join(describe(u))
    assert "conflicts (2)" in said
    marked, kept = said.split("resolve the marked blocks", 1)[1].split("binary files", 1)
    assert "  Makefile" in marked and FIGURE not in marked and f"  {FIGURE}" in kept


def test_only_a_binary_conflict_promises_no_markers_and_no_failing_check():
    body = pr_body(_update(conflicted=[FIGURE], kept_binary=[FIGURE]))
    assert "conflict markers" not in body and "[!WARNING]" not in body
    assert "fails no check" in body and f"- `{FIGURE}`" in body
    assert "marked blocks" not in "\n".join(
        describe(_update(conflicted=[FIGURE], kept_binary=[FIGURE]))
    )


def test_text_conflicts_alone_read_as_before():
    u = _update(conflicted=["Makefile"])
    assert u.marked == ["Makefile"] and "binary" not in pr_body(u)
    assert "**1 file(s) with conflicts.**" in pr_body(u)
