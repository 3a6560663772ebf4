"""The workflows read as GitHub reads them (no act): which commit each cd.yml run builds and
compares with, what may fail pr.yml's required check. The workflows run under act in
tests/workflows/test_loop.py and the test_*_workflow.py files."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.project import ROOT
from tests.workflows.makefile import make_rules, needed

pytestmark = pytest.mark.workflows
WORKFLOWS = ROOT / ".github" / "workflows"


def _load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def _cd() -> dict:
    return _load("cd.yml")


def _evaluate(expression: str, context: dict[str, str]) -> str:
    """`${{ a.b }}` placeholders of plain context values (no operators): enough for a
    concurrency group; anything else fails the test instead of being guessed."""

    def value(m: re.Match) -> str:
        name = m.group(1).strip()
        assert name in context, f"cannot evaluate {name!r} here"
        return context[name]

    return re.sub(r"\$\{\{(.*?)\}\}", value, expression)


def _step(job: dict, run: str) -> dict:
    (step,) = [s for s in job["steps"] if s.get("run") == run]
    return step


def test_gate_compares_with_the_push_before_not_head_1():
    """A push of several commits, or "Rebase and merge", makes HEAD~1 an intermediate
    commit of the push itself; `before` is main as it was (the act loop pushes two)."""
    bento = _cd()["jobs"]["bento"]
    gate = _step(bento, "make gate")
    assert gate["env"]["BASE_REF"] == "${{ github.event.before || 'HEAD~1' }}"
    assert "${{" not in gate["run"], "event data reaches run: only through env"


def test_a_rebuild_resolves_ref_itself_and_the_image_job_uses_the_full_sha():
    """actions/checkout refuses an abbreviated SHA as `ref` (standins/checkout/checkout):
    the bento job checks out the pushed commit with full history and `make checkout-ref`
    resolves `ref`; the image job checks out the full SHA the bento job built."""
    jobs = _cd()["jobs"]
    bento_checkout = jobs["bento"]["steps"][0]
    assert bento_checkout["uses"].startswith("actions/checkout@")
    assert "ref" not in bento_checkout["with"] and bento_checkout["with"]["fetch-depth"] == 0
    runs = [s.get("run") for s in jobs["bento"]["steps"]]
    assert runs.index("make checkout-ref") < runs.index("make install") < runs.index("make gate")
    assert _step(jobs["bento"], "make checkout-ref")["env"] == {"CHECKOUT_REF": "${{ inputs.ref }}"}
    (image_checkout,) = [
        s for s in jobs["image"]["steps"] if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert image_checkout["with"]["ref"] == "${{ needs.bento.outputs.commit }}"


def test_concurrency_keeps_the_newest_merge_and_no_rebuild_displaces_it():
    """GitHub keeps at most one pending run per concurrency group and cancels the older
    pending one. cancel-in-progress false lets the running build finish; the newest pending
    push run then builds its own commit (no checkout `ref`: the event's sha), which contains
    the cancelled ones. A rebuild by hand must not share the pushes' group, or dispatching
    one would cancel a pending merge that is then never built."""
    cd = _cd()
    assert cd["concurrency"]["cancel-in-progress"] is False
    group = cd["concurrency"]["group"]

    def of(event: str, ref: str = "refs/heads/main") -> str:
        return _evaluate(group, {"github.event_name": event, "github.ref": ref})

    assert of("push") == of("push"), "two merges to main share a group (never race)"
    assert of("push") != of("push", "refs/heads/other")
    assert of("workflow_dispatch") != of("push"), "a rebuild cannot cancel a pending merge"
    assert set(cd["on"]) == {"push", "workflow_dispatch"}


def test_two_nightly_runs_never_overlap():
    """ct.yml's runs share one concurrency group, whatever started them (the schedule, a
    dispatch) and on whichever ref, and a running night is never cancelled: a second run
    waits for the first, so two never retrain and push the branch at once. Should one still
    meet another's push (a person's `make propose` by hand), `mlops propose` reports a lost
    race on real git (tests/code/test_proposal.py: a lease rejection, a ref moved inside the
    server's update); the act scenario that raced two runs tested what GitHub excludes."""
    ct = _load("ct.yml")
    assert ct["concurrency"]["cancel-in-progress"] is False
    group = ct["concurrency"]["group"]
    assert "${{" not in group, "one group for every run, not one per event or ref"
    assert set(ct["on"]) <= {"schedule", "workflow_dispatch"}


def test_the_drift_check_status_cannot_fail_or_skip_the_gate():
    """`make ct-status` calls the GitHub API; before the gate and fatal, any API error
    failed the required check without running the gate. It runs after the gate (also when
    the gate failed), and neither its failure nor gh's (a warning: tests/code/
    test_ct_status.py) fails the job."""
    (checks,) = [j for j in _load("pr.yml")["jobs"].values() if "make gate" in str(j)]
    runs = [s.get("run") for s in checks["steps"]]
    status = _step(checks, "make ct-status")
    assert runs.index("make gate") < runs.index("make ct-status")
    assert status["continue-on-error"] is True
    assert status["if"] == "${{ !cancelled() }}"


def _targets_running_the_project_without_install(text: str) -> list[str]:
    rules = make_rules(text)
    return [
        target
        for target, (_, recipe) in rules.items()
        if any("$(RUN)" in line for line in recipe) and "install" not in needed(rules, target)
    ]


def test_every_target_that_runs_the_project_installs_it_first():
    """Each workflow step is one `make` target, and each job gets its packages from uv.lock
    before its first one runs: every target that runs the project depends on `install`, so
    no job (or person) can run it on whatever environment the machine had before."""
    makefile = (ROOT / "Makefile").read_text()
    assert {"lint", "bento"} <= set(make_rules(makefile))
    assert _targets_running_the_project_without_install(makefile) == []
    broken = makefile.replace("gate: install ##", "gate: ##")
    assert _targets_running_the_project_without_install(broken) == ["gate"]
