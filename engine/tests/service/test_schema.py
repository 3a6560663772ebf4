"""The request schema is generated from the data contract."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mlops_engine.contract import ColumnSpec, Contract
from mlops_engine.serving.schema import record_model

pytestmark = pytest.mark.example


def test_every_feature_is_a_required_field_and_nothing_else(params, good):
    model = record_model(params.contract)
    assert set(model.model_fields) == set(params.contract.features)
    assert all(f.is_required() for f in model.model_fields.values())
    model(**good)


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        ({"hr": 24}, "hr", "less_than_equal"),
        ({"temp": -0.1}, "temp", "greater_than_equal"),
        ({"temp": float("nan")}, "temp", "finite_number"),
        ({"temp": float("inf")}, "temp", "finite_number"),
        ({"weathersit": "tornado"}, "weathersit", "literal_error"),
        ({"colour": "red"}, "colour", "extra_forbidden"),
        ({"hr": "eight"}, "hr", "int_parsing"),
    ],
)
def test_contract_rules_become_field_errors(params, good, change, field, kind):
    with pytest.raises(ValidationError) as err:
        record_model(params.contract)(**{**good, **change})
    (error,) = err.value.errors()
    assert error["loc"] == (field,) and error["type"] == kind


def test_missing_field_is_named(params, good):
    with pytest.raises(ValidationError) as err:
        record_model(params.contract)(**{k: v for k, v in good.items() if k != "hum"})
    assert err.value.errors()[0]["loc"] == ("hum",)


def test_nullable_column_is_optional_and_odd_names_are_aliased():
    contract = Contract(
        task="regression",
        target="y",
        columns={
            "mean radius": ColumnSpec(dtype="float", min=0),
            "n": ColumnSpec(dtype="int", nullable=True),
            "y": ColumnSpec(dtype="float"),
        },
    )
    model = record_model(contract)
    row = model.model_validate({"mean radius": 1.5})
    assert row.model_dump(by_alias=True) == {"mean radius": 1.5, "n": None}
