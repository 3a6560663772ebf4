"""The `cml` stand-in does what real CML 0.20.6 requires and fails where it fails (see its
docstring for the source lines), and the PR report's images survive the trip through the
artifact to `cml comment update --publish`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.project import BIN, clone, env, run

# The harness's stand-ins, not the product: in `make test`, not in pr.yml's unit tier.
pytestmark = pytest.mark.workflows
CML = Path(__file__).parent / "standins" / "bin" / "cml"


def _cml(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in env().items() if k not in ("CML_REPO", "REPO_TOKEN")}
    return subprocess.run(
        [str(CML), "comment", "update", *args],
        cwd=cwd,
        env={**clean, "STANDIN_CML_STATE": str(cwd / "state"), **extra},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def folder(tmp_path) -> Path:
    """A job workspace without a checkout: a downloaded report, no git repository."""
    (tmp_path / "report.md").write_text("# Report\n")
    return tmp_path


def _comments(folder: Path) -> list[dict]:
    return json.loads((folder / "state" / "comments.json").read_text())


def test_without_a_checkout_or_repo_it_fails_like_cml(folder):
    result = _cml(folder, "--target=pr", "report.md", REPO_TOKEN="t")
    assert result.returncode == 1
    assert "git config --get remote.origin.url" in result.stderr


@pytest.mark.parametrize("how", ["option", "env"])
def test_repo_by_option_or_cml_repo_posts_one_updatable_comment(folder, how):
    repo = "https://github.com/acme/churn"
    extra = {"CML_REPO": repo} if how == "env" else {}
    args = ("--repo", repo) if how == "option" else ()
    for _ in range(2):
        result = _cml(folder, *args, "--watermark-title=r", "report.md", REPO_TOKEN="t", **extra)
        assert result.returncode == 0, result.stderr
    (comment,) = _comments(folder)
    assert comment["updates"] == 1
    call = json.loads((folder / "state" / "calls.jsonl").read_text().splitlines()[-1])
    assert call["repo"] == repo


def test_update_edits_only_the_comment_on_the_events_pull_request(folder):
    """Two PRs (a person's and the retraining one) each keep their own report comment."""
    for number in (1, 2, 1):
        event = folder / f"event-{number}.json"
        event.write_text(json.dumps({"pull_request": {"number": number, "head": {"sha": "a"}}}))
        result = _cml(
            folder,
            "--repo=https://github.com/acme/churn",
            "--watermark-title=r",
            "report.md",
            REPO_TOKEN="t",
            GITHUB_EVENT_NAME="pull_request",
            GITHUB_EVENT_PATH=str(event),
        )
        assert result.returncode == 0, result.stderr
    assert [(c["pr"], c["updates"]) for c in _comments(folder)] == [(1, 1), (2, 0)]


def test_unknown_option_and_missing_token_fail(folder):
    bad = _cml(
        folder, "--repo=https://github.com/a/b", "--watermark=x", "report.md", REPO_TOKEN="t"
    )
    assert bad.returncode == 1 and "Unknown argument: watermark" in bad.stderr
    untokened = _cml(folder, "--repo=https://github.com/a/b", "report.md")
    assert untokened.returncode == 1 and "token not found" in untokened.stderr


def test_publish_resolves_images_relative_to_the_markdown_file(tmp_path):
    (tmp_path / "reports" / "pr").mkdir(parents=True)
    (tmp_path / "reports" / "figures").mkdir()
    (tmp_path / "reports" / "figures" / "a.png").write_bytes(b"png")
    md = tmp_path / "reports" / "pr" / "report.md"
    md.write_text("![a](../figures/a.png) ![b](reports/figures/a.png)\n")
    result = _cml(tmp_path, "--repo=https://github.com/a/b", "--publish", str(md), REPO_TOKEN="t")
    assert result.returncode == 0, result.stderr
    (comment,) = _comments(tmp_path)
    assert "![a](https://asset.cml.dev/" in comment["body"]
    assert "![b](reports/figures/a.png)" in comment["body"], "root-relative: not found, kept"


def test_report_images_are_published_from_the_downloaded_artifact(tmp_path):
    """pr.yml: `make report REPORT_IMAGES=local` writes reports/pr/report.md; the artifact
    holds reports/pr/ and reports/figures/ (common parent reports/) and the comment job
    downloads it into `reports`, then `cml comment update --publish reports/pr/report.md`."""
    project = clone(tmp_path / "project")  # the committed figures; no pipeline outputs, so
    # no paired comparison and no intervals.png (test_gate_report covers that figure)
    run(project, str(BIN / "mlops"), "report", "--base-ref", "HEAD", "--images", "local",
        "--out", "reports/pr/report.md", "--summary", "")  # fmt: skip
    job = tmp_path / "comment-job"
    for part in ("pr", "figures"):
        shutil.copytree(project / "reports" / part, job / "reports" / part)
    result = _cml(
        job, "--repo=https://github.com/acme/churn", "--publish", "reports/pr/report.md",
        REPO_TOKEN="t",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    call = json.loads((job / "state" / "calls.jsonl").read_text())
    figures = sorted(
        p.name for part in ("pr", "figures") for p in (project / "reports" / part).glob("*.png")
    )
    assert figures and sorted(Path(p).name for p in call["published"]) == figures
