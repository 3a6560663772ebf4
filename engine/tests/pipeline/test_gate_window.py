"""The gate on a retraining change compares champion and challenger on the same rows (slow).

A retraining commit moves the training window, so its test split is newer than main's:
main's committed metrics (March) are no yardstick for the challenger's (May). The issue's
reproduction: before, `mlops gate` called MAE 21.39 -> 45.85 a regression while on May's
rows the champion scores 56.98 and the challenger 45.85.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.project import clone, dvc, env, exclusive, run, use_cache

pytestmark = [pytest.mark.slow, pytest.mark.example]


def _retrain(root: Path, dvc_seed: Path) -> None:
    project = clone(root / "project")
    use_cache(project, dvc_seed, root / "cache")
    dvc(project, "repro")
    run(project, "mlops", "replay")
    run(project, "mlops", "monitor", "--exit-zero")
    run(project, "mlops", "retrain")
    run(project, "git", "switch", "-q", "-c", "retrain/auto")
    run(project, "git", "add", "params.yaml", "dvc.lock", "data/feedback", "reports")
    run(project, "git", "commit", "-qm", "Retrain")


@pytest.fixture(scope="module")
def retrained(tmp_path_factory, dvc_seed, worker_id):
    """main reproduced, one month of production replayed, retrained, committed on a branch
    the way `mlops propose` does.

    Built once per test run where every xdist worker sees it (about a minute: a drift check
    and a retraining), then copied for each worker that runs this module's tests: the
    project as it is and its cache as hard links (``use_cache``), so a test that drops an
    object drops it from its own copy. Before, a worker that got one of these tests built it
    again (~50 CPU-s)."""
    base = tmp_path_factory.getbasetemp()
    shared = (base if worker_id == "master" else base.parent) / "window"
    with exclusive(shared.parent / "window.lock"):
        if not (shared / "ready").exists():
            shutil.rmtree(shared, ignore_errors=True)
            _retrain(shared, dvc_seed)
            (shared / "ready").touch()
    root = tmp_path_factory.mktemp("window")
    subprocess.run(["cp", "-a", str(shared / "project"), str(root / "project")], check=True)
    project = root / "project"
    use_cache(project, shared / "cache", root / "cache")
    comparison = json.loads((project / "reports/retrain/comparison.json").read_text())
    return project, comparison["newest, held out (new test split)"]


def _drop_mains_model_from_the_cache(project) -> None:
    """As on a PR runner, whose cache holds this branch's outputs only (the retrain fixture's
    cache is shared by its tests, so a test before may have dropped it already)."""
    lock = yaml.safe_load(run(project, "git", "show", "main:dvc.lock").stdout)
    md5 = next(o["md5"] for o in lock["stages"]["train"]["outs"])
    (project.parent / "cache" / "files" / "md5" / md5[:2] / md5[2:]).unlink(missing_ok=True)


def test_gate_rescores_main_on_the_new_test_split_and_passes(retrained, monkeypatch):
    """On a PR runner main's model is not in the cache (it holds this branch's outputs
    only): the gate reproduces it from main in a worktree it removes afterwards, scores it
    on this revision's test split, and says so in its log and in the report.

    main is also the release (tagged model-v1): the anchor's model is the same one, judged
    on this revision's holdout rows; the gate's log, its summary and the report show the
    anchor's outcome and no figure of the holdout (#35 item 7)."""
    project, newest = retrained
    run(project, "git", "tag", "-f", "model-v1", "main")
    _drop_mains_model_from_the_cache(project)
    summary = project.parent / "summary.md"
    summary.unlink(missing_ok=True)
    result = run(
        project, "mlops", "gate", "--base-ref", "main", "--summary", str(summary), check=False
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "main's model re-scored on this revision's test split" in log
    champion, challenger = newest["champion"]["mae"], newest["challenger"]["mae"]
    (line,) = [
        x for x in log.splitlines() if f"gate: mae: {champion:.4g} -> {challenger:.4g}," in x
    ]
    assert "(improved" in line, log
    assert "worktree" not in run(project, "git", "worktree", "list").stdout.split("\n", 1)[1]
    # training randomness counted: the candidate trained on two more seeds, in memory only
    assert "gate: Seed noise counted: the candidate was also trained on seeds" in log
    assert run(project, "git", "status", "--porcelain").stdout == "", "dvc.lock, outputs"

    out = project.parent / "report.md"
    report = run(project, "mlops", "report", "--base-ref", "main", "--out", str(out))
    text = out.read_text()
    assert "main (re-scored)" in text
    assert "Compared with main's model re-scored on this revision's test split" in text
    assert "Seed noise counted" in text, "what the intervals count"
    assert "the candidate's extra seeds from reports/pr/seeds/" in report.stdout + report.stderr, (
        "the report reuses the gate's seeds"
    )
    _the_anchor_is_judged_on_the_holdout_and_shown_as_an_outcome(
        project, log, summary.read_text(), text, monkeypatch
    )


def _the_anchor_is_judged_on_the_holdout_and_shown_as_an_outcome(
    project: Path, log: str, summary: str, report: str, monkeypatch
) -> None:
    import pandas as pd

    from mlops_engine import storage
    from mlops_engine.ci import anchor as anchors
    from mlops_engine.ci.champion import _cache_file
    from mlops_engine.config import load_params
    from mlops_engine.pipeline.evaluate import score

    monkeypatch.chdir(project)
    monkeypatch.setenv("PATH", env()["PATH"])  # `dvc cache dir`, as the gate's runs see it
    params = load_params(project / "params.yaml")
    found = anchors.judge(params, Path("dvc.lock"))
    check = found.check
    assert found.tag == "model-v1" and check is not None, found
    holdout = pd.read_parquet(project / "data/processed/holdout.parquet")
    test = pd.read_parquet(project / "data/processed/test.parquet")
    stamp = params.contract.time_column
    assert test[stamp].max() < holdout[stamp].min(), "the test period's newest rows"
    assert check.rows == len(holdout) > 0
    lock = yaml.safe_load(run(project, "git", "show", "main:dvc.lock").stdout)
    released = storage.read_model(_cache_file(lock["stages"]["train"]["outs"][0]["md5"]))
    contract = params.contract
    assert check.base == pytest.approx(score(released, holdout, contract)["mae"], rel=1e-4)
    assert check.base != pytest.approx(score(released, test, contract)["mae"], rel=1e-2)
    line = anchors.line(found, params)
    assert "**Anchor** `model-v1`" in line and line in report and line in summary
    assert "Anchor model-v1" in log, log
    figures = [check.base, check.current, check.delta, check.low, check.high]
    for where, text in (("log", log), ("summary", summary), ("report", report)):
        for value in figures:
            for shown in (f"{value:.4g}", f"{value:+.4g}", f"{value:.2f}"):
                assert shown not in text, (where, shown)
        rows = [x for x in text.splitlines() if x.startswith("|")]
        assert not [x for x in rows if "anchor" in x.lower() or "holdout" in x.lower()], where
    assert "The public test rows have judged 1 model(s)" in report, "moved window: counted anew"


def test_retrain_wrote_one_feedback_file_the_moved_window_and_the_pr_body(retrained):
    """The retrain command's I/O (ct/retrain.py) outside any workflow: one new feedback file,
    the window moved in params.yaml, the PR body with its key; run again, it refuses and
    changes nothing."""
    project, _ = retrained
    feedback = sorted((project / "data" / "feedback").glob("*.parquet"))
    assert [f.name for f in feedback] == ["2011-04-01--2011-04-30.parquet"], feedback
    window = yaml.safe_load((project / "params.yaml").read_text())["split"]["window"]
    assert window["end"] > "2011-04-30", window
    body = (project / "reports" / "retrain" / "pr.md").read_text()
    key = (project / "reports" / "retrain" / "key.txt").read_text().strip()
    assert body.startswith(f"# Retrain on production data up to {window['end']}")
    assert "champion" in body and "challenger" in body and "Drift check" in body
    assert body.rstrip().endswith(f"<!-- retrain-key: {key} -->")
    again = run(project, "mlops", "retrain", check=False)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "no labelled rows arrived since the training window's end" in again.stderr
    assert run(project, "git", "status", "--porcelain").stdout == "", "nothing written"


def test_rescoring_reads_the_base_remote_with_credentials_or_rebuilds_on_a_fork(
    retrained, tmp_path
):
    """Re-scoring the base pulls from the base's DVC remote, so the gate's step needs the
    storage secrets: an unreadable remote (S3 without the dvc-s3 extra, as unreadable as a
    bucket without its credentials) stops the gate saying so, and only a fork's PR
    (`--remote-optional`, which pr.yml sets from DVC_REMOTE_OPTIONAL) rebuilds the base's
    model from the repository instead."""
    project, newest = retrained
    copy = tmp_path / "project"
    shutil.copytree(project, copy, symlinks=True)
    run(copy, "git", "checkout", "-q", "main")
    dvc(copy, "remote", "add", "-d", "storage", "s3://no-such-bucket/dvc")
    run(copy, "git", "commit", "-qam", "Add a DVC remote")
    run(copy, "git", "checkout", "-q", "retrain/auto")
    _drop_mains_model_from_the_cache(project)

    failed = run(copy, "mlops", "gate", "--base-ref", "main", check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "dvc repro --pull train" in failed.stderr
    assert "check the storage secrets reach this step" in failed.stderr, failed.stderr

    forked = run(copy, "mlops", "gate", "--base-ref", "main", "--remote-optional", check=False)
    log = forked.stdout + forked.stderr
    assert forked.returncode == 0, log
    assert "the remote is optional here" in log
    assert f"mae: {newest['champion']['mae']:.4g} -> " in log
