"""Cost of the paired gate (paired.py) against the point gate's own work, side by side.

For each size, synthetic test rows (regression: the bundled example's scale, MAE ~20;
classification: two classes with probabilities) and two models' answers; the paired gate
runs as `mlops gate` does (every gated metric plus one slice column with five groups, and
the naive-baseline floor; ``gate.resamples`` resamples), and the baseline is what the point
gate computes: scikit-learn's metrics of both models once. Each is timed ``--repeats`` times
in alternation in the same process; the table gives the median seconds and their ratio.
The anchor check (``anchor_check``: one metric against the release's answers) runs too, on a
third as many rows: the holdout, a quarter of the test period (``split.holdout`` 0.25) beside
the public three quarters; ``mlops gate`` spends the sum of both columns.
Time split: hourly rows in blocks chosen from the data (Politis-White, at least a day:
circular up to 20,000 rows, else at most 20,000 non-overlapping blocks); random split: rows
(in 20,000 groups beyond that).

Usage: uv run python -m benchmarks.gate [--sizes 414 100000 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn import metrics as skm

from mlops_engine.ci.gate import Rows, anchor_check, paired_checks
from mlops_engine.config import GateMetric, GateParams
from mlops_engine.paired import Side, Truth

REGRESSION = GateParams(
    metrics={
        "mae": GateMetric(direction="lower", tolerance=0.05),
        "rmse": GateMetric(direction="lower", tolerance=0.05),
        "r2": GateMetric(direction="higher", tolerance=0.02),
    },
    baseline_margin=0.2,
)
CLASSIFICATION = GateParams(
    metrics={
        "log_loss": GateMetric(direction="lower", tolerance=0.05),
        "f1": GateMetric(direction="higher", tolerance=0.02),
        "roc_auc": GateMetric(direction="higher", tolerance=0.02),
    },
    baseline_margin=0.05,
)


def rows(n: int, task: str, blocks: bool, seed: int = 0) -> Rows:
    rng = np.random.default_rng(seed)
    band = rng.choice(np.array(["a", "b", "c", "d", "e"], dtype=object), n)
    # a time split: hourly stamps, blocks chosen from the data as `mlops gate` does
    stamps = np.datetime64("2020-01-01T00") + np.arange(n).astype("timedelta64[h]")
    time = stamps if blocks else None
    if task == "regression":
        y = rng.gamma(2.0, 40.0, n)
        sides = [Side(np.round(y + rng.normal(0, s, n), 4)) for s in (25, 26, 45)]
        return Rows(Truth(y, task, time=time), *sides, {"band": band})
    classes = np.array(["no", "yes"], dtype=object)
    positive = rng.random(n) < 0.3
    y = np.where(positive, "yes", "no").astype(object)
    out = []
    for noise in (0.9, 1.0, 3.0):
        p = 1 / (1 + np.exp(-(np.where(positive, 1.0, -1.0) + rng.normal(0, noise, n))))
        out.append(Side(np.where(p > 0.5, "yes", "no").astype(object), np.column_stack([1 - p, p])))
    return Rows(Truth(y, task, classes, time=time), *out, {"band": band})


def point_metrics(r: Rows) -> None:
    """What the point gate computes: each model's metrics once (scikit-learn)."""
    for side in (r.champion, r.challenger):
        if r.truth.task == "regression":
            skm.mean_absolute_error(r.truth.y, side.predicted)
            skm.mean_squared_error(r.truth.y, side.predicted)
            skm.r2_score(r.truth.y, side.predicted)
        else:
            skm.log_loss(r.truth.y, side.proba, labels=r.truth.classes)
            skm.f1_score(r.truth.y, side.predicted, pos_label="yes")
            skm.roc_auc_score(r.truth.y == "yes", side.proba[:, 1])


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[414, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=["regression", "classification"])
    a = parser.parse_args()
    print(
        "| task | split | test rows | paired gate (s) | anchor, holdout of n/3 rows (s) "
        "| point metrics (s) | ratio |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for task in a.tasks:
        gate = REGRESSION if task == "regression" else CLASSIFICATION
        for n in a.sizes:
            for blocks in (True, False):
                r, held = rows(n, task, blocks), rows(max(n // 3, 2), task, blocks, seed=1)
                paired, anchor, point = [], [], []
                for _ in range(a.repeats):
                    paired.append(timed(lambda r=r, gate=gate: paired_checks(r, gate)))
                    anchor.append(timed(lambda r=held, gate=gate: anchor_check(r, gate)))
                    point.append(timed(lambda r=r: point_metrics(r)))
                p, b = statistics.median(paired), statistics.median(point)
                h = statistics.median(anchor)
                split = "time (blocks)" if blocks else "random (rows)"
                print(
                    f"| {task} | {split} | {n:,} | {p:.2f} | {h:.2f} | {b:.3f} | {p / b:.1f}x |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
