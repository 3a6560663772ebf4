"""The paired gate's intervals as one PNG figure for the PR report and the retraining PR.

Metrics and slices have different units, so each interval is drawn in tolerances of its own
check (``difference / allowed``), signed so that right is worse: the gate fails a row whose
whole bar lies right of the red line at +1. Written without software metadata, like the
pipeline's figures, so the same checks give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from mlops_engine.ci.gate import MetricCheck

_COLOUR = {"regressed": "#c44e52", "too small to tell": "#999999", "improved": "#55a868"}


def _in_tolerances(check: MetricCheck) -> tuple[float, float, float]:
    sign = 1.0 if check.direction == "lower" else -1.0
    scale = check.allowed or 1.0
    ends = sorted((sign * check.low / scale, sign * check.high / scale))
    return sign * (check.delta or 0.0) / scale, ends[0], ends[1]


def interval_figure(checks: Sequence[MetricCheck]) -> bytes | None:
    """Error bars of every paired check against the champion (None: nothing to draw)."""
    drawn = [
        c
        for c in checks
        if c.reference == "base" and c.low is not None and c.low == c.low and c.allowed
    ]
    if not drawn:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(drawn) + 1.4))
    for i, check in enumerate(reversed(drawn)):
        point, low, high = _in_tolerances(check)
        colour = _COLOUR.get(check.verdict, "#4c72b0")
        ax.plot([low, high], [i, i], color=colour, linewidth=2.5)
        ax.plot([point], [i], "o", color=colour, markersize=4)
    labels = [f"{c.name} on {c.slice}" if c.slice else c.name for c in reversed(drawn)]
    ax.set_yticks(range(len(drawn)), labels, fontsize=8)
    ax.axvline(0, color="grey", linewidth=1)
    ax.axvline(1, color="#c44e52", linewidth=1, linestyle="--")
    ax.set_xlabel("challenger - champion, in tolerances (right is worse)")
    ax.set_title("Paired bootstrap intervals (the gate fails a bar wholly right of +1)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
