"""Permutation importance: the evaluate stage's batched scoring next to scikit-learn's
``permutation_importance`` (one model call per column and repeat), side by side in one run,
on the example's trained model and test split and on up-sampled copies of it.

The figures are equal (tests/unit/pipeline/test_importance.py); this prints the time of each and the
ratio, the best of ``--repeat`` runs, so the machine's drift (tens of percent here) cancels.

Usage: uv run python -m benchmarks.importance [--rows 414 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

from sklearn.inspection import permutation_importance

from mlops_engine import storage
from mlops_engine.config import load_params
from mlops_engine.pipeline.evaluate import permutation_drops

ROOT = Path(__file__).resolve().parents[2]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[414, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    params = load_params(ROOT / "params.yaml")
    model = storage.read_model(ROOT / "models" / "model.joblib")
    test = storage.read_table(ROOT / "data" / "processed" / "test.parquet")
    features, target = params.contract.features, params.contract.target
    repeats, seed = params.evaluate.importance_repeats, params.seed
    print(f"{'rows':>6} {'sklearn s':>10} {'batched s':>10} {'ratio':>6}")
    for rows in args.rows:
        frame = test.sample(rows, replace=rows > len(test), random_state=0)
        X, y = frame[features].reset_index(drop=True), frame[target].reset_index(drop=True)
        ours = best(
            partial(permutation_drops, model, X, y, "regression", repeats, seed), args.repeat
        )
        theirs = best(
            partial(
                permutation_importance, model, X, y, scoring="neg_mean_absolute_error",
                n_repeats=repeats, random_state=seed, n_jobs=1,
            ),
            args.repeat,
        )  # fmt: skip
        print(f"{rows:>6} {theirs:>10.2f} {ours:>10.2f} {theirs / ours:>6.1f}")


if __name__ == "__main__":
    main()
