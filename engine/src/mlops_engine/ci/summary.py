"""What ``make run`` prints at the end: headline metrics against the baseline, and where
the reports are. Paths are read from ``dvc.yaml`` so they are decided in one place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops_engine import metric_defs
from mlops_engine.config import Params
from mlops_engine.outputs import declared_outputs
from mlops_engine.pipeline.metrics import class_coverage


def _headline(metrics: dict[str, Any]) -> list[str]:
    baseline = metrics.get("baseline", {})
    lines = [f"  {'metric':<10}{'model':>12}{'baseline':>12}   better"]
    for name, value in metrics.items():
        if isinstance(value, dict) or name.startswith("n_"):
            continue
        ref = baseline.get(name)
        known = metric_defs.REGISTRY.get(name)
        arrow = known.direction if known else "?"
        shown = "n/a" if value is None else f"{value:.4f}"
        ref_shown = "n/a" if ref is None else f"{ref:.4f}"
        lines.append(f"  {name:<10}{shown:>12}{ref_shown:>12}   {arrow}")
    return lines


TRY = (
    "To try: features that carry the signal (a lag or a per-group statistic as a derived "
    "feature, params.yaml contract.derived), other candidates or another loss (params.yaml "
    "train), more history (split.window), or fewer noisy columns (DROP=column at init)"
)


def baseline_verdict(metrics: dict[str, Any], params: Params) -> str | None:
    """One plain sentence when the model fails the gate's floor against the naive baseline
    (``ci.gate.baseline_checks``: the proper scoring rule by ``gate.baseline_margin``, no
    gated metric worse), with what to try: the first pull request's gate would fail on it.
    None when the floor holds."""
    from mlops_engine.ci.gate import baseline_checks

    failed = [c for c in baseline_checks(metrics, params.gate) if c.failed]
    if not failed:
        return None
    group = ", ".join(params.evaluate.baseline.group_by)
    naive = ("the mean" if params.contract.task == "regression" else "the class frequencies") + (
        f" per {group}" if group else " of the training rows"
    )
    said = []
    for c in failed:
        metric = c.name.removesuffix(" vs naive baseline")
        if c.base is None or c.current is None:
            said.append(f"{metric} is missing")
            continue
        lost = c.current > c.base if c.direction == "lower" else c.current < c.base
        said.append(
            f"{metric} {c.current:.4f} against the baseline's {c.base:.4f} ("
            + (
                "WORSE"
                if lost
                else f"better, but not by the {c.tolerance:.0%} margin gate.baseline_margin asks"
            )
            + f"; {c.direction} is better)"
        )
    return (
        f"The model does not beat the naive baseline ({naive}): {'; '.join(said)}. "
        f"The gate's floor fails every pull request until it does. {TRY}."
    )


def summarize(dvc_file: Path, params: Params) -> str:
    outputs = declared_outputs(dvc_file)
    root = dvc_file.parent
    lines = [f"Task: {params.contract.task} of '{params.contract.target}'"]
    for path in outputs["metrics"]:
        if Path(root, path).name == "metrics.json" and Path(root, path).exists():
            metrics = json.loads(Path(root, path).read_text())
            lines.append(
                f"Test set: {metrics.get('n_test')} rows (trained on {metrics.get('n_train')})"
            )
            lines.extend(_headline(metrics))
            verdict = baseline_verdict(metrics, params)
            if verdict:
                lines.append(verdict)
            coverage = class_coverage(metrics)
            if coverage:
                lines.append(f"Classes: {coverage}.")
            chosen = metrics.get("model_selection") or {}
            if chosen:
                scores = ", ".join(f"{k} {v}" for k, v in (chosen.get("cv_scores") or {}).items())
                blend = chosen.get("blend") or {}
                if chosen.get("winner") == "blend" and blend:
                    (a, b), (wa, wb) = blend["members"], blend["weights"]
                    scores += f", blend {wa:g} {a} + {wb:g} {b} {blend['cv_score']}"
                lines.append(
                    f"Model: {chosen.get('winner')} ({chosen.get('loss')} loss"
                    + (f"; CV {chosen.get('scoring')}: {scores}" if scores else "")
                    + ")"
                )
    lines.append("Reports:")
    lines.extend(f"  metrics: {p}" for p in outputs["metrics"])
    lines.extend(f"  plots:   {p}" for p in outputs["plots"])
    lines.append("Explore: `dvc metrics show`, `dvc plots show` (HTML in dvc_plots/)")
    return "\n".join(lines)
