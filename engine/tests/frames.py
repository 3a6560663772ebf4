"""Tiny hand-made frames and contracts for the stages' unit tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlops_engine.contract import ColumnSpec, Contract


def tiny_contract(task: str = "regression", time: bool = True, min_rows: int = 5) -> Contract:
    columns = {
        "x": ColumnSpec(dtype="float", min=0, max=10),
        "colour": ColumnSpec(dtype="category", categories=("red", "green", "blue")),
        "n": ColumnSpec(dtype="int", min=0, max=100, nullable=True),
        "y": ColumnSpec(
            dtype="float" if task == "regression" else "category",
            categories=None if task == "regression" else ("no", "yes"),
        ),
    }
    if time:
        columns = {"ts": ColumnSpec(dtype="datetime"), **columns}
    return Contract(
        task=task,
        target="y",
        time_column="ts" if time else None,
        columns=columns,
        min_rows=min_rows,
        unique=("ts",) if time else (),
    )


def tiny_frame(rows: int = 60, task: str = "regression", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    frame = pd.DataFrame(
        {
            "ts": pd.date_range("2020-01-01", periods=rows, freq="h"),
            "x": x,
            "colour": colour,
            "n": rng.integers(0, 100, rows).astype("int64"),
        }
    )
    signal = 3 * x + np.where(colour == "red", 5.0, 0.0)
    if task == "regression":
        frame["y"] = signal + rng.normal(0, 0.5, rows)
    else:
        frame["y"] = np.where(signal > np.median(signal), "yes", "no")
    return frame
