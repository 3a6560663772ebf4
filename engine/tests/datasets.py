"""Second real datasets for proving classification end to end.

Both ship inside scikit-learn as CSV files (no download): the Wisconsin diagnostic breast
cancer data (569 rows, binary; Street, Wolberg and Mangasarian 1993, UCI, CC BY 4.0) and
the UCI wine recognition data (178 rows, three cultivars; Forina et al., CC BY 4.0).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.datasets import load_breast_cancer, load_wine

LOADERS = {"breast_cancer": load_breast_cancer, "wine": load_wine}


def classification_frame(name: str) -> pd.DataFrame:
    bunch = LOADERS[name](as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = [c.replace(" ", "_").replace("/", "_") for c in frame.columns]
    frame["target"] = bunch.target_names[bunch.target].astype(str)
    return frame


def classification_params(name: str, frame: pd.DataFrame, source: str) -> dict[str, Any]:
    """A params.yaml (as a dict) for ``frame``: contract ranges widened by 50%."""
    columns: dict[str, Any] = {}
    for col in frame.columns:
        if col == "target":
            columns[col] = {"dtype": "category", "categories": sorted(frame[col].unique())}
            continue
        lo, hi = float(frame[col].min()), float(frame[col].max())
        pad = (hi - lo) * 0.5
        columns[col] = {
            "dtype": "float",
            "min": round(max(lo - pad, 0.0), 6),
            "max": round(hi + pad, 6),
        }
    return {
        "seed": 7,
        "ingest": {"source": source},
        "contract": {
            "task": "classification",
            "target": "target",
            "time_column": None,
            "min_rows": 100,
            "columns": columns,
        },
        "split": {"method": "random", "test_size": 0.25},
        "train": {
            "estimator": "hist_gradient_boosting",
            "loss": "auto",
            "hyperparams": {"max_iter": 100, "learning_rate": 0.1},
        },
        "evaluate": {"importance_repeats": 3},
        "gate": {
            "baseline_margin": 0.2,
            "metrics": {
                "f1": {"direction": "higher", "tolerance": 0.02},
                "log_loss": {"direction": "lower", "tolerance": 0.05},
            },
        },
        # the model_card stage reads these keys by name (dvc.yaml): DVC needs them present
        "model_card": {"intended_use": None},
        "serve": {"model_name": f"{name.replace('_', '-')}-classifier"},
    }


def month_rows(
    frame: pd.DataFrame, start: str, end: str, column: str = "timestamp"
) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` lies in [start, end), renumbered."""
    stamp = frame[column]
    return frame[(stamp >= start) & (stamp < end)].reset_index(drop=True)


def drifting_weeks(
    frame: pd.DataFrame,
    keep: pd.Series,
    weeks: int,
    per_week: int,
    start: str,
    seed: int = 1,
    replace: bool = True,
) -> tuple[pd.DataFrame, pd.Series]:
    """Production traffic for a table without a time column: ``weeks * per_week`` rows
    drawn (with replacement) from the rows where ``keep`` holds, a sub-population whose
    features differ from the whole table's (drift inside the contract's ranges), and when
    each arrived, spread uniformly over the weeks from ``start``, oldest first. ``replace=False``
    draws each row once (a contract that forbids duplicate rows)."""
    import numpy as np

    rows = frame[keep].sample(weeks * per_week, replace=replace, random_state=seed)
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(0, weeks * 7 * 86_400, len(rows)))
    arrived = pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s")
    return rows.reset_index(drop=True), pd.Series(arrived)
