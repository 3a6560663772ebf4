"""The merge workflow under act: reproduce, gate, save with lineage, build the Bento (slow).
The containerize-and-push job needs a Docker engine and GitHub: it is switched off here
with the repository variable CD_PUSH_IMAGE=false, exactly as a user without a registry would."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.project import BIN, env
from tests.workflows.act import act, edit_params, sandbox, step_outcomes

pytestmark = [pytest.mark.workflows, pytest.mark.slow, pytest.mark.example]


def _push_event(box) -> dict:
    return {
        "ref": "refs/heads/main",
        "after": box.git("rev-parse", "HEAD").strip(),
        "repository": {"full_name": "acme/churn", "name": "churn", "default_branch": "main"},
    }


def _bento_model_meta(box, tmp_path) -> dict:
    """Import the uploaded Bento into a fresh store and read its model's lineage."""
    store = {**env(), "BENTOML_HOME": str(tmp_path / f"store-{len(os.listdir(tmp_path))}")}
    bento = box.artifacts / "bento" / "bento.bento"
    subprocess.run(
        [str(BIN / "bentoml"), "import", str(bento)], env=store, check=True, capture_output=True
    )
    out = subprocess.run(
        [str(BIN / "bentoml"), "models", "list", "-o", "json"],
        env=store,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (model,) = json.loads(out)
    info = subprocess.run(
        [str(BIN / "bentoml"), "models", "get", model["tag"], "-o", "json"],
        env=store,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {"tag": model["tag"], **json.loads(info)["metadata"]}


def test_merge_builds_a_bento_of_the_exact_model_and_dispatch_rebuilds_an_old_one(
    tmp_path, dvc_seed
):
    box = sandbox(tmp_path, dvc_seed)
    box.git("commit", "-q", "--allow-empty", "-m", "An earlier release")
    earlier = box.git("rev-parse", "HEAD").strip()
    edit_params(
        box.repo,
        lambda p: p["train"]["hyperparams"].update(
            {"learning_rate": 0.05, "max_iter": 400, "max_leaf_nodes": 15}
        ),
    )
    box.git("commit", "-qam", "Merge: tune the model")
    merged = box.git("rev-parse", "HEAD").strip()

    result = act(box, "push", _push_event(box), "cd.yml", extra=("--var", "CD_PUSH_IMAGE=false"))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    steps = step_outcomes(log)
    assert steps["Quality gate against the previous commit"] == "success"
    assert "gate: mae: 21.39 -> 20.37 (improved" in log
    assert "## Bento built" in log and "ghcr.io/acme/churn" in log
    meta = _bento_model_meta(box, tmp_path)
    assert meta["git_commit"] == merged
    assert json.loads(meta["params"])["train"]["hyperparams"]["max_iter"] == 400
    assert json.loads(meta["metrics"])["mae"] == pytest.approx(20.365567)
    assert len(meta["sha256"]) == 64
    new_version = meta["tag"].split(":")[1]

    # Rollback path: rebuild the model of an earlier commit (act skips actions/checkout, so
    # the sandbox checks it out as the workflow's `ref` input would).
    box.git("checkout", "-q", earlier)
    result = act(
        box,
        "workflow_dispatch",
        {"inputs": {"ref": earlier}},
        "cd.yml",
        extra=("--var", "CD_PUSH_IMAGE=false"),
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    # The image job tags with the bento job's `commit` output (issue: it used github.sha,
    # so a rebuild of an old model overwrote the head's tag).
    assert f"commit={earlier}" in result.stdout, "the rebuilt Bento names the commit it holds"
    old = _bento_model_meta(box, tmp_path)
    assert old["git_commit"] == earlier
    assert old["tag"].split(":")[1] != new_version
    assert old["tag"].split(":")[1] == "cba12fdc4e8cc764", "the earlier model, byte for byte"
