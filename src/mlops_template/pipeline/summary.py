"""What ``make run`` prints at the end: headline metrics against the baseline, and where
the reports are. Paths are read from ``dvc.yaml`` so they are decided in one place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops_template.config import Params
from mlops_template.outputs import declared_outputs
from mlops_template.pipeline.metrics import LOWER_IS_BETTER


def _headline(metrics: dict[str, Any]) -> list[str]:
    baseline = metrics.get("baseline", {})
    lines = [f"  {'metric':<10}{'model':>12}{'baseline':>12}   better"]
    for name, value in metrics.items():
        if isinstance(value, dict) or name.startswith("n_"):
            continue
        ref = baseline.get(name)
        arrow = "lower" if name in LOWER_IS_BETTER else "higher"
        shown = "n/a" if value is None else f"{value:.4f}"
        ref_shown = "n/a" if ref is None else f"{ref:.4f}"
        lines.append(f"  {name:<10}{shown:>12}{ref_shown:>12}   {arrow}")
    return lines


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
