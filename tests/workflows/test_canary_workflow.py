"""The dependency canary (canary.yml) under act: a forced bad upgrade opens the one issue
naming the package and the first error, and a clean run closes it.

Real: `uv lock` against PyPI, the upgraded install, `dvc repro -f`, pytest. Which releases
are "newest" moves every day, so the test chooses the upgrade through the workflow's
inputs: pandas forced to 3.1 over pyproject's range (evidently 0.7.23 then fails to import:
`infer_dtype_from_object` is gone from pandas 3.1), then evidently alone upgraded within its
exact pin `==0.7.23` (nothing can move: the clean run, the same on every day, which then has
nothing to install or run beyond the resolution). The test
tier is the one drift test that imports evidently, the cheapest scope that still sees the
break.
Stand-ins: `gh` (issues, labels; GitHub's side in a file) and the actions of standins/."""

from __future__ import annotations

import json
import re

import pytest

from tests.workflows import github_state
from tests.workflows.act import act, sandbox

pytestmark = [pytest.mark.workflows, pytest.mark.slow, pytest.mark.example]
DRIFT_TEST = (
    "tests/model/test_drift_reference.py"
    "::test_the_month_just_learned_is_not_drift_and_the_next_one_is"
)
# The report job's GITHUB_TOKEN, as canary.yml's `report` job asks for it.
TOKENS = {
    github_state.GITHUB_TOKEN: {
        "kind": "github_actions",
        "login": "github-actions[bot]",
        "permissions": {"contents": "read", "issues": "write"},
    }
}


def _run(box, upgrade: str, override: str = ""):
    inputs = {"upgrade": upgrade, "override": override, "tests": DRIFT_TEST}
    extra: tuple[str, ...] = ()
    for key, value in inputs.items():
        extra += ("--input", f"{key}={value}")
    return act(box, "workflow_dispatch", {"inputs": inputs}, "canary.yml", extra=extra)


def _issues(box) -> list[dict]:
    path = box.root / "gh" / "issues.json"
    return json.loads(path.read_text()) if path.exists() else []


def test_a_bad_upgrade_opens_the_one_issue_and_a_clean_run_closes_it(tmp_path):
    box = sandbox(tmp_path)
    github_state.write_state(box.root / "gh", tokens=TOKENS, git_dir=box.origin)
    committed = (box.repo / "uv.lock").read_text()
    pandas = re.search(r'name = "pandas"\nversion = "([^"]+)"', committed).group(1)

    bad = _run(box, "--upgrade-package pandas", "pandas>=3.1,<3.2")
    log = bad.stdout + bad.stderr
    assert bad.returncode != 0, "the canary job fails: the run is red"
    (issue,) = _issues(box)
    assert issue["state"] == "open" and issue["labels"] == ["dependency-canary"]
    assert issue["author"] == "github-actions[bot]"
    assert f"pandas {pandas} -> 3.1." in issue["title"] and "breaks tests" in issue["title"]
    body = issue["body"]
    assert "ImportError: cannot import name 'infer_dtype_from_object'" in body
    assert f"Suspected (moved, and named by the error): **pandas {pandas} -> 3.1." in body
    assert f"First failing test: `{DRIFT_TEST}`" in body
    assert "| pipeline | ✅ passed |" in body, "pandas 3.1 runs the stages; evidently breaks"
    result = json.loads((box.artifacts / "canary-result" / "result.json").read_text())
    assert [m["name"] for m in result["moved"] if m["new"]] == ["pandas"]
    assert (box.artifacts / "canary-result" / "uv.lock.upgraded").read_text() != committed
    assert "Run: https://github.com/acme/churn/actions/runs/" in body
    assert "Dependency canary: no issue written" not in log

    clean = _run(box, "--upgrade-package evidently")
    assert clean.returncode == 0, (clean.stdout + clean.stderr)[-8000:]
    (issue,) = _issues(box)
    assert issue["state"] == "closed" and issue["stateReason"] == "COMPLETED"
    (comment,) = issue["comments"]
    assert comment.startswith("The dependency canary passes again.")
    assert "No package moved" in comment
    steps = json.loads((box.artifacts / "canary-result" / "result.json").read_text())["steps"]
    assert [s["name"] for s in steps] == ["resolve the newest releases"], "nothing else to run"
    assert (box.repo / "uv.lock").read_text() == committed
