"""Tables the template has never seen, generated in the shapes that broke `mlops init` and
the stages after it (issue 36): a rare class that occurs only in the early seasons (absent
from a time split's test window), class labels stored as numbers, rows that repeat once a
date is dropped, constant and identifier-like columns, missing values.

Shared by the property test (tests/model/test_init_property.py), the tests of each window a
class can be missing from (tests/unit/pipeline/test_class_windows.py) and the one real `dvc repro`
on such a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Shape = Literal["regression", "binary", "multiclass"]


@dataclass(frozen=True)
class Stranger:
    """How to build one table (everything the property test varies)."""

    shape: Shape = "multiclass"
    rows: int = 240
    time: bool = True  # a `day` column of dates (init detects it)
    duplicates: int = 0  # rows repeated exactly except for their date
    constant: bool = False
    identifier: bool = False  # a `ref` column unique per row
    near_unique: bool = False  # a text column with nearly one value per row
    missing: float = 0.0  # share of a numeric feature's values missing
    rare_seasonal: bool = False  # multiclass: a class only in the first third of the days
    numeric_labels: bool = False  # class labels stored as floats 0.0, 1.0, ...
    seed: int = 0


def stranger_table(spec: Stranger) -> pd.DataFrame:
    """The table, with its target in the column ``y`` (and dates, as text, in ``day``)."""
    rng = np.random.default_rng(spec.seed)
    n = spec.rows
    days = pd.date_range("2019-01-01", periods=n, freq="D")
    x1 = rng.normal(size=n).round(2)
    x2 = rng.normal(size=n).round(2)
    kind = rng.choice(["north", "south", "east"], n)
    noise = rng.normal(scale=1.0, size=n)
    if spec.shape == "regression":
        y: np.ndarray = (20 + 3 * x1 - 2 * x2 + (kind == "north") * 2 + noise).round(2)
    elif spec.shape == "binary":
        y = np.where(x1 + 0.5 * x2 + noise > 0.3, "yes", "no")
    else:
        score = x1 + 0.8 * noise
        y = np.where(score > 0.7, "high", np.where(score < -0.7, "low", "mid"))
        y = np.where((x2 > 1.0) & (y == "mid"), "peak", y)
        if spec.rare_seasonal:  # only in winters of the first third: none in the last 20%
            early_winter = (np.arange(n) < n // 3) & np.isin(days.month, [1, 2])
            y = np.where(early_winter & (rng.random(n) < 0.35), "snow", y)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "kind": kind, "y": y})
    if spec.numeric_labels and spec.shape != "regression":
        levels = {label: float(i) for i, label in enumerate(sorted(set(y)))}
        frame["y"] = frame["y"].map(levels)
    if spec.missing:
        frame.loc[rng.random(n) < spec.missing, "x2"] = np.nan
    if spec.constant:
        frame["source"] = "sensor-a"
    if spec.identifier:
        frame["ref"] = [f"r{i:05d}" for i in rng.permutation(n)]
    if spec.near_unique:
        frame["note"] = [f"n{i}" for i in rng.integers(0, n * 20, n)]
    if spec.duplicates:
        picked = rng.choice(n, size=min(spec.duplicates, n // 4), replace=False)
        for column in frame.columns:  # column by column: each keeps its dtype
            frame.loc[picked[1:], column] = frame.at[picked[0], column]
        if spec.identifier:  # an identifier stays unique: it is what init drops
            frame["ref"] = [f"r{i:05d}" for i in range(n)]
    if spec.time:
        frame.insert(0, "day", days.strftime("%Y-%m-%d"))
    return frame
