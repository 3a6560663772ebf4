"""The scheduled continuous-training workflow under act, on throwaway repositories.

Real: the drift check (Evidently), retraining (dvc repro), git branches pushed to a bare
`origin`. Stand-ins: the `gh` CLI (records calls, keeps the open PRs in a file) and the
GitHub actions listed in standins/README.md. A new repository's first night (the warning
without the App, then the App's one PR on the moved main) is the loop's step 3, and a night
that opens the PR with GITHUB_TOKEN (the setting on, no App) is its after-init part
(tests/workflows/test_loop.py). Two runs never overlap on GitHub (ct.yml's concurrency
group, tests/workflows/test_workflow_files.py); a push that still meets another's is a lost
race on real git in tests/unit/ct/test_proposal.py.
"""

from __future__ import annotations

import fsspec
import pandas as pd
import pytest

from tests.s3 import s3_environment
from tests.workflows.act import act, sandbox, seed_production

pytestmark = [pytest.mark.slow, pytest.mark.example]
BRANCH = "retrain/auto"


def _run(box, *variables: str, extra: tuple[str, ...] = ()):
    """ct.yml dispatched, with NAME=VALUE repository variables and act's ``extra`` flags."""
    for v in variables:
        extra += ("--var", v)
    return act(box, "workflow_dispatch", {}, "ct.yml", extra=extra)


def _branch_head(box) -> str | None:
    out = box.git("ls-remote", "--heads", "origin", f"refs/heads/{BRANCH}").strip()
    return out.split()[0] if out else None


def test_a_corrupted_production_batch_fails_at_validation_not_as_drift(
    tmp_path, dvc_seed, params, model, s3_server
):
    from mlops_engine import storage
    from mlops_engine.pipeline.ingest import ingest

    box = sandbox(tmp_path, dvc_seed)
    whole = params.ingest.model_copy(update={"history_until": None})
    year = ingest(storage.read_table(box.repo / params.ingest.source), whole)
    april = year[(year["timestamp"] >= "2011-04-01") & (year["timestamp"] < "2011-05-01")]
    april = april.reset_index(drop=True)
    sinks = seed_production(box, april, model, params, labelled=True, s3=s3_server)
    with s3_environment(s3_server):
        fs, root = fsspec.url_to_fs(sinks["labelled"])
        bad = sorted(fs.glob(f"{root}/date=*/*.parquet"))[3]
        with fs.open(bad, "rb") as fh:
            frame = pd.read_parquet(fh)
        frame.loc[0, "hum"] = 7.0
        with fs.open(bad, "wb") as fh:
            frame.to_parquet(fh, index=False)
    feedback_before = sorted(p.name for p in (box.repo / "data" / "feedback").iterdir())

    result = _run(box, "CT_DEMO_STREAM=false")
    assert result.returncode != 0
    assert "column 'hum' failed rule 'max <= 1'" in result.stdout + result.stderr
    assert "it is not drift" in result.stdout + result.stderr
    assert _branch_head(box) is None and box.prs() == []
    assert sorted(p.name for p in (box.repo / "data" / "feedback").iterdir()) == feedback_before
