"""The pull-request report, built: its inputs gathered from the workspace and the base
revision, rendered by ``ci/markdown.py`` with the project's ``templates/pr_report.md.j2``
when it has one. The retraining PR's body reuses it."""

from __future__ import annotations

import csv
import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mlops_engine import git, storage
from mlops_engine.ci.anchor import public_queries
from mlops_engine.ci.champion import Base, base_metrics, gate_rows
from mlops_engine.ci.gate import MetricCheck, all_checks, paired_checks
from mlops_engine.ci.markdown import ReportInputs, params_diff, render
from mlops_engine.config import Params, read_yaml
from mlops_engine.outputs import locate, lock_versions
from mlops_engine.templating import PROJECT_TEMPLATES

log = logging.getLogger(__name__)


def _optional_json(path: str | None):
    return storage.read_json(path) if path and Path(path).exists() else None


def _importance(plots_dir: str | None) -> list[tuple[str, float]]:
    path = Path(plots_dir or "", "importance.csv")
    if not plots_dir or not path.exists():
        return []
    with path.open() as fh:
        return [(row["feature"], float(row["importance"])) for row in csv.DictReader(fh)]


def _plots_diff(base_ref: str, out: str) -> str | None:
    proc = subprocess.run(
        ["dvc", "plots", "diff", base_ref, "-o", out], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        log.warning("dvc plots diff %s failed: %s", base_ref, proc.stderr.strip()[-300:])
        return None
    return out


@dataclass(frozen=True)
class ReportRequest:
    """What to compare and where things are (the ``report`` command's arguments, typed)."""

    base_ref: str
    title: str = "Model report"
    images: Literal["link", "local"] = "link"
    artifact_url: str | None = None
    plots_diff: Path | None = None  # write `dvc plots diff` HTML here
    out: Path | None = None  # where the markdown goes (image paths are made relative to it)
    dvc_file: Path = Path("dvc.yaml")
    params: Path = Path("params.yaml")
    lock: Path = Path("dvc.lock")
    remote_optional: bool = False  # a fork's PR: re-score without the DVC remote if need be
    accepted: bool = False  # the PR carries gate.accept_label (inconclusive checks accepted)


def build_report(a: ReportRequest, params: Params) -> str:
    where = locate(Path(a.dvc_file))
    current = storage.read_json(where.metrics)
    compared = base_metrics(a.base_ref, params, where.metrics, a.lock, a.remote_optional)
    base = compared.metrics
    paired_error = None
    seed_note = None
    try:
        checks, seed_note = _paired(a, params, compared, where.plots_dir)
    except (OSError, KeyError, ValueError) as err:  # the report still shows what it can
        log.error("report: the paired comparison failed: %s", err)
        paired_error = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
        checks = all_checks(base, current, params.gate)
    anchor_text, anchor_failed = _anchor(a, params)
    exists = git.exists(a.base_ref)
    base_text = git.read_at(a.base_ref, "params.yaml") if exists else None
    base_params = None if base_text is None else read_yaml(base_text)
    current_params = read_yaml(Path(a.params).read_text())
    figures = (
        sorted(str(p) for p in Path(where.figures_dir or "").glob("*.png"))
        if where.figures_dir
        else []
    )
    out = a.out
    plot = _interval_png(checks, out)
    if plot:
        figures.append(plot)
    if a.images == "local" and out:
        # `cml comment --publish` resolves image paths relative to the markdown file's folder
        # (cml 0.20.6 src/cml.js commentCreate: path.resolve(path.dirname(markdownFile), url))
        # and silently skips a path that is not there: write them relative to the report.
        figures = [os.path.relpath(f, Path(out).parent) for f in figures]
    notes = []
    plots_diff = _plots_diff(a.base_ref, str(a.plots_diff)) if a.plots_diff and exists else None
    if a.plots_diff and exists and plots_diff is None:
        notes.append(f"`dvc plots diff {a.base_ref}` could not run (see the job log).")
    from mlops_engine.lock_diff import note as reproduction_note

    reproduced = reproduction_note(a.base_ref if exists else None)
    if reproduced:
        notes.append(reproduced)
    if seed_note and any(c.low is not None and c.reference == "base" for c in checks):
        notes.append(seed_note)  # whether training randomness is counted (ci/seeds.py)
    queried = public_queries(a.lock)
    if queried is not None:
        count, cut = queried
        notes.append(
            f"The public test rows have judged {'at least ' if cut else ''}{count} model(s) "
            "(this change's and the base branch's since they were drawn, from the git history "
            "of dvc.lock; pull requests never merged not counted): the more, the more its "
            "figures flatter the models tuned on them. The anchor is judged on rows no report "
            "shows (docs/ci.md)."
        )
    notes.append(
        f"Compared with {compared.explanation}."
        if base is not None
        else f"No base to compare with: {compared.explanation}."
    )
    versions = {"commit": git.commit_of("HEAD")[:12]}
    if exists:
        versions[a.base_ref] = git.commit_of(a.base_ref)[:12]
    versions.update({path: md5[:12] for path, md5 in lock_versions(Path("dvc.lock")).items()})
    inputs = ReportInputs(
        title=a.title,
        checks=checks,
        current=current,
        base=base,
        params_diff=params_diff(base_params, current_params),
        validation=_optional_json(where.validation),
        slices=_optional_json(where.slices),
        base_slices=git.json_at(a.base_ref, where.slices)
        if where.slices and compared.kind == "committed"
        else None,
        importance=_importance(where.plots_dir),
        figures=figures,
        images=a.images,
        artifact_url=a.artifact_url,
        versions=versions,
        base_label=f"{a.base_ref} (re-scored)" if compared.kind == "rescored" else a.base_ref,
        notes=notes,
        confidence=f"{params.gate.confidence:.0%}",
        accept_label=params.gate.accept_label,
        paired_error=paired_error,
        anchor=anchor_text,
        anchor_failed=anchor_failed,
    )
    # the project's own wording (templates/pr_report.md.j2 next to dvc.yaml), when it has one
    return render(inputs, Path(a.dvc_file).parent / PROJECT_TEMPLATES)


def _anchor(a: ReportRequest, params: Params) -> tuple[str, bool]:
    """The anchor's line (its outcome, never a holdout figure) and whether it fails."""
    from mlops_engine.ci import anchor as anchors

    try:
        found = anchors.judge(
            params, a.lock, accepted=a.accepted, remote_optional=a.remote_optional
        )
    except (OSError, KeyError, ValueError, RuntimeError) as err:
        log.error("report: the anchor check failed: %s", err)
        reason = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
        return f"❌ **Anchor**: the check could not run: {reason}", True
    return anchors.line(found, params), found.failed


# --- the paired gate in the report (the same checks as `mlops gate`) --------------------


def _paired(a: ReportRequest, params: Params, compared: Base, plots_dir: str | None):
    csv_path = f"{plots_dir}/predictions.csv" if plots_dir else None
    rows = gate_rows(a.base_ref, compared, params, a.lock, csv_path, a.remote_optional)
    from mlops_engine.ci.seeds import for_rows

    rows, seed_runs = for_rows(rows, params, a.lock)
    return paired_checks(rows, params.gate, accepted=a.accepted), seed_runs.note()


def _interval_png(checks: list[MetricCheck], out: Path | None) -> str | None:
    """The intervals' figure next to the report (reports/pr/intervals.png), or None."""
    from mlops_engine.ci.interval_plot import interval_figure

    png = interval_figure(checks)
    if png is None or out is None:
        return None
    path = Path(out).parent / "intervals.png"
    storage.write_bytes(png, path)
    return str(path)
