"""Reading and writing artifacts, always through a temporary file renamed into place.

A stage killed half-way must never leave a file that later looks valid: every write goes
to a sibling temporary file which is fsync'ed and then atomically renamed over the target.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(data: bytes, target: str | Path) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_json(obj: Any, target: str | Path) -> None:
    write_bytes((json.dumps(obj, indent=2, sort_keys=False) + "\n").encode(), target)


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def write_parquet(frame: pd.DataFrame, target: str | Path) -> None:
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")


def read_parquet(path: str | Path) -> pd.DataFrame:
    return pd.read_parquet(path, engine="pyarrow")


def list_parquet(folder: str | Path | None) -> list[Path]:
    """Parquet files directly in ``folder``, by name; none when it is absent or not given."""
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(Path(folder).glob("*.parquet"))


def write_csv(frame: pd.DataFrame, target: str | Path) -> None:
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a raw dataset by suffix: ``.parquet``, else CSV (``.csv.gz`` etc. decompressed)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def write_model(model: Any, target: str | Path) -> None:
    """Pickle with joblib; byte-for-byte reproducible for the same model and library versions."""
    import joblib

    with atomic_path(target) as tmp:
        joblib.dump(model, tmp, compress=3, protocol=5)


def read_model(path: str | Path) -> Any:
    import joblib

    return joblib.load(path)
