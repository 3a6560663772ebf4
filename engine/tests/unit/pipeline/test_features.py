"""Derived features live inside the fitted pipeline (engine/src/mlops_engine/pipeline/features.py):
the model takes the raw request columns and computes them itself, so the service's schema
never asks clients for them."""

from __future__ import annotations

import io

import joblib
import numpy as np
import pydantic
import pytest

from mlops_engine.pipeline.features import DeriveFeatures
from mlops_engine.pipeline.train import train
from mlops_engine.serving.schema import record_model

pytestmark = pytest.mark.example


@pytest.fixture(scope="module")
def with_rush_hour(params):
    return params.contract.model_copy(update={"derived": ("rush_hour",)})


def test_a_derived_feature_is_computed_by_the_model_from_raw_columns(
    train_test, params, model, with_rush_hour
):
    train_rows, test_rows = train_test
    derived = train(train_rows, params.train, with_rush_hour, params.seed)
    assert isinstance(derived.steps[0][1], DeriveFeatures)
    raw = test_rows[params.contract.features]
    assert "rush_hour" not in raw.columns
    predicted = derived.predict(raw)
    assert np.isfinite(predicted).all()
    assert not np.allclose(predicted, model.predict(raw)), "the derived column was not used"
    buffer = io.BytesIO()
    joblib.dump(derived, buffer)
    buffer.seek(0)
    assert np.array_equal(joblib.load(buffer).predict(raw), predicted)


def test_without_derived_features_the_pipeline_has_no_extra_step(model):
    assert [name for name, _ in model.steps] == ["preprocess", "model"]


def test_the_request_schema_never_asks_for_a_derived_column(params, with_rush_hour, validated):
    record = validated[params.contract.features].iloc[0].to_dict()
    record["mnth"], record["weathersit"] = str(record["mnth"]), str(record["weathersit"])
    schema = record_model(with_rush_hour)
    assert "rush_hour" not in schema.model_fields
    schema(**record)
    with pytest.raises(pydantic.ValidationError, match="rush_hour"):
        schema(**record, rush_hour="commute")


@pytest.mark.parametrize(
    ("derived", "message"),
    [
        (("nope",), r"contract.derived: \['nope'\] not defined in .*features.py"),
        (("rush_hour", "nope"), r"nope"),
    ],
)
def test_an_undefined_derived_feature_names_the_key_and_the_module(
    train_test, params, derived, message
):
    contract = params.contract.model_copy(update={"derived": derived})
    with pytest.raises(ValueError, match=message):
        train(train_test[0].head(200), params.train, contract, params.seed)


def test_a_derived_feature_needs_its_raw_inputs(train_test, params):
    columns = {k: v for k, v in params.contract.columns.items() if k != "workingday"}
    contract = params.contract.model_copy(update={"derived": ("rush_hour",), "columns": columns})
    with pytest.raises(ValueError, match=r"'rush_hour' reads \['workingday'\]"):
        train(train_test[0].head(200), params.train, contract, params.seed)
