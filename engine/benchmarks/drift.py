"""Drift-check speed and memory: Evidently (as `mlops monitor` runs it) vs plain NumPy/SciPy.

Frames: real rows up-sampled with replacement (reference = Q1 2011, current = April), widened
with extra numeric columns holding 5% NaN and categorical columns with 30 levels, to
10k x 20, 100k x 50 and 1M x 50. Each measurement runs in its own process (peak RSS via
GNU time). The baseline computes the same per-column statistics Evidently chooses for these
sizes (normed Wasserstein for numeric, Jensen-Shannon for categorical) on the full frames.

Usage: uv run python -m benchmarks.drift [--sizes 10000x20 100000x50 1000000x50]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def frames(rows: int, cols: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    from mlops_engine import storage
    from mlops_engine.config import load_params
    from mlops_engine.pipeline.ingest import ingest

    params = load_params(ROOT / "params.yaml")
    whole = params.ingest.model_copy(update={"history_until": None})
    year = ingest(storage.read_table(ROOT / params.ingest.source), whole)
    features = params.contract.features
    rng = np.random.default_rng(seed)
    out = []
    for lo, hi in (("2011-01-01", "2011-04-01"), ("2011-04-01", "2011-05-01")):
        part = year[(year.timestamp >= lo) & (year.timestamp < hi)][features]
        frame = part.sample(n=rows, replace=True, random_state=seed).reset_index(drop=True)
        extra = cols - len(features)
        for i in range(extra):
            if i % 2:
                values = rng.normal(i, 1, rows)
                values[rng.random(rows) < 0.05] = np.nan
                frame[f"num_{i}"] = values
            else:
                frame[f"cat_{i}"] = rng.integers(0, 30, rows).astype(str)
        out.append(frame)
    return out[0], out[1]


def evidently_check(reference: pd.DataFrame, current: pd.DataFrame, max_rows: int | None) -> None:
    from evidently import DataDefinition

    from mlops_engine.config import DriftPolicy
    from mlops_engine.ct.drift import _column_results, _run, _value_drifts, sample

    numeric = [c for c in reference.columns if reference[c].dtype.kind in "if"]
    categorical = [c for c in reference.columns if c not in numeric]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    ref, cur = sample(reference, max_rows, 42), sample(current, max_rows, 42)
    snap = _run(_value_drifts(list(reference.columns), DriftPolicy()), cur, ref, definition)
    results = _column_results(snap)
    html = Path(tempfile.mkstemp(suffix=".html")[1])
    snap.save_html(str(html))
    drifted = sum(r.drifted for r in results.values())
    print(f"drifted={drifted} html_mb={html.stat().st_size / 2**20:.2f}")


def numpy_baseline(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    drifted = 0
    for c in reference.columns:
        r, k = reference[c], current[c]
        if r.dtype.kind in "if":
            r, k = r.dropna().to_numpy(float), k.dropna().to_numpy(float)
            score = wasserstein_distance(r, k) / (np.std(r) or 1.0)
        else:
            levels = pd.Index(pd.concat([r, k]).unique())
            p = r.value_counts().reindex(levels, fill_value=0).to_numpy(float)
            q = k.value_counts().reindex(levels, fill_value=0).to_numpy(float)
            score = jensenshannon(p / p.sum(), q / q.sum())
        drifted += score >= 0.1
    print(f"drifted={drifted}")


def _one(kind: str, rows: int, cols: int, max_rows: int | None) -> None:
    reference, current = frames(rows, cols)
    size = reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()
    start = time.perf_counter()
    if kind == "numpy":  # imports timed apart: a one-off cost per process, not per column
        import scipy.spatial.distance
        import scipy.stats  # noqa: F401
    else:
        import mlops_engine.ct.drift  # noqa: F401
    print(f"import_s={time.perf_counter() - start:.3f}")
    start = time.perf_counter()
    if kind == "numpy":
        numpy_baseline(reference, current)
    else:
        evidently_check(reference, current, max_rows)
    print(f"seconds={time.perf_counter() - start:.3f} input_mib={size / 2**20:.1f}")


def measure(kind: str, rows: int, cols: int, max_rows: int | None) -> dict[str, float]:
    out = Path(tempfile.mkstemp()[1])
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.drift",
        "--one",
        kind,
        str(rows),
        str(cols),
        str(max_rows or 0),
    ]
    proc = subprocess.run(
        ["/usr/bin/time", "-o", str(out), "-f", "%M", *cmd],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    fields = dict(kv.split("=") for kv in proc.stdout.split())
    return {**{k: float(v) for k, v in fields.items()}, "rss_mib": int(out.read_text()) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["10000x20", "100000x50", "1000000x50"])
    parser.add_argument(
        "--max-rows",
        type=int,
        nargs="+",
        default=[10_000, 50_000],
        help="sample sizes to try (10k: the default)",
    )
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.one:
        kind, rows, cols, max_rows = a.one
        _one(kind, int(rows), int(cols), int(max_rows) or None)
        return
    print(
        f"{'frame':>11} {'method':>22} {'import s':>8} {'check s':>8} {'x numpy':>8} "
        f"{'peak MiB':>9} {'x input':>8} {'drifted':>8} {'html MB':>8}"
    )
    for size in a.sizes:
        rows, cols = (int(x) for x in size.split("x"))
        base = measure("numpy", rows, cols, None)
        runs = [("numpy/scipy (full)", base)]
        for cap in a.max_rows:
            if cap < rows:
                runs.append(
                    (f"evidently sample {cap // 1000}k", measure("evidently", rows, cols, cap))
                )
        if rows <= 100_000:
            runs.append(("evidently (full)", measure("evidently", rows, cols, None)))
        for name, r in runs:
            print(
                f"{size:>11} {name:>22} {r['import_s']:8.2f} {r['seconds']:8.2f} "
                f"{r['seconds'] / base['seconds']:8.1f} {r['rss_mib']:9.0f} "
                f"{r['rss_mib'] / r['input_mib']:8.1f} {r['drifted']:8.0f} "
                f"{r.get('html_mb', 0):8.2f}"
            )


if __name__ == "__main__":
    main()
