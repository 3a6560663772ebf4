"""A BentoML store of the tests' own, holding the model trained from the project's data,
and requests built from the project's contract (tests/service/records.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.service.records import Body, bad_cases, good_record

# Must be set before bentoml is first imported: tests never touch the user's store, even one
# exported as BENTOML_HOME (which xdist's workers would also share, racing to save one tag).
os.environ["BENTOML_HOME"] = tempfile.mkdtemp(prefix="bentoml-tests-")
os.environ.setdefault("MLOPS_PREDICTION_LOG", "off")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")


def _card(model, path, train_test, params) -> str:
    """The model card of this model, as the pipeline's model_card stage writes it."""
    from mlops_engine.pipeline.model_card import CardInputs, render
    from mlops_engine.storage import md5_of

    train, test = train_test
    inputs = CardInputs(params, model, train, test, {}, {}, [], {"model.joblib": md5_of(path)})
    return render(inputs)


@pytest.fixture(scope="session")
def saved_model(model, params, train_test, tmp_path_factory) -> tuple[str, Path]:
    """(tag, file) of the model trained on the real data, saved with lineage."""
    from mlops_engine import storage
    from mlops_engine.serving import model_store

    path = tmp_path_factory.mktemp("model") / "model.joblib"
    storage.write_model(model, path)
    lineage = model_store.Lineage(
        git_commit="0" * 40,
        model_md5=model_store.md5_of(path),
        data={"data/raw/x": "abc"},
        params={"seed": params.seed},
        metrics={"mae": 1.0},
        model_card=_card(model, path, train_test, params),
    )
    tag = model_store.save(path, params.serve.model_name, lineage)
    os.environ["MLOPS_MODEL_TAG"] = tag
    return tag, path


@pytest.fixture(scope="session")
def service(saved_model):
    from mlops_engine.serving import service

    return service


@pytest.fixture(scope="session")
def client(service):
    from starlette.testclient import TestClient

    with TestClient(service.Predictor.to_asgi()) as c:
        yield c


@pytest.fixture(scope="session")
def good(train_test, params) -> dict:
    """A valid request record: a real row of the project's test split."""
    return good_record(train_test[1], params)


@pytest.fixture(scope="session")
def bad(good, params) -> dict[str, tuple[Body, str]]:
    """Requests that each break one rule of the project's contract: name -> (body, field)."""
    return bad_cases(good, params)
