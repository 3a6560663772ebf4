"""The prediction service (BentoML 1.4): ``bentoml serve mlops_engine.serving.service:Predictor``.

- serves the exact model the DVC pipeline produced: its tag is ``<serve.model_name>:<model
  hash from dvc.lock>`` (``MLOPS_MODEL_TAG`` overrides), saved by ``mlops save-model``;
- validates requests with a schema generated from the data contract (4xx naming the field);
- batches single-record requests adaptively; limits request size (413) and records per
  request; optional API key (``MLOPS_API_KEY``); ``X-Model-Version`` on every response;
- logs predictions off the hot path to ``serve.prediction_log.sink``
  (``MLOPS_PREDICTION_LOG`` overrides; ``MLOPS_PREDICTION_LOG=off`` disables).
Health (``/healthz``, ``/livez``, ``/readyz``) and Prometheus ``/metrics`` come from BentoML.
"""

from __future__ import annotations

import os

# One OpenMP thread per worker, set before any model code runs (OpenMP reads it once):
# HistGradientBoosting oversubscribes the CPU under concurrent requests otherwise (the
# figures: docs/performance.md, "Why the service is shaped as it is"). Scale with workers.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import gc
import json
from pathlib import Path
from typing import Annotated, Any

import bentoml
import numpy as np
import pandas as pd
from bentoml.validators import ContentType
from pydantic import Field

from mlops_engine.config import load_params
from mlops_engine.pipeline.decision import decided
from mlops_engine.serving import batching, lean, model_store
from mlops_engine.serving.middleware import ApiKey, BodySizeLimit, ModelVersionHeader
from mlops_engine.serving.model_tag import model_tag
from mlops_engine.serving.prediction_log import PredictionLogger
from mlops_engine.serving.schema import (
    Prediction,
    column_reader,
    record_model,
    records_to_rows,
)

PARAMS = load_params(os.environ.get("MLOPS_PARAMS", "params.yaml"))
SERVE = PARAMS.serve
CONTRACT = PARAMS.contract
MODEL_TAG = os.environ.get("MLOPS_MODEL_TAG") or model_tag(Path("dvc.lock"), SERVE.model_name)
MODEL_VERSION = MODEL_TAG.split(":", 1)[1]
Record = record_model(CONTRACT)
read_columns = column_reader(Record)
Records = Annotated[list[Record], Field(min_length=1, max_length=SERVE.max_records)]  # type: ignore[valid-type]
# A declared media type spares BentoML deriving it from the JSON schema on every response
# (a share of the serving core under load that py-spy showed: docs/performance.md, "Why
# the service is shaped as it is").
Predictions = Annotated[list[Prediction], ContentType("application/json")]
# The image (BentoML's v2 build, `mlops build`; pyproject's [tool.bentoml.build] adds the
# requirements and the setup script). python:3.13-slim: Debian with Python and nothing else
# (distroless images lack the shell and useradd the Dockerfile runs). Any distro BentoML
# knows would first apt-get install build-essential, gnupg2 and git (their size:
# docs/performance.md, "The image"), which serving never uses: the serving set installs
# from wheels. build/dist (the project's wheel) and build/requirements.txt (the serving set,
# which the setup script installs) are copied in before the requirements are installed.
# Its Python version is pyproject's ([tool.bentoml.build.docker], .python-version's).
IMAGE = bentoml.images.Image(base_image="python:3.13-slim", distro="python-slim").build_include(
    "build/dist", "build/requirements.txt"
)
BATCHING = {
    "batchable": True,
    "max_batch_size": SERVE.batching.max_batch_size,
    "max_latency_ms": SERVE.batching.max_latency_ms,
}


@bentoml.service(
    name="predictor",
    image=IMAGE,
    traffic={"timeout": SERVE.timeout_s, "max_concurrency": SERVE.max_concurrency},
    workers=1,
    metrics={"enabled": True, "namespace": "mlops"},
    logging={"access": {"enabled": SERVE.access_log}},
    # BentoML makes OpenTelemetry spans for every request even with no exporter (its default);
    # off, its middleware skips every URL (what the spans cost under load, from py-spy:
    # docs/performance.md, "Why the service is shaped as it is").
    tracing={} if SERVE.tracing else {"excluded_urls": ".*"},
)
class Predictor:
    model_ref = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
        stored = self.model_ref  # BentoML resolves the reference to the stored model
        meta = stored.info.metadata
        self.model = model_store.load_verified(Path(stored.path), meta["sha256"])
        # The pipeline compiled to flat arrays, checked to give its exact numbers (raises
        # lean.EquivalenceError, and the server does not start, if not); None: not compilable.
        self.lean = lean.for_service(self.model, CONTRACT)
        self.model_info = {
            "model_tag": MODEL_TAG,
            "model_version": MODEL_VERSION,
            "task": CONTRACT.task,
            "target": CONTRACT.target,
            "features": CONTRACT.features,
            "sha256": meta["sha256"],
            "git_commit": meta.get("git_commit"),
            "data": json.loads(meta.get("data", "{}")),
            "params": json.loads(meta.get("params", "{}")),
            "metrics": json.loads(meta.get("metrics", "{}")),
            "model_card": meta.get("model_card", ""),  # reports/model_card.md + the commit
            "created": stored.info.creation_time.isoformat(),
            "inference": "pipeline" if self.lean is None else "lean (verified identical)",
        }
        sink = os.environ.get("MLOPS_PREDICTION_LOG", SERVE.prediction_log.sink)
        self.logger = None
        if SERVE.prediction_log.enabled and sink != "off":
            self.logger = PredictionLogger(
                sink,
                MODEL_VERSION,
                SERVE.prediction_log.flush_rows,
                SERVE.prediction_log.flush_seconds,
            )
        tune_worker()

    def _predict(self, records: list[Any]) -> list[Prediction]:
        if self.lean is not None:  # no DataFrame, no pipeline call (serving/lean.py)
            columns = read_columns(records)
            values = self.lean.predict_columns(columns).tolist()
            if self.logger is not None:
                self.logger.log(columns, values)
            return [Prediction(prediction=v, model_version=MODEL_VERSION) for v in values]
        rows = records_to_rows(records)
        frame = pd.DataFrame({c: [row[c] for row in rows] for c in CONTRACT.features})
        out = predictions(self.model, frame, CONTRACT.task, MODEL_VERSION)
        if self.logger is not None:
            self.logger.log(frame, [o.prediction for o in out])
        return out

    @bentoml.api(**BATCHING)
    def predict(self, records: Records) -> Predictions:
        """Predict for a list of records; concurrent requests are batched together."""
        return self._predict(records)

    @bentoml.api(route="/metadata")
    def metadata(self) -> dict[str, Any]:
        """Model version, lineage (commit, data hashes, params), its evaluation metrics and
        its model card (markdown, generated by the pipeline's model_card stage)."""
        return self.model_info

    @bentoml.on_shutdown
    def flush_prediction_log(self) -> None:
        if self.logger is not None:
            self.logger.close()


def predictions(model: Any, frame: pd.DataFrame, task: str, version: str) -> list[Prediction]:
    """The model's answers for the frame's rows, as the API returns them."""
    if task == "classification":
        # One pass through the pipeline (each call has a fixed overhead, serving/lean.py):
        # the class predict would give, at a tuned threshold when there is one.
        proba = model.predict_proba(frame)
        predicted = decided(model, frame, proba)
        classes = [str(c) for c in model.classes_]
        return [
            Prediction(
                prediction=_plain(p),
                model_version=version,
                probabilities=dict(zip(classes, map(float, row), strict=True)),
            )
            for p, row in zip(predicted, proba, strict=True)
        ]
    return [Prediction(prediction=float(p), model_version=version) for p in model.predict(frame)]


def tune_worker() -> None:
    """Once per worker, after the model is loaded: GC settled, batcher corrected."""
    settle_heap(SERVE.gc_threshold)
    batching.install()  # lone requests no longer pay for the last burst


def settle_heap(threshold: tuple[int, int, int]) -> None:
    """Keep Python's cyclic GC off the tail latency.

    Under load, with the default thresholds, a full collection walked the whole heap
    (BentoML, pandas, scikit-learn, the model) every few seconds and stalled the event loop
    long enough to set the p99. ``gc.freeze`` moves everything alive after startup out of
    the collector's reach, and a larger first threshold collects the request objects less
    often (what each did to p99 and req/s: docs/performance.md, "Why the service is shaped
    as it is").
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


Predictor.add_asgi_middleware(ModelVersionHeader, version=MODEL_VERSION)
Predictor.add_asgi_middleware(BodySizeLimit, max_bytes=SERVE.max_request_bytes)
if os.environ.get("MLOPS_API_KEY"):
    Predictor.add_asgi_middleware(ApiKey, key=os.environ["MLOPS_API_KEY"])
