"""The ``retrain`` command's work: feedback file, window, ``dvc repro``, champion/challenger.

Everything is checked before anything is written: labelled rows that break the contract
stop the command with the column and rule, and the training data stays as it was.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlops_engine import git, params_file, storage
from mlops_engine.caps import cap
from mlops_engine.ci.report import ReportRequest, build_report
from mlops_engine.config import Params, load_params
from mlops_engine.contract import LOGGED_AT
from mlops_engine.ct.challenger import compare, feedback_name, moved_window, new_feedback, render
from mlops_engine.ct.monitor import production_rows, summary_markdown
from mlops_engine.pipeline.reproduce import reproduce

log = logging.getLogger(__name__)


def pr_body(title: str, intro: str, sections: str, key: str, where: str) -> tuple[str, str]:
    """(full, shown): the retraining PR's body, and the same within GitHub's cap on a PR
    body (ci/markdown.py ``fit``: long tables such as a per-column drift table or a params
    diff of every contract entry lose rows, with a pointer to ``where`` the full one is)."""
    full = f"# {title}\n\n{intro}\n\n{sections}\n<!-- retrain-key: {key} -->\n"
    return full, cap(full, where)


def _drift_section(summary_path: Path) -> str:
    if not summary_path.exists():
        return "No drift summary (retraining was started by hand).\n\n"
    return summary_markdown(storage.read_json(summary_path))


@dataclass(frozen=True)
class RetrainPaths:
    """Where retraining reads and writes (the ``retrain`` command's arguments, typed)."""

    model: Path = Path("models/model.joblib")
    test: Path = Path("data/processed/test.parquet")
    feedback_dir: Path = Path("data/feedback")
    params: Path = Path("params.yaml")
    dvc_file: Path = Path("dvc.yaml")
    monitor_summary: Path = Path("reports/monitor/summary.json")
    out_dir: Path = Path("reports/retrain")


def run_retrain(a: RetrainPaths, params: Params, artifact_url: str | None = None) -> str:
    """Returns the idempotency key: base commit + new data + params + drift inputs."""
    contract = params.contract
    labelled = production_rows(
        params.monitor.labelled_sink, "labelled rows", params, list(contract.columns)
    )
    end = params.split.window.end
    rows = new_feedback(labelled, contract, pd.Timestamp(end) if end else None)
    if rows.empty:
        raise ValueError(f"no labelled rows arrived since the training window's end ({end})")
    target = Path(a.feedback_dir) / feedback_name(rows)
    if target.exists():
        raise ValueError(f"{target} exists: this data was already added")
    champion = storage.read_model(a.model)
    old_test = storage.read_parquet(a.test)
    storage.write_parquet(rows.drop(columns=[LOGGED_AT]), target)
    moved = moved_window(params.split.window, rows, contract.time_column, params.retrain)
    params_file.update(a.params, moved)
    log.info("retrain: +%d rows -> %s; window %s", len(rows), target, moved)
    reproduce(push=True)
    new_params = load_params(a.params)
    challenger, new_test = storage.read_model(a.model), storage.read_parquet(a.test)
    comparison = compare(
        champion,
        challenger,
        {
            "newest, held out (new test split)": new_test,
            (
                "previous test split (the challenger trained on it)"
                if contract.time_column
                else "previous test split (a new random split: partly trained on)"
            ): old_test,
        },
        new_params.contract,
    )
    out = a.out_dir
    storage.write_json(comparison, out / "comparison.json")
    key_basis = "|".join(
        [
            git.commit_of("HEAD"),
            hashlib.sha256(target.read_bytes()).hexdigest(),
            a.params.read_text(),
            storage.read_json(a.monitor_summary).get("drift_key", "")
            if a.monitor_summary.exists()
            else "",
        ]
    )
    key = hashlib.sha256(key_basis.encode()).hexdigest()[:16]
    report = build_report(
        ReportRequest(
            base_ref="HEAD",
            title="Pipeline report: retrained vs current main",
            artifact_url=artifact_url,
            dvc_file=a.dvc_file,
            params=a.params,
        ),
        new_params,
    )
    title = f"Retrain on production data up to {moved['split.window.end'][:10]}"
    intro = (
        f"Opened by the continuous-training workflow: {len(rows):,} labelled production rows "
        f"added as `{target}`, "
        + (
            f"training window moved to {moved}."
            if contract.time_column
            else "split at random with the rest (no time column); `split.window.end` records "
            f"that rows logged before {moved['split.window.end']} are learned."
        )
    )
    full = out / "pr-full.md"
    body, shown = pr_body(
        title,
        intro,
        render(comparison) + _drift_section(a.monitor_summary) + report,
        key,
        f"`{full}` on branch `{params.retrain.branch}` and in "
        + (
            f"[the workflow run's artifacts]({artifact_url})"
            if artifact_url
            else "the workflow run's artifacts"
        )
        + " (artifact `retrain-report`)",
    )
    if shown != body:
        storage.write_bytes(body.encode(), full)
        log.warning("retrain: PR body of %d characters shortened for GitHub", len(body))
    else:
        full.unlink(missing_ok=True)  # not left over from an earlier, longer run
    storage.write_bytes(shown.encode(), out / "pr.md")
    storage.write_bytes(f"{key}\n".encode(), out / "key.txt")
    return key
