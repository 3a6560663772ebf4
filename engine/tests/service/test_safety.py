"""Artifact integrity, API key, prediction logging: the service's safety nets."""

from __future__ import annotations

import shutil
import threading
import time

import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mlops_engine.serving import model_store, prediction_log
from mlops_engine.serving.middleware import ApiKey, ModelVersionHeader
from mlops_engine.serving.prediction_log import PredictionLogger, read_logs


def test_tampered_model_is_refused_before_unpickling(saved_model, tmp_path):
    import bentoml

    stored = bentoml.models.get(saved_model[0])
    copy = tmp_path / "copy"
    shutil.copytree(stored.path, copy)
    assert model_store.load_verified(copy, stored.info.metadata["sha256"]) is not None
    with (copy / model_store.MODEL_FILE).open("ab") as fh:
        fh.write(b"\x00malicious")
    with pytest.raises(model_store.ModelIntegrityError, match="refusing to load"):
        model_store.load_verified(copy, stored.info.metadata["sha256"])


def test_saving_a_model_that_is_not_the_locked_one_fails(saved_model, tmp_path):
    path = tmp_path / "other.joblib"
    path.write_bytes(b"not the model")
    lineage = model_store.Lineage("0" * 40, "f" * 32, {}, {}, {})
    with pytest.raises(model_store.ModelIntegrityError, match=r"does not match dvc\.lock"):
        model_store.save(path, "x", lineage)


def _app(*middlewares):
    async def ok(request):
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/predict", ok, methods=["POST"]), Route("/healthz", ok)])
    for cls, opts in middlewares:
        app.add_middleware(cls, **opts)
    return app


def test_api_key_when_configured():
    with TestClient(_app((ApiKey, {"key": "s3cret"}))) as c:
        assert c.post("/predict").status_code == 401
        assert c.post("/predict", headers={"x-api-key": "wrong"}).status_code == 401
        assert c.post("/predict", headers={"x-api-key": "s3cret"}).status_code == 200
        assert c.post("/predict", headers={"authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/healthz").status_code == 200, "probes stay open"


def test_overload_answers_tell_clients_when_to_retry():
    async def busy(request):
        return JSONResponse({"error": "process is overloaded"}, status_code=503)

    app = Starlette(routes=[Route("/predict", busy, methods=["POST"])])
    app.add_middleware(ModelVersionHeader, version="v1", retry_after_s=2)
    with TestClient(app) as c:
        response = c.post("/predict")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2" and response.headers["x-model-version"] == "v1"


def _park_the_writer(monkeypatch) -> threading.Event:
    """The log's writer waits inside each write until the returned event is set (60 s at
    most: a test that never sets it still ends)."""
    released = threading.Event()
    write = prediction_log.write_batch

    def parked(*args, **kwargs):
        released.wait(timeout=60)
        return write(*args, **kwargs)

    monkeypatch.setattr(prediction_log, "write_batch", parked)
    return released


def test_prediction_log_writes_batches_off_the_request_path(tmp_path, monkeypatch):
    """The writer is parked inside its first write until every row is logged: a ``log``
    that waited for a write would wait out the park (60 s). No tight clock (a loaded
    machine's scheduler alone can take 50 ms)."""
    released = _park_the_writer(monkeypatch)
    sink = str(tmp_path / "logs")
    logger = PredictionLogger(sink, "v1", flush_rows=3, flush_seconds=0.2)
    start = time.perf_counter()
    for i in range(7):
        logger.log(pd.DataFrame([{"hr": i, "temp": 0.5}]), [float(i)])
    assert time.perf_counter() - start < 10, "logging must not wait for the writer"
    assert logger.written == 0, "nothing was written while the writer was parked"
    released.set()
    assert logger.close(timeout=120), "the writer finished"
    frame = read_logs(sink)
    assert len(frame) == 7 and frame["prediction"].tolist() == [float(i) for i in range(7)]
    assert set(frame.columns) >= {"hr", "temp", "prediction", "model_version", "logged_at"}
    files = list((tmp_path / "logs").glob("date=*/*.parquet"))
    assert len(files) >= 3, "rows are written in batches of flush_rows"
    assert not list((tmp_path / "logs").glob("date=*/.*.tmp"))


def test_a_writer_still_writing_at_shutdown_is_reported_not_silent(tmp_path, monkeypatch, caplog):
    """The service's shutdown waits 10 s for the log; past that the process's end would take
    the held rows with it. ``close`` says so (an error naming the sink) and returns False."""
    released = _park_the_writer(monkeypatch)
    sink = str(tmp_path / "logs")
    logger = PredictionLogger(sink, "v1", flush_rows=1, flush_seconds=0.1)
    logger.log(pd.DataFrame([{"hr": 1}]), [1.0])
    logger.log(pd.DataFrame([{"hr": 2}]), [2.0])
    with caplog.at_level("ERROR", logger=prediction_log.__name__):
        assert logger.close(timeout=0.2) is False
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert sink in record.getMessage() and "may be lost" in record.getMessage()
    released.set()
    assert logger.close(timeout=120) is True
    assert logger.written == 2 and logger.dropped == 0


def test_prediction_log_outage_never_raises(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    logger = PredictionLogger(str(blocker / "logs"), "v1", flush_rows=1, flush_seconds=0.1)
    logger.log(pd.DataFrame([{"hr": 1}]), [1.0])
    logger.close()
    assert logger.dropped == 1 and logger.written == 0


def test_a_batch_parquet_cannot_hold_is_dropped_and_blocks_nothing(tmp_path):
    """Kept for a retry, a batch that can never be written would hold up every later one."""
    sink = str(tmp_path / "logs")
    logger = PredictionLogger(sink, "v1", flush_rows=1, flush_seconds=0.1)
    logger.log(pd.DataFrame({"hr": [1, "one"]}), [1.0, 2.0])  # int and str: no Parquet type
    logger.log(pd.DataFrame({"hr": [3]}), [3.0])
    logger.close()
    assert logger.dropped == 2 and logger.written == 1
    assert read_logs(sink)["prediction"].tolist() == [3.0]


SAVER = """
import sys, time
from pathlib import Path
import bentoml  # imported before the start line, so the savers race for the same tag
from mlops_engine.serving import model_store
path, ready, go = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
lineage = model_store.Lineage("0" * 40, model_store.md5_of(path), {}, {}, {})
ready.touch()
while not go.exists():
    time.sleep(0.001)
print(model_store.save(path, "raced", lineage))
"""


def test_processes_saving_one_model_at_once_all_get_its_tag(tmp_path):
    """BentoML's store checks that a tag is free, then writes it: savers started together
    failed with "Item ... already exists" (two pytest workers on one exported BENTOML_HOME)
    until save() took a lock."""
    import os
    import subprocess
    import sys

    model = tmp_path / "model.joblib"
    model.write_bytes(os.urandom(1 << 24))  # hashing it widens the window
    go, n = tmp_path / "go", 6
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "store")}
    savers = [
        subprocess.Popen(
            [sys.executable, "-c", SAVER, str(model), str(tmp_path / f"ready-{i}"), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < n and time.monotonic() < deadline:
        assert all(s.poll() is None for s in savers), [s.communicate() for s in savers]
        time.sleep(0.05)
    go.touch()
    results = [s.communicate(timeout=120) for s in savers]
    assert [s.returncode for s in savers] == [0] * n, [err[-800:] for _, err in results]
    (tag,) = {out.strip().splitlines()[-1] for out, _ in results}
    stored = tmp_path / "store" / "models" / "raced" / tag.split(":")[1] / model_store.MODEL_FILE
    assert stored.read_bytes() == model.read_bytes()
