"""The whole loop under act, from "Use this template" to a quiet night, as GitHub would run it.

One sandbox is the new repository: a bare `origin` holding a single commit (what "Use this
template" makes), GitHub's push rules as its pre-receive hook, the Actions setting "Allow
GitHub Actions to create and approve pull requests" off (a new repository's default), and
the GitHub App of the README's setup configured for continuous training after the first
night, which warns without it. act runs each
workflow with `--no-skip-checkout`, so the checkout stand-in runs and the retraining job's
pushes authenticate as its token. Each workflow consumes what the previous one left in
git, the DVC cache, the PR state and the artifacts; nothing is handed over by the test
except what a person does (open a PR, merge it, set a variable).

The image job runs too, with `docker` and docker/login-action as stand-ins (no engine
here): `bentoml containerize` is real and writes the build context; the stand-in records
the tags each build got and what `docker push --all-tags` sent to the registry.
"""

from __future__ import annotations

import json
import re
import runpy
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops_engine import storage
from mlops_engine.config import load_params
from mlops_engine.pipeline import features as engine_features
from mlops_engine.pipeline.ingest import ingest
from tests.datasets import drifting_weeks, month_rows
from tests.project import BIN, dvc, env, run
from tests.workflows import github_state
from tests.workflows.act import (
    act,
    keyless,
    last_run_id,
    pull_request_event,
    sandbox,
    seed_production,
    step_outcomes,
    with_dvc_remote,
)

pytestmark = [pytest.mark.slow, pytest.mark.example]

APP = ("--var", "CT_APP_CLIENT_ID=Iv23li-loop", "-s", "CT_APP_PRIVATE_KEY=stand-in-key")
PRODUCTION = ("--var", "CT_DEMO_STREAM=false")
BRANCH = "retrain/auto"


def _log(result) -> str:
    return result.stdout + result.stderr


def _ok(result) -> str:
    log = _log(result)
    if result.returncode != 0:  # what failed, wherever it is in the log, then the log's end
        marks = ("❌", "Failure - ", "FAILED", "ERROR", "Error:", "error:", "gate:")
        failed = [x for x in log.splitlines() if any(m in x for m in marks)]
        raise AssertionError("\n".join(failed[-60:]) + "\n---\n" + log[-6000:])
    return log


def _new_repository(tmp_path: Path, seed: Path | None):
    box = sandbox(tmp_path, seed)
    github_state.write_state(box.root / "gh", git_dir=box.origin)  # the setting off
    assert box.git("rev-list", "--count", "main").strip() == "1", "one commit, as GitHub makes"
    return box


def _push(box, before: str) -> dict:
    """GitHub's push event for main, moved from ``before`` to the sandbox's HEAD."""
    repository = {"full_name": "acme/churn", "name": "churn", "default_branch": "main"}
    after = box.git("rev-parse", "HEAD").strip()
    return {"ref": "refs/heads/main", "before": before, "after": after, "repository": repository}


def _cd(box, before: str = "", ref: str | None = None) -> tuple[str, dict[str, str]]:
    """cd.yml on a push to main that moved it from ``before`` (all zeros: the push created
    it), or dispatched with `ref` (act skips nothing: the checkout stand-in copies the
    sandbox at its HEAD, the event's commit, and resolves `ref` as actions/checkout does)."""
    if ref is None:
        event, payload = "push", _push(box, before)
    else:
        event, payload = "workflow_dispatch", {"inputs": {"ref": ref}}
    log = _ok(act(box, event, payload, "cd.yml"))
    outputs = dict(
        line.split("=", 1)
        for line in (
            m.split("::set-output:: ", 1)[1] for m in log.splitlines() if "::set-output:: " in m
        )
        if "=" in line
    )
    return log, outputs


def _bento_model(box, store: Path) -> dict:
    """Import the Bento the cd run uploaded into a fresh store; its model's tag and lineage."""
    environ = {**env(), "BENTOML_HOME": str(store)}
    # one process for `bentoml import`, `models list` and `models get` (each ~1.5 CPU-s of
    # bentoml's import), through the same API those commands call
    script = (
        "import json, sys, bentoml\n"
        "bentoml.import_bento(sys.argv[1])\n"
        "(model,) = bentoml.models.list()\n"
        "print(json.dumps({'tag': str(model.tag), 'metadata': model.info.metadata}))\n"
    )
    out = subprocess.run(
        [str(BIN / "python"), "-c", script, str(box.artifacts / "bento" / "bento.bento")],
        env=environ,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    model = json.loads(out.splitlines()[-1])
    return {"tag": model["tag"], "version": model["tag"].split(":")[1], **model["metadata"]}


def _ct(box, *extra: str) -> str:
    return _ok(
        act(
            box,
            "schedule",
            {"schedule": "17 3 * * *"},
            "ct.yml",
            extra=extra,
        )
    )


def _pr(box, number: int, head: str, *extra: str):
    return act(
        box,
        "pull_request",
        pull_request_event(number=number, head=head),
        "pr.yml",
        extra=extra,
    )


def _branch_head(box) -> str | None:
    out = box.git("ls-remote", "--heads", "origin", f"refs/heads/{BRANCH}").strip()
    return out.split()[0] if out else None


def _comments_on(box, number: int) -> list[dict]:
    return [c for c in box.comments() if c["pr"] == number]


def _month(box, params, month: str):
    """The raw file's rows of one month (the example's history ends with March)."""
    whole = params.ingest.model_copy(update={"history_until": None})
    year = ingest(storage.read_table(box.repo / params.ingest.source), whole)
    start = pd.Timestamp(f"{month}-01")
    end = start + pd.DateOffset(months=1)
    return month_rows(year, str(start), str(end), params.contract.time_column)


def test_from_use_this_template_to_a_quiet_night(tmp_path, dvc_seed, model, params, s3_server):
    box = _new_repository(tmp_path, dvc_seed)
    template = box.git("rev-parse", "HEAD").strip()

    # 1. The first push runs cd.yml: it created main (`before` is all zeros), so the gate has
    #    no base and only the margin over the naive baseline applies; the Bento holds this
    #    commit's model.
    log, out = _cd(box, before="0" * 40)
    assert step_outcomes(log)["Quality gate against the previous commit"] == "success"
    assert "gate: no base to compare with: this push created the branch" in log
    assert "## Bento built" in log and out["image"] == "ghcr.io/acme/churn"
    assert out["commit"] == template
    first = _bento_model(box, tmp_path / "store-1")
    assert first["git_commit"] == template and len(first["sha256"]) == 64
    assert first["version"] == out["model_version"]
    image = out["image"]
    built = [f"{image}:{first['version']}", f"{image}:{template}"]
    assert box.docker_builds() == [built], "one image, tagged with model version and commit"
    assert sorted(box.registry_tags()) == sorted(built), "pushed exactly the tags built"
    # The image's evidence: build provenance and the SBOM, attested on the digest the push
    # stored (both tags: one manifest), by the image job (the only one with id-token).
    (digest,) = set(box.pushed_digests().values())
    subject = {"name": image, "digest": digest}
    assert [(a["subject"], a["predicate_type"], a["job"]) for a in box.attestations()] == [
        (subject, "https://slsa.dev/provenance/v1", "image"),
        (subject, "https://cyclonedx.org/bom", "image"),
    ], "the attested subject is the pushed digest"
    assert all(a["pushed_to_registry"] for a in box.attestations())
    # The guide's step 4: a DVC remote on S3 (a bucket on the S3 server) holding main's
    # outputs and run-cache, keyless as the guide sets it up first: no keys in the
    # repository, the variable AWS_ROLE_ARN names a role this repository's OIDC tokens may
    # assume (the S3 server's STS checks them as AWS does), and every job that touches
    # storage from here on (ct's two, pr's, cd's) trades its token for the role's keys.
    bucket = with_dvc_remote(box, s3_server).split("/")[2]
    keyless(box, s3_server)

    # 2. A person's PR is open, with its report comment (pr.yml on a person's PR, its gate
    #    and the one comment updated in place are tests/workflows/test_pr_workflow.py):
    #    the retraining PR below gets the next number and a comment of its own.
    person = box.open_pr("feature", "Smaller trees")
    comment = {"id": 1001, "body": "theirs\n\n<!-- mlops-template report -->", "updates": 0}
    comment |= {"user": "github-actions[bot]"}
    (box.root / "gh" / "comments.json").write_text(json.dumps([{**comment, "pr": person}]))

    # 3. Deployed, the service logs to production storage; the person points the monitor at
    #    it and sets CT_DEMO_STREAM=false (a commit on main, whose cd run would rebuild the
    #    same model: not run here). April's traffic arrives there, labelled. The first night
    #    finds it drifted before the App of the README's setup exists: GITHUB_TOKEN may not
    #    open a PR in a new repository (the setting is off), so the branch is pushed and
    #    the run warns with the link to open it by hand.
    seed_production(box, _month(box, params, "2011-04"), model, params, True, s3_server)
    log = _ct(box, *PRODUCTION)
    assert [p for p in box.prs() if p["head"] == BRANCH] == [], "GITHUB_TOKEN may not open it"
    assert "Retraining PR not opened: repository setting" in log
    assert f"https://github.com/acme/churn/compare/main...{BRANCH}?expand=1" in log
    unproposed = _branch_head(box)
    assert unproposed is not None, "the retrained branch is pushed all the same"
    #    The person follows the warning and configures the App, while main moves on. The
    #    next night rebuilds the branch on top of the new main: exactly one retraining PR,
    #    opened with the App's token (so pr.yml runs on it, see ct.yml).
    (box.repo / "NOTES.md").write_text("The CT App is set up.\n")
    box.git("add", "NOTES.md")
    box.git("commit", "-qm", "Notes on the CT App")
    box.git("push", "-q", "origin", "main")
    main = box.git("rev-parse", "HEAD").strip()
    log = _ct(box, *PRODUCTION, *APP)
    assert _branch_head(box) != unproposed, "rebuilt on top of the new main"
    pushed = github_state.pushes(box.root / "gh")
    assert [(p["kind"], p["triggers_workflows"]) for p in pushed[-1:]] == [("app", True)]
    (pr,) = [p for p in box.prs() if p["head"] == BRANCH]
    assert pr["number"] == person + 1
    assert pr["head"] == BRANCH and pr["base"] == "main" and pr["labels"] == ["retraining"]
    assert pr["author"] == github_state.TOKENS[github_state.APP_TOKEN]["login"]
    assert "Champion (main) vs challenger (retrained)" in pr["body"]
    assert "challenger ✅" in pr["body"] and "Drift check: 🟠 drift" in pr["body"]
    assert "retrain-key:" in pr["body"] and "Checks will not run on this push" not in pr["body"]
    box.git("fetch", "-q", "origin")
    retrained = box.git("rev-parse", f"origin/{BRANCH}").strip()
    assert box.git("rev-parse", f"{retrained}~1").strip() == main, "one commit on main"
    params_then = yaml.safe_load(box.git("show", f"{retrained}:params.yaml"))
    assert params_then["split"]["window"]["end"] == "2011-05-01"
    assert "2011-04-01--2011-04-30.parquet" in box.git(
        "ls-tree", "--name-only", retrained, "data/feedback/"
    )

    # 4. pr.yml on the retraining PR: its test window moved, so the gate re-scores main's
    #    model on the PR's test split and passes; the comment says which comparison it made.
    box.git("checkout", "-q", "-b", BRANCH, f"origin/{BRANCH}")
    log = _ok(_pr(box, pr["number"], BRANCH))
    assert step_outcomes(log)["Quality gate against the base branch"] == "success"
    assert "gate: comparing with origin/main's model re-scored on this revision's test split" in log
    (ours,) = _comments_on(box, pr["number"])
    assert "re-scored on this revision's test split" in ours["body"]
    assert "✅ **Quality gate passed**" in ours["body"]
    assert _comments_on(box, person) == [{**comment, "pr": person}], "theirs untouched"

    # 5. A stray note was pushed to main (its cd run, the same model, is not run here), then
    #    dropped: the PR is merged (GitHub's merge commit) on main without it, with a
    #    follow-up commit, and force-pushed. One push of two commits, so HEAD~1 is the merge
    #    itself (the same model); its `before` is the stray commit, in no branch now, which
    #    the checkout (every branch and tag) lacks: `make checkout-ref` fetches it by SHA
    #    (GitHub still has it) and cd.yml compares with it, the same way as the PR, and
    #    builds the retrained model.
    box.git("checkout", "-q", "main")
    (box.repo / "NOTES.md").write_text("A stray note.\n")
    box.git("commit", "-qam", "A stray note")
    box.git("push", "-q", "origin", "main")
    before = box.git("rev-parse", "HEAD").strip()
    box.git("reset", "-q", "--hard", "HEAD~1")
    box.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #{pr['number']}", BRANCH)
    (box.repo / "NOTES.md").write_text("Retrained on April.\n")
    box.git("add", "NOTES.md")
    box.git("commit", "-qm", "Notes on the retraining")
    box.git("push", "-q", "--force", "origin", "main")
    merged = box.git("rev-parse", "HEAD").strip()
    assert run(box.origin, "git", "branch", "--contains", before, check=False).stdout == ""
    log, out = _cd(box, before=before)
    merge_run = last_run_id(box)
    assert f"checkout-ref: the gate compares with {before} (commit {before[:12]})" in log
    assert f"gate: comparing with {before}'s model re-scored on this revision's test split" in log
    assert "gate: mae:" in log and "(improved" in log
    assert "gate: passed" in log and out["commit"] == merged
    model_md5 = yaml.safe_load(box.git("show", f"{merged}:dvc.lock"))["stages"]["train"]
    model_md5 = next(o["md5"] for o in model_md5["outs"] if o["path"] == "models/model.joblib")
    pushed = s3_server.keys(bucket, "dvc/files/md5/")
    assert f"dvc/files/md5/{model_md5[:2]}/{model_md5[2:]}" in pushed, "cd pushed the model"
    steps = step_outcomes(log)  # with the role's keys, traded for the bento job's token
    assert steps["AWS credentials from the job's OIDC token (variable AWS_ROLE_ARN)"] == "success"
    assert "Authenticated as assumedRoleId" in log
    assert s3_server.access_key_id not in log, "no static key anywhere in the run"
    second = _bento_model(box, tmp_path / "store-2")
    assert second["git_commit"] == merged and second["version"] != first["version"]
    assert box.docker_builds()[-1] == [f"{image}:{second['version']}", f"{image}:{merged}"]
    assert sorted(box.registry_tags()) == sorted([*built, *box.docker_builds()[-1]])
    assert json.loads(second["params"])["split"]["window"]["end"] == "2011-05-01"
    committed = json.loads(box.git("show", "HEAD:reports/metrics.json"))
    assert json.loads(second["metrics"])["mae"] == pytest.approx(committed["mae"])
    card = box.git("show", f"{merged}:reports/model_card.md")
    with tarfile.open(box.artifacts / "bento" / "bento.bento") as bento:
        shipped = bento.extractfile("./src/reports/model_card.md").read().decode()
    assert shipped == card and model_md5 in card, "the Bento carries the new model's card"
    assert second["model_card"].startswith(card), "and its model's metadata (/metadata)"

    # 6. The next night: production still holds the traffic the model has just learned and
    #    nothing newer: no drift, no retraining, no PR touched, no new commit on any branch.
    refs = box.git("ls-remote", "origin")
    prs = box.prs()
    log = _ct(box, *PRODUCTION, *APP)
    summary = json.loads((box.artifacts / "drift-report" / "summary.json").read_text())
    assert summary["verdict"] == "no_drift" and summary["retrain"] is False, summary
    assert (box.artifacts / "drift-report" / "drift.html").stat().st_size < 5_000_000
    assert step_outcomes(log).get("Open or update the one retraining PR") is None
    assert box.git("ls-remote", "origin") == refs and box.prs() == prs

    # 7. Rollback: cd.yml dispatched with the template's short SHA, as GitHub's pages show
    #    it (actions/checkout would refuse it: tests/unit/commands/test_checkout_ref.py),
    #    rebuilds its model, byte for byte (the same version as step 1), and names that
    #    commit for the image tags.
    head_image = box.registry_tags()[f"{image}:{merged}"]
    log, out = _cd(box, ref=template[:7])
    assert f"checkout-ref: {template[:7]} is commit {template}" in log
    assert out["commit"] == template and out["model_version"] == first["version"]
    assert _bento_model(box, tmp_path / "store-3")["git_commit"] == template
    assert box.docker_builds()[-1] == built, "the old model's tags, not the head's"
    assert box.registry_tags()[f"{image}:{merged}"] == head_image, "the head's tag untouched"

    # 8. GitHub has garbage-collected the stray commit of step 5 (in no branch): re-running
    #    that push's run can no longer compare with its `before`. The step before anything is
    #    built fails saying so; it never builds on "no base" with only the floor checked.
    run(box.origin, "git", "reflog", "expire", "--expire=now", "--all")
    run(box.origin, "git", "gc", "-q", "--prune=now")
    builds = box.docker_builds()
    result = act(box, "push", _push(box, before), "cd.yml", rerun_of=merge_run)
    log = _log(result)
    assert result.returncode != 0, log[-6000:]
    steps = step_outcomes(log)
    fetch_step = "Check out `ref` on a rebuild (a short SHA too; actions/checkout needs a full one)"
    assert steps[fetch_step] == "failure", steps
    assert f"commit {before}, the base to compare with, is not in this checkout and origin " in log
    assert "no base" not in log and "Quality gate against the previous commit" not in steps
    assert box.docker_builds() == builds, "nothing built"


# The template's release N+1 in the after-init test (test_template_update.py makes release N
# from this working tree): a line of the PR report (engine), ct.yml, a doc, and the derived
# features' example, which the team replaced with its own (the co-edited file).
REPORT = "engine/src/mlops_engine/ci/report.py"
REPORT_LINE = "Reported by the template's v2 engine."
WORKFLOW = ".github/workflows/ct.yml"
DOC = "docs/ci.md"
FEATURES = "src/tabular_project/features.py"
UPDATE = "template/update"
_CONFLICT = re.compile(
    r"<<<<<<< before updating\n(.*?)(?:\|\|\|\|\|\|\| [^\n]*\n.*?)?=======\n.*?"
    r">>>>>>> after updating\n",
    re.S,
)


def _our_features(repo: Path) -> None:
    """The team's hand edit of features.py: the bundled example's feature replaced by its own."""
    path = repo / FEATURES
    text = path.read_text()
    text = text[: text.index("# An example for the bundled")].replace('["rush_hour"]', '["x_gap"]')
    path.write_text(
        text + "# Ours: how far apart the two readings are (the model sees it as one column).\n"
        '@derived("x_gap", "numeric", inputs=("x1", "x2"))\n'
        "def x_gap(frame: pd.DataFrame) -> pd.Series:\n"
        '    """The first reading minus the second."""\n'
        '    return frame["x1"] - frame["x2"]\n'
    )


def _template_v2(template: Path) -> None:
    from tests.workflows.test_template_update import edit, release

    edit(
        template / REPORT,
        "    queried = public_queries(a.lock)\n",
        f'    notes.append("{REPORT_LINE}")\n    queried = public_queries(a.lock)\n',
    )
    edit(template / WORKFLOW, "timeout-minutes: 55", "timeout-minutes: 50")
    (template / DOC).write_text((template / DOC).read_text() + "\nv2: a note on the gate.\n")
    edit(template / FEATURES, "on working days, when", "on working days (7-9 h, 16-19 h), when")
    release(template, "v2")


def test_a_project_on_its_own_table_takes_the_templates_next_release_as_a_gated_pr_then_retrains(
    tmp_path, s3_server, monkeypatch
):
    """From template release v1 to v2 and on to retraining, on a table the test makes.

    The repository is what "Use this template" makes of release v1 (one commit, v1's files
    and answers file, no history shared with the template). The team runs `mlops init` on
    its own table (generated here; no time column, no demo stream), replaces the bundled
    example's derived feature in features.py with its own, lists it and writes its intended
    use in params.yaml, and pushes: cd.yml builds with "no base" (target, task and source
    differ from the example) and the first night is green with nothing to check yet.

    The template then releases v2: a note in the PR report (engine), ct.yml's timeout, a doc,
    and the example feature the team replaced. template-update.yml (the App configured, as
    a release changing a workflow needs) opens ONE PR that carries v2's files byte for byte,
    keeps the team's params.yaml, and commits features.py with copier's conflict markers
    (both sides changed the same lines), listed in its body. pr.yml would fail on that
    commit by design (ruff cannot parse the markers), so a person resolves it on the branch,
    keeping the team's side, and pushes; pr.yml on that head passes (lint, the project's
    tests, reproduction, the gate) and its report comment carries v2's line. Merged, the
    scheduled update run finds main at v2: nothing pushed, no PR touched.

    Then weeks of drifting production traffic reach the updated main: the night (v2's
    ct.yml) retrains (the labelled rows as feedback, the split staying random) and proposes
    with the App's token, so the PR's checks run (where retraining once raised
    "contract.time_column is required" every night)."""
    from tests.stranger import Stranger, stranger_table
    from tests.workflows.test_template_update import ANSWERS, make_template

    template = make_template(tmp_path / "template")
    box = _new_repository(tmp_path / "box", None)
    github_state.write_state(
        box.root / "gh", can_approve_pull_request_reviews=True, git_dir=box.origin
    )
    shutil.copy2(template / ANSWERS, box.repo / ANSWERS)  # release v1's answers file
    box.git("commit", "-q", "--amend", "-am", "Initial commit")
    box.git("push", "-q", "--force", "origin", "main")
    assert (
        box.git("rev-parse", "HEAD^{tree}") == run(template, "git", "rev-parse", "v1^{tree}").stdout
    ), "v1's files in one commit, as GitHub makes"

    table = stranger_table(Stranger(shape="binary", rows=600, time=False, seed=3))
    data = tmp_path / "customers.csv"
    table.to_csv(data, index=False)
    run(box.repo, str(BIN / "mlops"), "init", "--data", str(data), "--target", "y")
    _our_features(box.repo)
    params_yaml = box.repo / "params.yaml"
    text = params_yaml.read_text()
    for old, new in [
        ("  leakage_confirmed: []\n", "  leakage_confirmed: []\n  derived: [x_gap]  # ours\n"),
        ("\n  intended_use:\n", "\n  intended_use: Which customers say yes, for our call list.\n"),
    ]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    params_yaml.write_text(text)
    ours = params_yaml.read_text()
    # The guide's step 4 with static keys (repository secrets): a DVC remote on the S3
    # server, so each job restores what is unchanged instead of recomputing it.
    dvc(box.repo, "remote", "add", "-d", "storage", f"s3://{s3_server.bucket('dvc')}/dvc")
    # this project's package, not the test environment's installed one
    dvc(box.repo, "repro", extra_env={"PYTHONPATH": str(box.repo / "src")})
    dvc(box.repo, "push", "--run-cache", extra_env=s3_server.env())
    box.s3 = s3_server
    box.git("add", "-A")
    box.git("commit", "-qm", "Our data: customers' answers, our feature, our DVC remote")
    box.git("push", "-q", "origin", "main")

    log, out = _cd(box, before=box.git("rev-parse", "HEAD~1").strip())
    assert "gate: no base to compare with:" in log
    assert "contract.target" in log.split("gate: no base to compare with:", 1)[1].splitlines()[0]
    assert out["commit"] == box.git("rev-parse", "HEAD").strip()

    refs = box.git("ls-remote", "origin")
    log = _ct(box)
    assert "nothing to check yet" in log
    assert step_outcomes(log).get("Open or update the one retraining PR") is None
    assert box.git("ls-remote", "origin") == refs and box.prs() == []

    # The template's v2, proposed by template-update.yml as one PR.
    _template_v2(template)
    main = box.git("rev-parse", "HEAD").strip()
    started = time.perf_counter()
    dispatched = {"inputs": {"ref": "v2"}}
    log = _ok(act(box, "workflow_dispatch", dispatched, "template-update.yml", extra=APP))
    print(f"template-update.yml: {time.perf_counter() - started:.0f} s")
    (pr,) = box.prs()
    assert (pr["head"], pr["labels"]) == (UPDATE, ["template-update"])
    assert pr["title"] == "Template update: v1 → v2"
    assert "1 file(s) with conflicts" in pr["body"] and f"- `{FEATURES}`" in pr["body"]
    for path in (REPORT, WORKFLOW, DOC, FEATURES, ANSWERS):
        assert f"- `{path}`" in pr["body"], path
    assert "- `params.yaml`" not in pr["body"], "only the team changed it"
    box.git("fetch", "-q", "origin")
    head = box.git("rev-parse", f"origin/{UPDATE}").strip()
    assert box.git("rev-parse", f"{head}~1").strip() == main, "one commit on main"
    for path in (REPORT, WORKFLOW, DOC):  # the template's changes, byte for byte
        assert box.git("show", f"{head}:{path}") == (template / path).read_text(), path
    assert box.git("show", f"{head}:params.yaml") == ours, "the team's params.yaml kept"
    for path in ("dvc.lock", "reports/figures/feature_importance.png"):  # the team's outputs
        assert box.git("rev-parse", f"{head}:{path}") == box.git("rev-parse", f"{main}:{path}")
    assert yaml.safe_load(box.git("show", f"{head}:{ANSWERS}"))["_commit"] == "v2"
    marked = box.git("show", f"{head}:{FEATURES}")
    (block,) = _CONFLICT.finditer(marked)
    assert "def x_gap" in block.group(1), "ours first"
    assert "(7-9 h, 16-19 h)" in block.group(0), "then the template's"

    # A person resolves it on the branch, keeping the team's side, and pushes.
    box.git("checkout", "-q", "-b", UPDATE, f"origin/{UPDATE}")
    (box.repo / FEATURES).write_text(_CONFLICT.sub(r"\1", marked))
    box.git("commit", "-qam", "Keep our feature (the template changed its example)")
    box.git("push", "-q", "origin", UPDATE)
    assert box.git("show", f"HEAD:{FEATURES}") == box.git("show", f"main:{FEATURES}")

    started = time.perf_counter()
    log = _ok(_pr(box, pr["number"], UPDATE))
    print(f"pr.yml on the update: {time.perf_counter() - started:.0f} s")
    assert step_outcomes(log)["Quality gate against the base branch"] == "success"
    (comment,) = _comments_on(box, pr["number"])
    assert REPORT_LINE in comment["body"] and "✅ **Quality gate passed**" in comment["body"]

    # Merged on GitHub; the next scheduled update finds main at v2.
    box.git("checkout", "-q", "main")
    box.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #{pr['number']}", UPDATE)
    box.git("push", "-q", "origin", "main")
    prs = [{**p, "state": "merged"} if p["number"] == pr["number"] else p for p in box.prs()]
    (box.root / "gh" / "prs.json").write_text(json.dumps(prs, indent=1))
    refs = box.git("ls-remote", "origin")
    started = time.perf_counter()
    log = _ok(act(box, "schedule", {"schedule": "41 4 * * 1"}, "template-update.yml", extra=APP))
    print(f"template-update.yml, nothing new: {time.perf_counter() - started:.0f} s")
    assert "template: already at v2" in log
    assert box.git("ls-remote", "origin") == refs and box.prs() == prs, "nothing pushed or opened"

    # Deployed: six weeks of traffic from new customers of one kind (their readings differ
    # from the whole table's), labelled, each row once (init forbade duplicate rows). init
    # found no time column (it says so).
    params = load_params(params_yaml)
    assert params.contract.time_column is None and params.contract.derived == ("x_gap",)
    assert params.contract.allow_duplicate_rows is False
    new = stranger_table(Stranger(shape="binary", rows=3000, time=False, seed=4))
    # (a new row repeating another or a training row is left out)
    fresh = ~new.duplicated() & ~pd.MultiIndex.from_frame(new).isin(pd.MultiIndex.from_frame(table))
    keep = (new["kind"] == "north") & (new["x1"] > 0.5) & fresh
    rows, arrived = drifting_weeks(new, keep, 6, 40, "2026-10-01", replace=False)
    model = storage.read_model(box.repo / "models" / "model.joblib")
    # The model computes the team's feature: this process imports the template's package,
    # so the project's features.py registers it here (in a copy of the registry, for this
    # test only) to serve the traffic.
    monkeypatch.setattr(engine_features, "DERIVED", dict(engine_features.DERIVED))
    runpy.run_path(str(box.repo / FEATURES))
    seed_production(box, rows, model, params, True, s3_server, arrived=arrived)
    log = _ct(box, *PRODUCTION, *APP)
    assert (
        step_outcomes(log)[
            "Retrain (new feedback data, moved window, dvc repro, champion vs challenger)"
        ]
        == "success"
    )
    (retraining,) = [p for p in box.prs() if p["head"] == BRANCH]
    assert "Drift check: 🟠 drift" in retraining["body"] and "no time column" in retraining["body"]
    assert "Champion (main) vs challenger (retrained)" in retraining["body"]
    assert retraining["author"] == github_state.TOKENS[github_state.APP_TOKEN]["login"]
    (push,) = [p for p in github_state.pushes(box.root / "gh") if p["ref"].endswith(BRANCH)]
    assert (push["kind"], push["triggers_workflows"]) == ("app", True)
    assert "Checks will not run" not in retraining["body"]
    box.git("fetch", "-q", "origin")
    count = box.git("rev-list", "--count", f"origin/main..origin/{BRANCH}").strip()
    assert count == "1", "one retraining commit on top of main"
    retrained = yaml.safe_load(box.git("show", f"origin/{BRANCH}:params.yaml"))
    assert retrained["split"]["method"] == "random"
    assert retrained["contract"]["derived"] == ["x_gap"], "the team's feature kept"
    learned_until = pd.Timestamp(retrained["split"]["window"]["end"])
    assert abs(learned_until - arrived.max()) < pd.Timedelta(seconds=1), learned_until
    (feedback,) = [
        f
        for f in box.git("ls-tree", "--name-only", f"origin/{BRANCH}", "data/feedback/").split()
        if f.endswith(".parquet")
    ]
    assert feedback.endswith(f"{arrived.min():%Y-%m-%d}--{arrived.max():%Y-%m-%d}.parquet")
