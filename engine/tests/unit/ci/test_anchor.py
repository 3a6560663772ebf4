"""The fixed anchor's plumbing (ci/anchor.py) on real git repositories: which release is
the anchor, how many models the public test rows have judged, and the report's anchor line
(an outcome, never a holdout figure). The chain of five PRs is tests/model/test_anchor_chain.py;
the anchor on a real pipeline's holdout is tests/pipeline/test_gate_window.py."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from mlops_engine.ci import anchor as anchors
from mlops_engine.ci.gate import MetricCheck
from mlops_engine.ci.markdown import ReportInputs, render
from mlops_engine.config import load_params
from tests.conftest import ROOT


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _commit(repo, test_md5: str, model_md5: str, message: str) -> None:
    lock = {
        "stages": {
            "split": {
                "outs": [
                    {"path": "data/processed/train.parquet", "md5": "t" * 32},
                    {"path": "data/processed/test.parquet", "md5": test_md5},
                    {"path": "data/processed/holdout.parquet", "md5": "h" * 32},
                ]
            },
            "train": {"outs": [{"path": "models/model.joblib", "md5": model_md5}]},
        }
    }
    (repo / "dvc.lock").write_text(yaml.safe_dump(lock))
    (repo / "note.txt").write_text(message)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", message)


def test_the_newest_release_tag_in_version_order_is_the_anchor(repo):
    _commit(repo, "a" * 32, "1" * 32, "first")
    assert anchors.release("model-v*") is None, "no release yet"
    _git(repo, "tag", "model-v9")
    _commit(repo, "a" * 32, "2" * 32, "second")
    _git(repo, "tag", "-a", "model-v10", "-m", "release")  # annotated: its commit, not the tag
    _commit(repo, "a" * 32, "3" * 32, "third")
    _git(repo, "tag", "other-v11")
    tag, commit = anchors.release("model-v*")
    head_1 = subprocess.run(
        ["git", "rev-parse", "HEAD~1"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert (tag, commit) == ("model-v10", head_1)


def test_the_public_rows_count_every_model_they_judged_since_they_were_drawn(repo):
    """Distinct models on the first-parent history with today's test split: a retraining
    that moved the test split starts the count again; a params-only commit (the same model)
    and a side branch's own commits do not count."""
    _commit(repo, "a" * 32, "1" * 32, "old split")
    _commit(repo, "b" * 32, "2" * 32, "new test rows")
    _commit(repo, "b" * 32, "3" * 32, "a PR's model")
    _commit(repo, "b" * 32, "3" * 32, "a docs change, same model")
    _git(repo, "switch", "-q", "-c", "side")
    _commit(repo, "b" * 32, "4" * 32, "tried on a branch")
    _commit(repo, "b" * 32, "5" * 32, "tried again")
    _git(repo, "switch", "-q", "main")
    _git(repo, "merge", "-q", "--no-ff", "side", "-m", "merge the side branch")
    from pathlib import Path

    # merged: the merge commit's model (5) counts, the side branch's model 4 never did
    assert anchors.public_queries(Path("dvc.lock")) == (3, False)
    _commit(repo, "c" * 32, "5" * 32, "retrained on a moved window")
    assert anchors.public_queries(Path("dvc.lock")) == (1, False)


def test_the_reports_anchor_line_is_an_outcome_without_a_figure():
    """The line names the release, the rule and the outcome; the anchor check's values,
    difference and interval (holdout figures) are in no form in the rendered report."""
    params = load_params(ROOT / "params.yaml")
    anchor = params.gate.anchor.model_copy(update={"budget": 0.08, "scale": "relative"})
    params = params.model_copy(update={"gate": params.gate.model_copy(update={"anchor": anchor})})
    check = MetricCheck(
        "mae vs anchor",
        23.4567,
        26.789,
        "lower",
        0.08,
        "regressed",
        reference="anchor",
        low=2.3456,
        high=4.5678,
        rows=104,
    )
    found = anchors.Anchor("model-v3", "0123456789abcdef", check, rows=104)
    text = anchors.line(found, params)
    assert found.failed and text.startswith("❌ **Anchor** `model-v3`")
    assert "mae vs anchor shown beyond the budget: at most 8% worse" in text
    report = render(
        ReportInputs(
            "Model report", [], {"mae": 20.0}, None, [], None, anchor=text, anchor_failed=True
        )
    )
    assert "❌ **Quality gate failed** against the anchor" in report
    assert text in report
    for value in (23.4567, 26.789, 26.789 - 23.4567, 2.3456, 4.5678):
        for shown in (f"{value:.4g}", f"{value:.3g}", f"{value:.2f}", f"{value:+.4g}"):
            assert shown not in report, shown
    passed = anchors.line(anchors.Anchor("model-v3", "0" * 40, None, "no release yet"), params)
    assert passed.startswith("➖ **Anchor**: no release yet")
