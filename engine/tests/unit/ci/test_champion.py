"""What the gate compares with (mlops_engine.ci.champion), on real git repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from mlops_engine.ci.champion import base_metrics
from tests.project import ROOT, env

METRICS = "reports/metrics.json"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env(), check=True, capture_output=True)


def _commit(repo: Path, params: dict, test_md5: str, mae: float) -> None:
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    lock = {
        "stages": {
            "split": {"outs": [{"path": "data/processed/test.parquet", "md5": test_md5}]},
            "train": {"outs": [{"path": "models/model.joblib", "md5": "0" * 32}]},
        }
    }
    (repo / "dvc.lock").write_text(yaml.safe_dump(lock))
    (repo / "reports").mkdir(exist_ok=True)
    (repo / METRICS).write_text(json.dumps({"mae": mae}))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", f"mae {mae}")


@pytest.fixture
def repo(tmp_path, monkeypatch, params):
    monkeypatch.chdir(tmp_path)
    _git(tmp_path, "init", "-q", "-b", "main")
    _commit(tmp_path, yaml.safe_load((ROOT / "params.yaml").read_text()), "a" * 32, 20.0)
    return tmp_path


def test_the_first_commit_has_no_base_and_says_why(repo, params):
    base = base_metrics("HEAD~1", params, METRICS, Path("dvc.lock"))
    assert base.kind == "none" and base.metrics is None
    assert "HEAD~1 does not exist" in base.explanation


def test_outside_a_git_repository_is_an_error_not_no_base(tmp_path, monkeypatch, params):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="git cannot resolve"):
        base_metrics("HEAD~1", params, METRICS, Path("dvc.lock"))


def test_same_test_split_compares_committed_metrics(repo, params):
    _commit(repo, yaml.safe_load((ROOT / "params.yaml").read_text()), "a" * 32, 19.0)
    base = base_metrics("HEAD~1", params, METRICS, Path("dvc.lock"))
    assert base.kind == "committed" and base.metrics == {"mae": 20.0}


OTHER = {"regression": "classification", "classification": "regression"}


@pytest.mark.parametrize("key", ["contract.target", "contract.task", "ingest.source"])
def test_another_target_task_or_source_means_no_base(repo, params, key):
    """After `mlops init` the base's MAE is on another target's scale: not comparable."""
    ours = yaml.safe_load((ROOT / "params.yaml").read_text())
    section, name = key.split(".")
    theirs = json.loads(json.dumps(ours))
    mine = theirs[section].get(name, params.contract.task if name == "task" else None)
    theirs[section][name] = OTHER.get(mine, f"other-{mine}")
    _commit(repo, theirs, "a" * 32, 1000.0)  # base: another meaning
    _commit(repo, ours, "a" * 32, 20.0)  # head: ours
    base = base_metrics("HEAD~1", params, METRICS, Path("dvc.lock"))
    assert base.kind == "none" and key in base.explanation


def test_a_push_of_two_commits_compares_with_before_not_the_intermediate_commit(repo, params):
    """cd.yml's base is the push's `before`: after a two-commit push (or "Rebase and merge"
    of a two-commit PR) HEAD~1 is the push's own first commit, not main as it was."""
    ours = yaml.safe_load((ROOT / "params.yaml").read_text())
    before = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    _commit(repo, ours, "a" * 32, 30.0)  # the push's first commit: a regression
    _commit(repo, ours, "a" * 32, 29.0)  # its second commit: slightly better than the first
    assert base_metrics(before, params, METRICS, Path("dvc.lock")).metrics == {"mae": 20.0}
    assert base_metrics("HEAD~1", params, METRICS, Path("dvc.lock")).metrics == {"mae": 30.0}


def test_a_push_that_created_the_branch_has_no_base_and_says_why(repo, params):
    base = base_metrics("0" * 40, params, METRICS, Path("dvc.lock"))
    assert base.kind == "none" and base.metrics is None
    assert "this push created the branch" in base.explanation


def test_the_champions_committed_answers_are_used_only_for_the_same_rows(repo, params):
    """The paired gate reads a regression champion's committed predictions.csv only when
    its rows are this test split's (same count, same actual values in order)."""
    import numpy as np

    from mlops_engine.ci.champion import _committed_side

    plots = repo / "reports" / "plots"
    plots.mkdir(parents=True)
    (plots / "predictions.csv").write_text("actual,predicted,residual\n3,2.5,0.5\n4,4.25,-0.25\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "predictions")
    path = "reports/plots/predictions.csv"
    side = _committed_side("HEAD", path, np.array([3, 4]))
    assert side is not None and list(side.predicted) == [2.5, 4.25]
    assert _committed_side("HEAD", path, np.array([4, 3])) is None, "other rows"
    assert _committed_side("HEAD", path, np.array([3, 4, 5])) is None, "other count"
    assert _committed_side("HEAD~1", path, np.array([3, 4])) is None, "not committed there"


def _out(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=env(), check=True, capture_output=True, text=True
    ).stdout.strip()


def test_a_force_pushed_main_fetches_before_by_sha_or_fails_never_no_base(
    tmp_path, monkeypatch, params
):
    """After a force push, the event's `before` is in no branch, so a checkout of branches
    and tags (actions/checkout, fetch-depth 0) lacks it. GitHub serves it by SHA while it
    exists (origin here: uploadpack.allowAnySHA1InWant, as GitHub): it is fetched and
    compared with. Once it is gone the gate fails naming it; it never falls back to "no
    base" (the floor only), which would let a force push skip the comparison (#32 item 6)."""
    ours = yaml.safe_load((ROOT / "params.yaml").read_text())
    origin, author = tmp_path / "origin.git", tmp_path / "author"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    _git(origin, "config", "uploadpack.allowAnySHA1InWant", "true")
    author.mkdir()
    _git(author, "init", "-q", "-b", "main")
    _commit(author, ours, "a" * 32, 20.0)
    _git(author, "remote", "add", "origin", str(origin))
    _commit(author, ours, "a" * 32, 19.0)  # main before the force push
    _git(author, "push", "-q", "origin", "main")
    before = _out(author, "rev-parse", "HEAD")
    _git(author, "reset", "-q", "--hard", "HEAD~1")
    _commit(author, ours, "a" * 32, 30.0)  # rewritten history, a regression
    _git(author, "push", "-q", "--force", "origin", "main")

    runner = tmp_path / "runner"
    # over git's transport (a local clone would copy every object): branches and tags only
    _git(tmp_path, "clone", "-q", "--no-local", str(origin), str(runner))
    monkeypatch.chdir(runner)
    assert subprocess.run(["git", "cat-file", "-e", before], check=False).returncode != 0
    base = base_metrics(before, params, METRICS, Path("dvc.lock"))
    assert base.kind == "committed" and base.metrics == {"mae": 19.0}

    _git(origin, "reflog", "expire", "--expire=now", "--all")
    _git(origin, "gc", "-q", "--prune=now")  # GitHub garbage-collected it
    later = tmp_path / "later"
    _git(tmp_path, "clone", "-q", "--no-local", str(origin), str(later))
    monkeypatch.chdir(later)
    with pytest.raises(ValueError, match=f"commit {before}, the base to compare with, is not"):
        base_metrics(before, params, METRICS, Path("dvc.lock"))
    # the first push of a branch and a one-commit repository's HEAD~1 stay "no base"
    assert base_metrics("0" * 40, params, METRICS, Path("dvc.lock")).kind == "none"
