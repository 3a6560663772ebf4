"""Prediction logging off the request's hot path, in batches, to any fsspec URL.

Requests only append to an in-memory queue (never blocking: when the queue is full the
records are dropped and counted). A background thread writes Parquet files of up to
``flush_rows`` rows, at least every ``flush_seconds``, to
``<sink>/date=YYYY-MM-DD/<time>-<uuid>.parquet``: a local directory by default, ``s3://``,
``gs://`` ... in production. The continuous-training monitor reads these files.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
import uuid
from typing import Any

import pandas as pd

from mlops_template.contract import LOGGED_AT, PREDICTION, VERSION

log = logging.getLogger(__name__)

_Batch = tuple[pd.DataFrame, list[Any], dt.datetime]  # inputs, predictions, logged at


def write_batch(
    sink: str, rows: list[dict[str, Any]] | pd.DataFrame, at: dt.datetime | None = None
) -> str:
    """Write one Parquet file of ``rows`` under ``sink``; atomic rename on local disks.

    ``at`` (default: now) names the date partition; the replayed stream passes its own clock.
    """
    import fsspec

    fs, root = fsspec.url_to_fs(sink)
    now = at or dt.datetime.now(dt.UTC)
    folder = f"{root.rstrip('/')}/date={now:%Y-%m-%d}"
    name = f"{now:%H%M%S%f}-{uuid.uuid4().hex[:8]}.parquet"
    fs.makedirs(folder, exist_ok=True)
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol
    if "file" in protocols:  # local disk: write aside, then rename (readers never see half)
        tmp = f"{folder}/.{name}.tmp"
        with fs.open(tmp, "wb") as fh:
            frame.to_parquet(fh, index=False)
        fs.mv(tmp, f"{folder}/{name}")
    else:
        with fs.open(f"{folder}/{name}", "wb") as fh:
            frame.to_parquet(fh, index=False)
    return f"{folder}/{name}"


def read_logs(sink: str) -> pd.DataFrame:
    """All logged predictions under ``sink``, oldest first."""
    import fsspec

    fs, root = fsspec.url_to_fs(sink)
    files = sorted(p for p in fs.glob(f"{root.rstrip('/')}/date=*/*.parquet"))
    if not files:
        return pd.DataFrame()
    frames = []
    for path in files:
        with fs.open(path, "rb") as fh:
            frames.append(pd.read_parquet(fh))
    return pd.concat(frames, ignore_index=True).sort_values(LOGGED_AT, kind="stable")


class PredictionLogger:
    """One queue item per predict call (the frame the model saw), not per row: under load
    the batcher hands over dozens of rows at a time, and per-row queue traffic and dict
    merging cost ~10% of the serving core (measured with py-spy, benchmarks/serving.py).
    The writer concatenates those frames: building a frame from row dicts held the GIL long
    enough to show in the p99 latency."""

    def __init__(
        self,
        sink: str,
        model_version: str,
        flush_rows: int = 1000,
        flush_seconds: float = 5.0,
        max_queue: int = 10_000,
    ) -> None:
        self.sink, self.version = sink, model_version
        self.flush_rows, self.flush_seconds = flush_rows, flush_seconds
        self._queue: queue.Queue[_Batch | None] = queue.Queue(max_queue)  # in batches
        self.dropped = 0
        self.written = 0
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def log(self, inputs: pd.DataFrame, predictions: list[Any]) -> None:
        """Queue one batch; ``inputs`` must not be changed afterwards (it is not copied)."""
        if len(inputs) != len(predictions):
            raise ValueError(f"{len(inputs)} rows but {len(predictions)} predictions")
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        try:
            self._queue.put_nowait((inputs, predictions, now))
        except queue.Full:
            self.dropped += len(inputs)

    def _run(self) -> None:
        pending: list[_Batch] = []
        count = 0
        deadline = None
        stopping = False
        while not stopping:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
                if item is None:
                    stopping = True
                else:
                    pending.append(item)
                    count += len(item[0])
                    deadline = deadline or time.monotonic() + self.flush_seconds
            except queue.Empty:
                pass
            due = deadline is not None and time.monotonic() >= deadline
            if pending and (count >= self.flush_rows or due or stopping):
                self._flush(pending, count)
                pending, count, deadline = [], 0, None

    def _flush(self, batches: list[_Batch], count: int) -> None:
        try:
            frame = pd.concat([inputs for inputs, _, _ in batches], ignore_index=True)
            frame[PREDICTION] = [p for _, predictions, _ in batches for p in predictions]
            frame[VERSION] = self.version
            frame[LOGGED_AT] = [at for inputs, _, at in batches for _ in range(len(inputs))]
            write_batch(self.sink, frame)
            self.written += count
        except Exception:  # a logging outage must never take predictions down
            log.exception("prediction log: could not write %d rows to %s", count, self.sink)
            self.dropped += count

    def close(self, timeout: float = 10.0) -> None:
        """Flush what is queued and stop the writer (called on shutdown)."""
        self._queue.put(None)
        self._thread.join(timeout)
