"""The repository itself: no tracked file holds a conflict block. A template update commits
the files both the template and this project changed with copier's markers
(docs/template-updates.md); this test, in the code tier pr.yml runs (`make test-code`), is
what fails the update's pull request on every such file, a doc or a workflow included,
until someone resolves them on its branch."""

from __future__ import annotations

import pytest

from mlops_engine.automation.template_update import marked_files


@pytest.mark.code
def test_no_tracked_file_holds_conflict_markers(root):
    marked = marked_files(root)
    assert marked == [], f"resolve the conflicts marked in {marked}, then commit"
