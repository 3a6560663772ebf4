"""Prediction logging off the request's hot path, in batches, to any fsspec URL.

Requests only append to an in-memory queue (never blocking: when the queue is full the
records are dropped and counted). A background thread writes Parquet files of up to
``flush_rows`` rows, at least every ``flush_seconds``, to
``<sink>/date=YYYY-MM-DD/<time>-<uuid>.parquet``: a local directory by default, ``s3://``,
``gs://`` ... in production. The continuous-training monitor reads these files.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mlops_engine.contract import LOGGED_AT, PREDICTION, VERSION

log = logging.getLogger(__name__)

# inputs (a frame, or {column: values} from the lean path), predictions, logged at
_Inputs = pd.DataFrame | Mapping[str, list[Any]]
_Batch = tuple[_Inputs, list[Any], dt.datetime]


def _rows(inputs: _Inputs) -> int:
    if isinstance(inputs, pd.DataFrame):
        return len(inputs)
    return len(next(iter(inputs.values()), ()))


def _frame(batches: list[_Batch]) -> pd.DataFrame:
    """One frame of the batches' inputs: column lists are joined first and made into one
    DataFrame (one per flush, not one per request batch)."""
    frames, columns = [], {}
    for inputs, _, _ in batches:
        if isinstance(inputs, pd.DataFrame):
            if columns:
                frames.append(pd.DataFrame(columns))
                columns = {}
            frames.append(inputs)
        else:
            for name, values in inputs.items():
                columns.setdefault(name, []).extend(values)
    if columns:
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)  # a copy: queued frames are not changed


def write_batch(
    sink: str, rows: list[dict[str, Any]] | pd.DataFrame | Any, at: dt.datetime | None = None
) -> str:
    """Write one Parquet file of ``rows`` (dicts, a frame or an Arrow table) under ``sink``;
    atomic rename on local disks.

    ``at`` (default: now) names the date partition; the replayed stream passes its own clock.
    """
    import fsspec

    fs, root = fsspec.url_to_fs(sink)
    now = at or dt.datetime.now(dt.UTC)
    folder = f"{root.rstrip('/')}/date={now:%Y-%m-%d}"
    name = f"{now:%H%M%S%f}-{uuid.uuid4().hex[:8]}.parquet"
    fs.makedirs(folder, exist_ok=True)
    if isinstance(rows, pd.DataFrame | list):
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)

        def write(fh: Any) -> None:
            frame.to_parquet(fh, index=False)
    else:  # an Arrow table (the prediction log's column lists)
        import pyarrow.parquet as pq

        def write(fh: Any) -> None:
            # Read whole by the monitor: no statistics or dictionary pages (~half the time).
            pq.write_table(rows, fh, use_dictionary=False, write_statistics=False)

    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol
    if "file" in protocols:  # local disk: write aside, then rename (readers never see half)
        tmp = f"{folder}/.{name}.tmp"
        with fs.open(tmp, "wb") as fh:
            write(fh)
        fs.mv(tmp, f"{folder}/{name}")
    else:
        with fs.open(f"{folder}/{name}", "wb") as fh:
            write(fh)
    return f"{folder}/{name}"


def read_logs(sink: str) -> pd.DataFrame:
    """All logged predictions under ``sink``, oldest first.

    Only complete files are data: a local writer's ``.<name>.tmp`` (renamed into place when
    complete) and any hidden name are skipped; on object storage an upload shows only once
    complete (a single PUT, or a multipart upload once completed). A file that is there but
    unreadable is an error naming it, never silently skipped."""
    import fsspec

    fs, root = fsspec.url_to_fs(sink)
    fs.invalidate_cache()  # s3fs caches listings per process: list what is there now
    found = fs.glob(f"{root.rstrip('/')}/date=*/*.parquet")
    files = sorted(p for p in found if not p.rsplit("/", 1)[-1].startswith("."))
    if not files:
        return pd.DataFrame()
    frames = []
    for path in files:
        try:
            with fs.open(path, "rb") as fh:
                frames.append(pd.read_parquet(fh))
        except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
            raise ValueError(
                f"prediction log {fs.unstrip_protocol(path)} is not a readable Parquet file "
                f"({err}): move it out of {sink} or replace it"
            ) from err
    return pd.concat(frames, ignore_index=True).sort_values(LOGGED_AT, kind="stable")


def _unreachable(err: BaseException) -> bool:
    """The sink, not the batch, failed: an OS error (refused connection, denied, disk full;
    s3fs raises these for S3's) or the storage client's own (botocore, aiohttp)."""
    if isinstance(err, OSError):
        return True
    return type(err).__module__.split(".")[0] in {"botocore", "aiobotocore", "aiohttp"}


class PredictionLogger:
    """Prediction logging that costs the request next to nothing.

    The lean path's column lists are appended to one set of growing column lists, under a
    lock held for a few list extends: the values (ints, floats, strings, datetimes) are not
    objects Python's garbage collector tracks, so nothing a request leaves for the log counts
    towards a collection. Keeping each request's dict of lists until the flush (as a queue
    of batches did) left tracked containers per request alive, enough under load to set off
    a young-generation collection every second, which was the p99. The writer wakes every
    ``flush_seconds``, or when ~``flush_rows`` rows are buffered, swaps the lists and writes
    them with pyarrow directly (through pandas cost a visible share of the core). Frames
    (the pipeline path's) are queued per predict call and concatenated with pandas as
    before. A queue.Queue notified the writer on every put, and the GIL handoff to it and
    back cost another share: requests wake the writer only when ``flush_rows`` are due
    (the figures of each: docs/performance.md, "Why the service is shaped as it is")."""

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
        self.max_queue = max_queue  # frames: predict calls; column lists: max_queue * 100 rows
        self._pending: collections.deque[_Batch] = collections.deque()
        self._since_wake = 0  # rows logged since the writer was last woken (requests only)
        self._lock = threading.Lock()
        self._columns: dict[str, list[Any]] = {}
        self._predictions: list[Any] = []
        self._times: list[int] = []  # one per predict call (ns since the epoch, UTC) ...
        self._counts: list[int] = []  # ... and its rows
        self._buffered_since: float | None = None
        self._wake = threading.Event()
        self._stopping = False
        self.dropped = 0
        self.written = 0
        # Batches the sink refused (an S3 outage, a server restarting), retried in order on
        # each wake: rows the service answered are not lost to a short outage.
        self._unwritten: collections.deque[tuple[Any, int]] = collections.deque()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def log(self, inputs: _Inputs, predictions: list[Any]) -> None:
        """Log one predict call: a frame (queued; not to be changed afterwards), or
        ``{column: values}`` (the lean path: the values are copied into the buffer)."""
        rows = _rows(inputs)
        if rows != len(predictions):
            raise ValueError(f"{rows} rows but {len(predictions)} predictions")
        now_ns = time.time_ns()
        if isinstance(inputs, pd.DataFrame) or (
            self._columns and inputs.keys() != self._columns.keys()
        ):
            if len(self._pending) >= self.max_queue:  # the writer is behind (sink down): drop
                self.dropped += rows
                return
            now = dt.datetime.fromtimestamp(now_ns / 1e9, dt.UTC).replace(tzinfo=None)
            self._pending.append((pd.DataFrame(inputs), predictions, now))
        else:
            with self._lock:
                if len(self._predictions) >= self.max_queue * 100:  # the writer is behind
                    self.dropped += rows
                    return
                if not self._predictions:
                    self._buffered_since = time.monotonic()
                for name, values in inputs.items():
                    self._columns.setdefault(name, []).extend(values)
                self._predictions.extend(predictions)
                self._times.append(now_ns)
                self._counts.append(rows)
        # Not atomic across request threads: a lost update only moves the next wake-up.
        self._since_wake += rows
        if self._since_wake >= self.flush_rows:
            self._since_wake = 0
            self._wake.set()

    def _take_columns(self, stopping: bool) -> tuple[dict[str, list[Any]], list[Any], Any] | None:
        """The buffered column lists, if due (flush_rows, flush_seconds or stopping)."""
        with self._lock:
            n = len(self._predictions)
            since = self._buffered_since
            due = since is not None and time.monotonic() - since >= self.flush_seconds
            if not n or not (n >= self.flush_rows or due or stopping):
                return None
            columns, predictions = self._columns, self._predictions
            times, counts = self._times, self._counts
            self._columns = {name: [] for name in columns}
            self._predictions, self._times, self._counts = [], [], []
            self._buffered_since = None
        at = np.repeat(np.array(times, dtype=np.int64).astype("datetime64[ns]"), counts)
        return columns, predictions, at

    def _run(self) -> None:
        held: list[_Batch] = []
        count = 0
        since = None  # when the oldest held frame was taken
        while True:
            oldest = [t for t in (since, self._buffered_since) if t is not None]
            timeout = min(oldest) + self.flush_seconds - time.monotonic() if oldest else None
            self._wake.wait(self.flush_seconds if timeout is None else max(0.0, timeout))
            self._wake.clear()
            stopping = self._stopping
            self._retry()
            taken = self._take_columns(stopping)
            if taken is not None:
                self._write_columns(*taken)
            while self._pending:
                item = self._pending.popleft()
                held.append(item)
                count += _rows(item[0])
                since = since or time.monotonic()
                if count >= self.flush_rows:
                    self._flush(held, count)
                    held, count, since = [], 0, None
            due = since is not None and time.monotonic() - since >= self.flush_seconds
            if held and (due or stopping):
                self._flush(held, count)
                held, count, since = [], 0, None
            if stopping:
                self._retry()
                if self._unwritten:
                    lost = sum(count for _, count in self._unwritten)
                    self.dropped += lost
                    log.error(
                        "prediction log: %d answered rows could not be written to %s before "
                        "shutdown and are lost (the sink was unreachable)",
                        lost,
                        self.sink,
                    )
                return

    def _write_columns(
        self, columns: dict[str, list[Any]], predictions: list[Any], at: Any
    ) -> None:
        self._write(lambda: self._table(columns, predictions, at), len(predictions))

    def _flush(self, batches: list[_Batch], count: int) -> None:
        self._write(lambda: self._frame(batches), count)

    def _write(self, build: Any, count: int) -> None:
        """Write one batch (``build()`` makes it); if the sink is unreachable, keep it for
        the next wake (after those kept before it, so the files keep their order), up to
        ``max_queue * 100`` rows. A batch that cannot be written at all (rows Parquet cannot
        hold) is dropped and counted: kept, it would block every later batch."""
        rows = None
        try:
            rows = build()
            if self._unwritten:  # the sink is down: not before the batches kept earlier
                self._keep(rows, count)
                return
            write_batch(self.sink, rows)
            self.written += count
        except Exception as err:  # a logging outage must never take predictions down
            if rows is None or not _unreachable(err):
                log.exception("prediction log: dropped %d rows it cannot write", count)
                self.dropped += count
                return
            log.exception(
                "prediction log: could not write %d rows to %s (kept, retried every %.0f s)",
                count,
                self.sink,
                self.flush_seconds,
            )
            self._keep(rows, count)

    def _keep(self, rows: Any, count: int) -> None:
        self._unwritten.append((rows, count))
        kept = sum(n for _, n in self._unwritten)
        while kept > self.max_queue * 100 and len(self._unwritten) > 1:
            _, oldest = self._unwritten.popleft()
            kept -= oldest
            self.dropped += oldest
            log.error("prediction log: %s unreachable too long: dropped %d rows", self.sink, oldest)

    def _retry(self) -> None:
        while self._unwritten:
            rows, count = self._unwritten[0]
            try:
                write_batch(self.sink, rows)
            except Exception:
                log.warning(
                    "prediction log: %s still unreachable (%d batches kept)",
                    self.sink,
                    len(self._unwritten),
                )
                return
            self._unwritten.popleft()
            self.written += count

    def _frame(self, batches: list[_Batch]) -> pd.DataFrame:
        frame = _frame(batches)
        frame[PREDICTION] = [p for _, predictions, _ in batches for p in predictions]
        frame[VERSION] = self.version
        frame[LOGGED_AT] = [at for _, predictions, at in batches for _ in predictions]
        return frame

    def _table(self, columns: dict[str, list[Any]], predictions: list[Any], at: Any) -> Any:
        """The column lists as one Arrow table: the columns pandas would have written
        (int64, double, string, bool; the log's timestamps as timestamp[ns])."""
        import pyarrow as pa

        try:
            arrays = {}
            for name, values in columns.items():
                arrays[name] = pa.array(values)
                # Converting a column holds the GIL: let the
                # event loop in between, so a flush never stalls requests for the whole table.
                time.sleep(0)
        except (pa.ArrowException, TypeError, ValueError):  # mixed types: as pandas would
            frame = pd.DataFrame(columns)
            frame[PREDICTION], frame[VERSION], frame[LOGGED_AT] = predictions, self.version, at
            return frame
        arrays[PREDICTION] = pa.array(predictions)
        arrays[VERSION] = pa.array([self.version] * len(at), type=pa.string())
        arrays[LOGGED_AT] = pa.array(at)
        return pa.table(arrays)

    def close(self, timeout: float = 10.0) -> bool:
        """Flush what is queued and stop the writer (called on shutdown). False, with an
        error logged, when the writer is still writing after ``timeout``: the process
        ending then loses what it held, and the log says so instead of exiting quietly."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            return True
        held = len(self._predictions) + sum(_rows(b[0]) for b in list(self._pending))
        held += sum(count for _, count in list(self._unwritten))
        log.error(
            "prediction log: the writer to %s had not finished after %g s at shutdown; "
            "about %d rows not yet written (besides the batch it is writing) may be lost",
            self.sink,
            timeout,
            held,
        )
        return False
