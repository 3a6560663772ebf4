"""Reading and writing artifacts, always through a temporary file renamed into place.

A stage killed half-way must never leave a file that later looks valid: every write goes
to a sibling temporary file which is fsync'ed and then atomically renamed over the target.
"""

from __future__ import annotations

import contextlib
import hashlib
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


def md5_of(path: str | Path) -> str:
    """The file's md5, as dvc.lock records it."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def sha256_of(path: str | Path) -> str:
    """The file's SHA-256 (the model store's integrity check)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_bytes(data: bytes, target: str | Path) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_json(obj: Any, target: str | Path) -> None:
    write_bytes((json.dumps(obj, indent=2, sort_keys=False) + "\n").encode(), target)


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def write_parquet(frame: pd.DataFrame, target: str | Path) -> None:
    """What ``frame.to_parquet(index=False, compression="zstd")`` writes, less the pandas
    version pyarrow records in the file's pandas metadata (nothing reads it back): with it,
    every pandas release changed every data file's bytes, hence dvc.lock's hashes, with the
    data unchanged. pyarrow's own version stays in the footer (``created_by``, not settable
    from Python), so a pyarrow release still changes them (docs/dependencies.md). Unlike
    ``to_parquet``, ``frame.attrs`` is not stored (no stage sets any)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    if b"pandas" in metadata:
        described = json.loads(metadata[b"pandas"])
        described.pop("pandas_version", None)
        metadata[b"pandas"] = json.dumps(described).encode()
    table = table.replace_schema_metadata(metadata)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, compression="zstd")


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


class UnreadableData(ValueError):
    """The raw file cannot be read as a table; the one-line message names it and the fix."""


_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "pipes"}


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a raw dataset by suffix: ``.parquet``, else CSV (``.csv.gz`` etc. decompressed).

    Every way a raw file commonly arrives broken - empty, a truncated archive (an
    interrupted download: gzip raises EOFError), a non-UTF-8 export, another separator
    (Excel in many locales writes ``;``) - becomes an ``UnreadableData`` naming the file and
    what to check, which the CLI prints as one line instead of a traceback.
    """
    import zlib

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise UnreadableData(f"{path}: the file is empty (0 bytes); check the export or copy")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        frame = pd.read_csv(path)
    except (EOFError, zlib.error) as err:
        raise UnreadableData(
            f"{path}: truncated or corrupt compressed file ({_first_line(err)}); check the "
            "download or copy completed (e.g. `gzip -t`)"
        ) from None
    except UnicodeDecodeError as err:
        raise UnreadableData(
            f"{path}: not UTF-8 text (byte {err.object[err.start : err.start + 1]!r} at "
            f"position {err.start}); re-save the file with UTF-8 encoding"
        ) from None
    except pd.errors.EmptyDataError:
        raise UnreadableData(
            f"{path}: no header row and no data; check the export wrote the table"
        ) from None
    except pd.errors.ParserError as err:
        raise UnreadableData(
            f"{path}: not a well-formed comma-separated file ({_first_line(err)}); check the "
            "separator (a comma) and the quoting"
        ) from None
    except OSError as err:  # gzip.BadGzipFile, an unreadable parquet footer, ...
        raise UnreadableData(
            f"{path}: cannot be read as {'parquet' if path.suffix == '.parquet' else 'CSV'} "
            f"({_first_line(err)}); check the file's format matches its name"
        ) from None
    except Exception as err:  # pyarrow's ArrowInvalid for a file that is not parquet
        if path.suffix != ".parquet":
            raise
        raise UnreadableData(
            f"{path}: not a parquet file ({_first_line(err)}); check the file's format"
        ) from None
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        for sep, name in _SEPARATORS.items():
            if sep in header:
                raise UnreadableData(
                    f"{path}: one column '{header[:60]}' - the file seems separated by {name}; "
                    "save it comma-separated"
                )
    return frame


def write_model(model: Any, target: str | Path) -> None:
    """Pickle with joblib; byte-for-byte reproducible for the same model and library versions."""
    import joblib

    with atomic_path(target) as tmp:
        joblib.dump(model, tmp, compress=3, protocol=5)


def read_model(path: str | Path) -> Any:
    import joblib

    return joblib.load(path)
