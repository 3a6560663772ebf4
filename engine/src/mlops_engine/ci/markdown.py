"""The pull-request report: one markdown document, the same in the PR comment, the job
summary and the retraining PR body.

Charts GitHub can draw without any image hosting are inlined as Mermaid; the PNG figures
are either linked from the workflow's artifact (default: nothing leaves GitHub) or
referenced as local files for ``cml comment --publish`` (explicit opt-in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlops_engine.ci.comment import MARKER
from mlops_engine.ci.gate import MetricCheck
from mlops_engine.metric_defs import arrow

_ICON = {
    "improved": "✅",
    "unchanged": "✅",
    "within tolerance": "🟡",
    "within noise": "✅",
    "inconclusive": "❔",
    "too small to tell": "❔",
    "regressed": "❌",
    "undefined": "❌",
    "no base": "➖",
    "missing": "❌",
}


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


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _delta(check: MetricCheck) -> str:
    if check.delta is None:
        return "–"
    rel = f" ({check.delta / abs(check.base):+.1%})" if check.base else ""
    return f"{check.delta:+.4g}{rel}"


def _metrics_table(inputs: ReportInputs) -> list[str]:
    lines = [
        f"| metric | {inputs.base_label} | this change | delta | better | verdict |",
        "|---|---:|---:|---:|:---:|---|",
    ]
    for c in inputs.checks:
        better = arrow(c.direction)
        lines.append(
            f"| {c.name} | {_num(c.base)} | {_num(c.current)} | {_delta(c)} | {better} "
            f"| {_ICON[c.verdict]} {c.verdict} (tol. {c.tolerance:.0%}) |"
        )
    return lines


# --- the paired gate's tables (checks with an interval; ci/gate.py paired_checks) ---------


def _interval_cell(c: MetricCheck) -> str:
    return "–" if c.delta is None else f"{c.delta:+.4g} {c.interval_text()}".strip()


def _sides(c: MetricCheck) -> str:
    if c.reference != "base":  # the floor: the naive baseline's value -> the model's
        return f"{c.reference} {_num(c.base)} → model {_num(c.current)}"
    return f"{_num(c.base)} → {_num(c.current)}"


def _tolerance_cell(c: MetricCheck) -> str:
    if c.reference != "base":
        return "not worse" if c.tolerance == 0 else f"{c.tolerance:.0%} better"
    return f"{c.tolerance_text()} (= {_num(c.allowed)})"


def _detectable_cell(c: MetricCheck) -> str:
    if c.reference != "base" or c.detectable is None or c.detectable != c.detectable:
        return "–"
    return _num(c.detectable)


def _verdict_cell(c: MetricCheck) -> str:
    text = f"{_ICON[c.verdict]} {c.verdict}"
    if c.action:
        text += f" ({c.action})"
    if c.undefined:
        text += f"; undefined on {c.undefined:,} resamples"
    return text


def paired_tables(checks: Sequence[MetricCheck], base_label: str, confidence: str) -> list[str]:
    """Each metric and each slice as champion -> challenger with the paired interval (the
    intervals hold together: simultaneous over every check), the tolerance and the
    smallest regression the test rows detect (failed 80% of the time)."""
    overall = [c for c in checks if c.slice is None]
    slices = [c for c in checks if c.slice is not None]
    head = (
        f"| check | {base_label} → this change | difference [{confidence} interval] "
        "| better | tolerance | detectable | verdict |"
    )
    lines = [head, "|---|---|---|:---:|---|---:|---|"]
    for c in overall:
        better = arrow(c.direction)
        lines.append(
            f"| {c.name} | {_sides(c)} | {_interval_cell(c)} | {better} "
            f"| {_tolerance_cell(c)} | {_detectable_cell(c)} | {_verdict_cell(c)} |"
        )
    if slices:
        lines += [
            "",
            f"Slices ({slices[0].name}; a slice fails when its interval shows a regression "
            "beyond the tolerance, whatever its size):",
            "",
            f"| slice | rows | {base_label} → this change | difference [{confidence} interval] "
            "| tolerance | detectable | verdict |",
            "|---|---:|---|---|---|---:|---|",
        ]
        for c in slices:
            lines.append(
                f"| {c.slice} | {c.rows:,} | {_num(c.base)} → {_num(c.current)} "
                f"| {_interval_cell(c)} | {_tolerance_cell(c)} | {_detectable_cell(c)} "
                f"| {_verdict_cell(c)} |"
            )
    lines += [
        "",
        "*pass*: the interval's worse end is within the tolerance; *regressed*: its better "
        "end is beyond it; *inconclusive* (or *too small to tell*: a slice with too few rows "
        "or an interval too wide): neither. *detectable*: the regression these test rows "
        "fail 80% of the time. The intervals hold together over every check.",
    ]
    return lines


def _who(c: MetricCheck) -> str:
    return f"{c.name} on {c.slice}" if c.slice else c.name


def gate_summary(checks: Sequence[MetricCheck], accept_label: str) -> str:
    """The required check's summary: its outcome, then what failed, what needs review (and
    how to accept it), what was accepted by the label, what passed with a warning and what
    was too small to tell."""
    failed = [c for c in checks if c.failed and c.outcome == "fail"]
    review = [c for c in checks if c.failed and c.outcome == "inconclusive"]
    accepted = [c for c in checks if c.action == "accepted by label"]
    warned = [c for c in checks if c.action == "warning"]
    small = [c for c in checks if c.verdict == "too small to tell"]
    head = "❌ **Quality gate failed**" if failed or review else "✅ **Quality gate passed**"
    lines = [f"### {head}", ""]
    if failed:
        lines.append("Regressed (shown worse than the tolerance): " + ", ".join(map(_who, failed)))
    if review:
        needs = [c for c in review if c.action == "needs review"]
        fails = [c for c in review if c.action != "needs review"]
        if needs:
            lines.append(
                "Needs review (inconclusive): " + ", ".join(map(_who, needs)) + f"; a "
                f"maintainer who accepts them adds the label `{accept_label}`"
            )
        if fails:
            lines.append("Inconclusive, which fails here: " + ", ".join(map(_who, fails)))
    if accepted:
        lines.append(
            f"Accepted by the label `{accept_label}` (inconclusive): "
            + ", ".join(map(_who, accepted))
        )
    if warned:
        lines.append("Inconclusive, passed with a warning: " + ", ".join(map(_who, warned)))
    if small:
        lines.append("Too small to tell: " + ", ".join(map(_who, small)))
    return "\n\n".join(lines) + "\n"


def _mermaid_bars(
    title: str, labels: Sequence[str], series: Sequence[Sequence[float]], axis: str
) -> list[str]:
    safe = [str(label).replace('"', "'") for label in labels]
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{title}"',
        "    x-axis [" + ", ".join(f'"{label}"' for label in safe) + "]",
        f'    y-axis "{axis}"',
    ]
    kinds = ["bar", "line"]
    for kind, values in zip(kinds, series, strict=False):
        lines.append(f"    {kind} [" + ", ".join(f"{v:.4g}" for v in values) + "]")
    lines.append("```")
    return lines


def _slice_chart(inputs: ReportInputs) -> list[str]:
    if not inputs.slices:
        return []
    name, groups = next(iter(inputs.slices.items()))
    metric = next((k for k in next(iter(groups.values())) if k != "n"), None)
    if metric is None:
        return []
    labels = list(groups)
    now = [groups[g].get(metric) or 0.0 for g in labels]
    base_groups = (inputs.base_slices or {}).get(name)
    if base_groups:
        before = [(base_groups.get(g) or {}).get(metric) or 0.0 for g in labels]
        title = f"{metric} by {name}: bars {inputs.base_label}, line this change"
        return _mermaid_bars(title, labels, [before, now], metric)
    return _mermaid_bars(f"{metric} by {name}", labels, [now], metric)


def _validation(summary: Mapping[str, Any] | None) -> list[str]:
    if summary is None:
        return ["No validation report was produced."]
    if summary.get("valid"):
        return [
            f"✅ {summary['n_rows']:,} rows × {summary['n_columns']} columns "
            "pass the data contract."
        ]
    lines = [
        f"❌ {summary['n_failures']} rule(s) failed:",
        "",
        "| column | rule | rows | examples |",
        "|---|---|---:|---|",
    ]
    for f in summary.get("failures", []):
        lines.append(f"| {f['column']} | {f['rule']} | {f['count']} | {', '.join(f['examples'])} |")
    return lines


def _figures(inputs: ReportInputs) -> list[str]:
    if not inputs.figures:
        return []
    if inputs.images == "local":
        return [f"![{p.rsplit('/', 1)[-1]}]({p})" for p in inputs.figures]
    names = ", ".join(f"`{p.rsplit('/', 1)[-1]}`" for p in inputs.figures)
    where = (
        f"[the workflow artifact]({inputs.artifact_url})"
        if inputs.artifact_url
        else "the workflow artifact"
    )
    return [
        f"PNG figures ({names}) and DVC's base-vs-change plots (`plots_diff/index.html`) are in "
        f"{where}; they are not uploaded anywhere else."
    ]


def model_choice(selection: Mapping[str, Any] | None) -> list[str]:
    """How train chose the model: candidates with CV scores, the winner, the threshold."""
    if not selection:
        return []
    scores = selection.get("cv_scores") or {}
    lines = [
        f"Winner: **{selection.get('winner')}** (loss {selection.get('loss')}; "
        f"cross-validation {selection.get('cv')}, scored by {selection.get('scoring')}, "
        "lower is better).",
    ]
    if scores:
        lines += ["", f"| candidate | CV {selection.get('scoring')} |", "|---|---:|"]
        for name, value in scores.items():
            mark = " ✅" if name == selection.get("winner") else ""
            lines.append(f"| {name}{mark} | {_num(value) if value is not None else 'failed'} |")
        blend = selection.get("blend")
        if blend:
            mark = " ✅" if selection.get("winner") == "blend" else ""
            (a, b), (wa, wb) = blend["members"], blend["weights"]
            lines.append(f"| blend {wa:g} {a} + {wb:g} {b}{mark} | {_num(blend['cv_score'])} |")
            lines += [
                "",
                "The blend's weight is chosen on the same out-of-fold predictions it is scored "
                "on; it replaces the best candidate only when its score is lower.",
            ]
    if selection.get("threshold") is not None:
        lines += [
            "",
            f"Decision threshold {selection['threshold']:.4g} for accuracy and f1: "
            f"{selection.get('threshold_rule')}.",
        ]
    return lines


def render(inputs: ReportInputs) -> str:
    failed = [c for c in inputs.checks if c.failed]
    verdict = (
        "❌ **Quality gate could not run**: the paired comparison failed: "
        f"{inputs.paired_error}. The point metrics below are for reference only."
        if inputs.paired_error
        else "❌ **Quality gate failed**: " + "; ".join(c.describe() for c in failed)
        if failed
        else "❌ **Quality gate failed** against the anchor"
        if inputs.anchor_failed
        else "✅ **Quality gate passed**"
    )
    if not inputs.paired_error and any(c.action for c in inputs.checks):
        verdict += "\n\n" + gate_summary(inputs.checks, inputs.accept_label).split("\n", 2)[2]
    if inputs.anchor:
        verdict += "\n\n" + inputs.anchor
    paired = any(c.low is not None for c in inputs.checks)
    table = (
        paired_tables(inputs.checks, inputs.base_label, inputs.confidence)
        if paired
        else _metrics_table(inputs)
    )
    out = [f"## {inputs.title}", "", verdict, "", "### Metrics", "", *table, ""]
    from mlops_engine.pipeline.metrics import class_coverage

    coverage = class_coverage(dict(inputs.current))
    if coverage:
        out += [f"Classes: {coverage}.", ""]
    choice = model_choice(inputs.current.get("model_selection"))
    if choice:
        out += ["### Model choice", "", *choice, ""]
    out += ["### Parameters changed", ""]
    if inputs.params_diff:
        out += [f"| parameter | {inputs.base_label} | this change |", "|---|---|---|"]
        out += [f"| `{k}` | {_num(a)} | {_num(b)} |" for k, a, b in inputs.params_diff]
    else:
        out.append("No parameter changed.")
    out += ["", "### Data validation", "", *_validation(inputs.validation), ""]
    charts = _slice_chart(inputs)
    if inputs.importance:
        top = list(inputs.importance)[:10]
        charts += _mermaid_bars(
            "Permutation importance (top 10)",
            [n for n, _ in top],
            [[v for _, v in top]],
            "score drop",
        )
    if charts or inputs.figures:
        out += ["### Plots", "", *charts, "", *_figures(inputs), ""]
    if inputs.notes:
        out += ["### Notes", "", *[f"- {n}" for n in inputs.notes], ""]
    out += ["### Versions", "", "| what | version |", "|---|---|"]
    out += [f"| {k} | `{v}` |" for k, v in inputs.versions.items()]
    out += ["", MARKER]  # how `make comment` finds the one report comment (ci/comment.py)
    return "\n".join(out) + "\n"
