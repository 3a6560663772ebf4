"""The workflows read as GitHub reads them (no act): which commit each cd.yml run builds and
compares with, what may fail pr.yml's required check. The workflows run under act in
tests/workflows/test_loop.py and the test_*_workflow.py files."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.project import ROOT
from tests.workflows.makefile import make_rules, needed

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
    commit of the push itself; `before` is main as it was (the act loop pushes two). After
    a force push `before` is in no branch: `make checkout-ref`, before anything compares,
    fetches it by SHA (with the job's read token) or fails (tests/unit/commands/
    test_checkout_ref.py, tests/unit/ci/test_champion.py: git.have)."""
    bento = _cd()["jobs"]["bento"]
    assert bento["env"]["BASE_REF"] == "${{ github.event.before || 'HEAD~1' }}"
    gate = _step(bento, "make gate")
    assert "BASE_REF" not in (gate.get("env") or {}), "one BASE_REF for the whole job"
    assert "${{" not in gate["run"], "event data reaches run: only through env"
    fetch = _step(bento, "make checkout-ref")
    assert fetch["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    runs = [s.get("run") for s in bento["steps"]]
    assert runs.index("make checkout-ref") < runs.index("make repro-push")
    # contents: read for the checkout and that fetch; id-token: write for keyless storage
    # (test_storage_secrets.py), nothing else
    assert bento["permissions"] == {"contents": "read", "id-token": "write"}


def test_cd_forces_the_rerun_after_a_lock_change_exactly_as_pr_does():
    """A lock-only merge with a DVC remote: the run-cache would restore outputs built with
    the old releases while the image installs the new ones. cd.yml's reproduce step sets
    LOCK_BASE to its BASE_REF as pr.yml's does, and `make repro-push` passes it on."""
    pr_repro = _step(_load("pr.yml")["jobs"]["checks"], "make repro")
    cd_repro = _step(_cd()["jobs"]["bento"], "make repro-push")
    assert pr_repro["env"]["LOCK_BASE"] == cd_repro["env"]["LOCK_BASE"] == "${{ env.BASE_REF }}"
    dry = subprocess.run(
        ["make", "-n", "repro-push", "LOCK_BASE=abc123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert 'mlops repro --push --lock-base "abc123"' in dry


def test_every_artifact_survives_a_rerun_and_its_consumer_finds_it():
    """Artifact names are unique per run across attempts (upload-artifact v4+: 409 without
    `overwrite`; standins/upload-artifact/upload.py): "Re-run failed jobs" uploads again,
    so every upload overwrites; the name stays fixed, so a download in a later job (also
    one re-run alone, reading the earlier attempt's artifact) finds it."""
    for path in sorted(WORKFLOWS.glob("*.yml")):
        uploads, downloads = set(), set()
        for job in _load(path.name)["jobs"].values():
            for step in job.get("steps", []):
                uses = step.get("uses", "")
                if uses.startswith("actions/upload-artifact@"):
                    assert step["with"].get("overwrite") is True, (path.name, step)
                    assert "${{" not in step["with"]["name"], "a fixed name its consumer knows"
                    uploads.add(step["with"]["name"])
                if uses.startswith("actions/download-artifact@"):
                    downloads.add(step["with"]["name"])
        assert downloads <= uploads, path.name


@pytest.mark.parametrize(
    ("workflow", "job", "last"),
    [
        ("ct.yml", "retrain", "make propose"),
        ("template-update.yml", "update", "make template-update-pr"),
    ],
)
def test_the_app_token_outlives_the_job_that_pushes_with_it(workflow, job, last):
    """An App installation token expires one hour after it is minted (standins/
    create-github-app-token/mint). It is minted in the pushing job's first step, so the job
    must end within the hour: the step that pushes is the last. The token may push
    workflow changes (a rebuilt branch on a main whose workflows changed; a template release
    that changes them), and the job itself holds no more than pushing and a PR need."""
    spec = _load(workflow)
    pushing = spec["jobs"][job]
    first = pushing["steps"][0]
    assert first["uses"].startswith("actions/create-github-app-token@")
    assert first["with"]["permission-workflows"] == "write"
    assert pushing["timeout-minutes"] < 60
    assert pushing["steps"][-1]["run"] == last
    # (the retraining job also reads storage: keyless, it may ask for an OIDC token)
    granted = {k: v for k, v in pushing["permissions"].items() if k != "id-token"}
    assert granted == {"contents": "write", "pull-requests": "write"}
    assert spec["permissions"] == {}


def test_template_update_runs_weekly_and_on_demand_in_one_pushing_step():
    """The release to move to reaches `run:` through the environment only; the update and
    its proposal are one step (one process: a conflicted Makefile stops any later `make`)."""
    spec = _load("template-update.yml")
    assert "schedule" in spec["on"] and "ref" in spec["on"]["workflow_dispatch"]["inputs"]
    assert spec["concurrency"]["cancel-in-progress"] is False
    (job,) = spec["jobs"].values()
    runs = [s for s in job["steps"] if "run" in s]
    assert [s["run"] for s in runs] == ["make install", "make template-update-pr"]
    step = runs[-1]
    assert step["env"]["REF"] == "${{ inputs.ref }}"
    assert step["env"]["SOURCE"] == "${{ vars.TEMPLATE_SOURCE }}"
    assert "${{" not in step["run"]
    checkout = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout[0]["with"]["fetch-depth"] == 0, "the proposal fetches its branch"


def test_pr_checks_run_in_a_merge_queue_against_its_base_without_a_comment():
    """With a merge queue the required check must run on `merge_group`, or the queue waits
    forever. There the base is the queue's base_sha (github.base_ref is empty), the gate
    runs as on a PR from this repository (secrets, remote required) and no comment job."""
    pr = _load("pr.yml")
    assert "merge_group" in pr["on"] and "pull_request" in pr["on"]
    base = pr["env"]["BASE_REF"]
    assert base.startswith("${{ github.event.merge_group.base_sha || ")
    assert "origin/{0}', github.base_ref || github.event.repository.default_branch" in base
    checks = pr["jobs"]["checks"]
    assert "if" not in checks, "the gate runs on every event"
    assert _step(checks, "make repro")["env"]["LOCK_BASE"] == "${{ env.BASE_REF }}"
    assert "github.event_name == 'pull_request'" in pr["jobs"]["comment"]["if"]


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
    assert _step(jobs["bento"], "make checkout-ref")["env"]["CHECKOUT_REF"] == "${{ inputs.ref }}"
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

    def of(event: str, ref: str = "refs/heads/main", rebuild: str = "") -> str:
        # a push has no inputs: `inputs.ref` is empty for every push
        context = {"github.event_name": event, "github.ref": ref, "inputs.ref": rebuild}
        return _evaluate(group, context)

    assert of("push") == of("push"), "two merges to main share a group (never race)"
    assert of("push") != of("push", "refs/heads/other")
    assert of("workflow_dispatch") != of("push"), "a rebuild cannot cancel a pending merge"
    # one pending run per group: a second rebuild of another commit must not drop the first
    assert of("workflow_dispatch", rebuild="v1") != of("workflow_dispatch", rebuild="abc1234")
    assert set(cd["on"]) == {"push", "workflow_dispatch"}


def test_two_nightly_runs_never_overlap():
    """ct.yml's runs share one concurrency group, whatever started them (the schedule, a
    dispatch) and on whichever ref, and a running night is never cancelled: a second run
    waits for the first, so two never retrain and push the branch at once. Should one still
    meet another's push (a person's `make propose` by hand), `mlops propose` reports a lost
    race on real git (tests/unit/ct/test_proposal.py: a lease rejection, a ref moved inside the
    server's update); the act scenario that raced two runs tested what GitHub excludes."""
    ct = _load("ct.yml")
    assert ct["concurrency"]["cancel-in-progress"] is False
    group = ct["concurrency"]["group"]
    assert "${{" not in group, "one group for every run, not one per event or ref"
    assert set(ct["on"]) <= {"schedule", "workflow_dispatch"}


def test_the_drift_check_status_cannot_fail_or_skip_the_gate():
    """`make ct-status` calls the GitHub API; before the gate and fatal, any API error
    failed the required check without running the gate. It runs after the gate (also when
    the gate failed), and neither its failure nor gh's (a warning: tests/unit/commands/
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
