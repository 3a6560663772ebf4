"""The served numbers are the pipeline's: the lean inference path against the fitted
pipeline on the whole test split, through every path the service takes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlops_engine.serving import lean
from mlops_engine.serving.schema import column_reader, record_model


@pytest.fixture(scope="module")
def copy(model):
    try:
        return lean.build(model)
    except lean.Unsupported as err:
        pytest.skip(f"this project's model is served by its pipeline ({err})")


@pytest.mark.example
def test_the_bundled_model_is_served_by_the_lean_path(model, params):
    assert lean.for_service(model, params.contract) is not None


def test_identical_on_the_whole_test_split(copy, model, train_test, params):
    test = train_test[1][params.contract.features]
    expected = model.predict(test)
    X = copy.prepare({c: test[c].tolist() for c in copy.columns})
    assert np.array_equal(X, model.steps[0][1].transform(test))
    assert np.array_equal(copy.trees(X), expected)
    assert np.array_equal(copy.trees(X[:1]), expected[:1])
    assert np.array_equal(copy.predict_frame(test), expected)
    # as requests arrive: validated records, read by column, in batches of 1 and 15
    record = record_model(params.contract)
    records = [record.model_validate(r) for r in json.loads(test.to_json(orient="records"))]
    read = column_reader(record)
    for size in (1, 15, 100):
        batches = [records[i : i + size] for i in range(0, len(records), size)]
        got = np.concatenate([copy.predict_columns(read(batch)) for batch in batches])
        assert np.array_equal(got, expected), size
