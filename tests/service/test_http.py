"""The service over HTTP, through BentoML's ASGI app (in-process), with requests built from
the project's own contract and data: these tests guard a user's table after `mlops init`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.service.records import CASES, case_or_skip, same_predictions

pytestmark = [pytest.mark.service]


def _post(client, body, **kw):
    if isinstance(body, bytes | str):
        return client.post(
            "/predict", content=body, headers={"content-type": "application/json"}, **kw
        )
    return client.post("/predict", json=body, **kw)


def test_predictions_equal_the_pipeline_model(client, model, train_test, params, saved_model):
    rows = train_test[1][params.contract.features].head(50)
    records = json.loads(rows.to_json(orient="records", date_format="iso"))
    response = _post(client, {"records": records})
    assert response.status_code == 200, response.text
    got = [p["prediction"] for p in response.json()]
    assert same_predictions(got, model.predict(rows))
    version = saved_model[0].split(":")[1]
    assert response.headers["x-model-version"] == version
    assert {p["model_version"] for p in response.json()} == {version}


def test_metadata_has_version_lineage_and_metrics(client, saved_model):
    response = client.post("/metadata", json={})
    assert response.status_code == 200
    meta = response.json()
    assert meta["model_tag"] == saved_model[0]
    assert meta["metrics"] == {"mae": 1.0} and meta["git_commit"] == "0" * 40
    assert len(meta["sha256"]) == 64


@pytest.mark.example
def test_the_example_contract_has_every_bad_case(bad):
    """On the bundled example no case is skipped for want of a column with its rule."""
    assert tuple(bad) == CASES


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_a_4xx_naming_the_field(client, bad, case):
    body, named = case_or_skip(bad, case)
    response = _post(client, body)
    assert 400 <= response.status_code < 500, response.text
    assert named in response.text
    assert "x-model-version" in response.headers


def test_oversized_body_is_413(client, params):
    response = _post(client, b'{"records": [' + b" " * (params.serve.max_request_bytes + 1) + b"]}")
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]


def test_service_settings_come_from_params(service, params):
    """What the load benchmark tuned reaches BentoML: batching, limits, access log, tracing."""
    config = service.Predictor.config
    assert config["logging"]["access"]["enabled"] is params.serve.access_log
    assert config["tracing"] == ({} if params.serve.tracing else {"excluded_urls": ".*"})
    assert config["traffic"]["max_concurrency"] == params.serve.max_concurrency
    predict = service.Predictor.apis["predict"]
    assert predict.batchable and predict.max_batch_size == params.serve.batching.max_batch_size
    assert predict.output_spec.media_type == "application/json", "no schema per response"


def test_a_started_service_keeps_the_gc_off_its_startup_heap(client, params):
    """The p99 fix: startup objects frozen out of the collector, request garbage batched."""
    import gc

    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold() == params.serve.gc_threshold


def test_class_predictions_are_the_pipelines_from_one_probability_pass(service):
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=300), "z": rng.normal(size=300)})
    labels = np.where(frame.x + 0.5 * frame.z > 0.2, "CH", np.where(frame.z > 1, "MM", "XX"))
    model = HistGradientBoostingClassifier(max_iter=20).fit(frame, labels)
    out = service.predictions(model, frame, "classification", "v1")
    assert [o.prediction for o in out] == list(model.predict(frame))
    proba = model.predict_proba(frame)
    assert [o.probabilities for o in out] == [
        dict(zip(["CH", "MM", "XX"], map(float, row), strict=True)) for row in proba
    ]
    assert {o.model_version for o in out} == {"v1"}


def test_class_predictions_keep_a_tuned_threshold(service):
    """An imbalanced binary target's model decides at its out-of-fold threshold, not 0.5."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import FixedThresholdClassifier

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=300)})
    labels = np.where(frame.x + rng.normal(size=300) > 1.5, "yes", "no")
    model = FixedThresholdClassifier(
        HistGradientBoostingClassifier(max_iter=20), threshold=0.2, pos_label="yes"
    ).fit(frame, labels)
    out = service.predictions(model, frame, "classification", "v1")
    assert [o.prediction for o in out] == list(model.predict(frame))
    assert (model.predict(frame) != model.classes_[model.predict_proba(frame).argmax(1)]).any()
