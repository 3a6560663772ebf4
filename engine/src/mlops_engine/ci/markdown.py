"""The pull-request report: one markdown document, the same in the PR comment, the job
summary and the retraining PR body. Its words, sections and tables are the template
``pr_report.md.j2`` (``mlops_engine.templating``: a project's ``templates/`` copy wins);
this module computes what the template shows.

Charts GitHub can draw without any image hosting are inlined as Mermaid; the PNG figures
are either linked from the workflow's artifact (default: nothing leaves GitHub) or
referenced as local files for ``cml comment --publish`` (explicit opt-in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlops_engine import templating
from mlops_engine.ci.comment import MARKER
from mlops_engine.ci.gate import MetricCheck


@dataclass(frozen=True)
class ReportInputs:
    title: str
    checks: Sequence[MetricCheck]
    current: Mapping[str, Any]
    base: Mapping[str, Any] | None
    params_diff: Sequence[tuple[str, Any, Any]]
    validation: Mapping[str, Any] | None
    slices: Mapping[str, Any] | None = None
    base_slices: Mapping[str, Any] | None = None
    importance: Sequence[tuple[str, float]] = ()
    figures: Sequence[str] = ()
    images: Literal["link", "local"] = "link"
    artifact_url: str | None = None
    versions: Mapping[str, str] = field(default_factory=dict)
    base_label: str = "base"
    plots_diff: str | None = None
    notes: Sequence[str] = ()
    confidence: str = "95%"
    # why the paired comparison could not run (the checks are then the point comparison,
    # shown for reference; `mlops gate` fails with the same error)
    paired_error: str | None = None
    accept_label: str = "gate:accept"
    # the fixed anchor's line (ci/anchor.py line): its outcome only, no holdout figure
    anchor: str | None = None
    anchor_failed: bool = False


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, Mapping):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): tree}


def params_diff(
    base: Mapping[str, Any] | None, current: Mapping[str, Any]
) -> list[tuple[str, Any, Any]]:
    """(key, base value, new value) for every changed, added or removed leaf."""
    old, new = flatten(base or {}), flatten(current)
    return [
        (k, old.get(k), new.get(k))
        for k in sorted(old.keys() | new.keys())
        if old.get(k) != new.get(k)
    ]


def _who(c: MetricCheck) -> str:
    return f"{c.name} on {c.slice}" if c.slice else c.name


def outcomes(checks: Sequence[MetricCheck]) -> dict[str, list[str]]:
    """The checks' names by outcome beyond a plain pass: failed (shown worse than the
    tolerance), inconclusive and needing review, inconclusive and failing, accepted by the
    label, passed with a warning, and too small to tell."""
    return {
        "failed": [_who(c) for c in checks if c.failed and c.outcome == "fail"],
        "needs": [
            _who(c)
            for c in checks
            if c.failed and c.outcome == "inconclusive" and c.action == "needs review"
        ],
        "fails": [
            _who(c)
            for c in checks
            if c.failed and c.outcome == "inconclusive" and c.action != "needs review"
        ],
        "accepted": [_who(c) for c in checks if c.action == "accepted by label"],
        "warned": [_who(c) for c in checks if c.action == "warning"],
        "small": [_who(c) for c in checks if c.verdict == "too small to tell"],
    }


def gate_summary(
    checks: Sequence[MetricCheck], accept_label: str, overrides: Path | None = None
) -> str:
    """The required check's summary (``gate_summary.md.j2``): its outcome, then what failed,
    what needs review (and how to accept it), what was accepted by the label, what passed
    with a warning and what was too small to tell."""
    context = {"outcomes": outcomes(checks), "accept_label": accept_label}
    return templating.render("gate_summary.md.j2", context, overrides)


def model_choice(selection: Mapping[str, Any] | None) -> list[str]:
    """How train chose the model (``_model_choice.md.j2``): candidates with CV scores, the
    winner, the threshold; its lines, none without a selection."""
    if not selection:
        return []
    text = templating.render("_model_choice.md.j2", {"selection": selection})
    return text.rstrip("\n").split("\n")


def _slice_chart(inputs: ReportInputs) -> dict[str, Any] | None:
    """The first slice's first metric per group, now and (when the base has the slice) before."""
    if not inputs.slices:
        return None
    name, groups = next(iter(inputs.slices.items()))
    metric = next((k for k in next(iter(groups.values())) if k != "n"), None)
    if metric is None:
        return None
    labels = list(groups)
    base_groups = (inputs.base_slices or {}).get(name)
    return {
        "name": name,
        "metric": metric,
        "labels": labels,
        "now": [groups[g].get(metric) or 0.0 for g in labels],
        "before": [(base_groups.get(g) or {}).get(metric) or 0.0 for g in labels]
        if base_groups
        else None,
    }


def context(inputs: ReportInputs) -> dict[str, Any]:
    """What ``pr_report.md.j2`` gets (docs/ci.md#the-reports-wording): the figures, computed
    here; the words are the template's."""
    from mlops_engine.pipeline.metrics import class_coverage

    checks = list(inputs.checks)
    return {
        "title": inputs.title,
        "checks": checks,
        "paired": any(c.low is not None for c in checks),
        "overall": [c for c in checks if c.slice is None],
        "slices": [c for c in checks if c.slice is not None],
        "paired_error": inputs.paired_error,
        # what failed, as the gate's log says it (not needed when the gate could not run)
        "failures": [] if inputs.paired_error else [c.describe() for c in checks if c.failed],
        "outcomes": outcomes(checks)
        if not inputs.paired_error and any(c.action for c in checks)
        else None,
        "accept_label": inputs.accept_label,
        "anchor": inputs.anchor,
        "anchor_failed": inputs.anchor_failed,
        "base_label": inputs.base_label,
        "confidence": inputs.confidence,
        "coverage": class_coverage(dict(inputs.current)),
        "selection": inputs.current.get("model_selection"),
        "params_diff": list(inputs.params_diff),
        "validation": inputs.validation,
        "slice_chart": _slice_chart(inputs),
        "importance": list(inputs.importance),
        "figures": list(inputs.figures),
        "images": inputs.images,
        "artifact_url": inputs.artifact_url,
        "notes": list(inputs.notes),
        "versions": dict(inputs.versions),
    }


def render(inputs: ReportInputs, overrides: Path | None = None) -> str:
    """The report (``pr_report.md.j2``, the project's copy in ``overrides`` first), ended by
    the marker `make comment` finds the one report comment by (ci/comment.py)."""
    text = templating.render("pr_report.md.j2", context(inputs), overrides)
    return text.rstrip("\n") + "\n\n" + MARKER + "\n"
