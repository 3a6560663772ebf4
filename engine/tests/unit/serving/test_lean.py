"""The lean inference path on small fitted pipelines: identical numbers with missing,
None, unknown and boundary values; anything it does not reproduce is left to the pipeline;
a copy that differs in one comparison is caught."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from mlops_engine.config import TrainParams
from mlops_engine.pipeline.train import build_pipeline
from mlops_engine.serving import lean
from mlops_engine.serving.schema import column_reader, record_model, records_to_rows
from tests.frames import tiny_contract, tiny_frame

FAST = TrainParams(hyperparams={"max_iter": 30})


def _fit(task: str = "regression", name: str = "hist_gradient_boosting"):
    contract = tiny_contract(task)
    frame = tiny_frame(200, task)
    frame["n"] = frame["n"].astype("float64")
    frame.loc[::7, "n"] = math.nan  # a nullable column with missing values in training
    model = build_pipeline(FAST, contract, 0, name).fit(
        frame[contract.features], frame[contract.target]
    )
    return model, contract, frame


@pytest.fixture(scope="module")
def fitted():
    return _fit()


class Clipped(Pipeline):
    """A pipeline whose predict does more than its steps: the lean copy cannot know."""

    def predict(self, X, **params):
        return np.maximum(super().predict(X, **params), 10.0)


def test_identical_with_missing_none_unknown_and_threshold_values(fitted):
    model, contract, frame = fitted
    copy = lean.build(model)
    probes = lean.probe_frame(copy, contract)
    # every kind of value the service may pass, and the trees' own thresholds
    assert probes["n"].isna().any() and {None, "<never seen>"} <= set(probes["colour"])
    assert len(probes) > 256
    assert lean.verify(copy, model, probes) > len(probes)
    rows = frame[contract.features].head(40).copy()
    rows["colour"] = rows["colour"].astype(object)
    rows.loc[rows.index[:5], "colour"] = ["purple", None, math.nan, "red", "blue"]
    expected = model.predict(rows)
    assert np.array_equal(copy.predict_frame(rows), expected)
    assert np.array_equal(copy.trees(copy.prepare(rows.to_dict("list"))), expected)
    many = frame[contract.features].sample(1200, replace=True, random_state=0)
    assert np.array_equal(copy.predict_frame(many), model.predict(many))  # in chunks


def test_the_service_path_from_records_is_the_pipeline_on_their_frame(fitted):
    """Requests arrive as validated records: read by column (nullable int as None), they
    give what the pipeline gives on the frame the service used to build from them."""
    model, contract, frame = fitted
    record = record_model(contract)
    raw = frame[contract.features].head(30).to_dict("records")
    for i, r in enumerate(raw):
        if i < 6 or math.isnan(r["n"]):
            r["n"] = None
    records = [record.model_validate(r) for r in raw]
    columns = column_reader(record)(records)
    assert columns["n"][:6] == [None] * 6 and list(columns) == contract.features
    rows = records_to_rows(records)
    expected = model.predict(pd.DataFrame({c: [r[c] for r in rows] for c in contract.features}))
    assert np.array_equal(lean.build(model).predict_columns(columns), expected)


@pytest.mark.parametrize(
    ("task", "name", "named"),
    [("regression", "linear", "Ridge"), ("classification", "hist_gradient_boosting", "Classifier")],
)
def test_what_it_does_not_reproduce_is_served_by_the_pipeline(task, name, named):
    model, contract, _ = _fit(task, name)
    with pytest.raises(lean.Unsupported, match=named):
        lean.build(model)
    assert lean.for_service(model, contract) is None


def test_a_copy_that_differs_in_one_comparison_is_caught(fitted):
    """One threshold one ulp higher: only a row at exactly the old threshold's neighbour,
    on a path through that split, tells the two apart (``tree_probes`` has one per split)."""
    model, contract, _ = fitted
    probes = lean.probe_frame(lean.build(model), contract)
    columns = len(lean.build(model)._cuts)
    for j in range(columns):
        tampered = lean.build(model)
        cuts = tampered._cuts[j].copy()
        cuts[len(cuts) // 2] = np.nextafter(cuts[len(cuts) // 2], np.inf)
        tampered._cuts[j] = cuts
        with pytest.raises(lean.EquivalenceError, match="differs from the pipeline"):
            lean.verify(tampered, model, probes)
    assert columns >= 2


def test_a_pipeline_that_predicts_more_than_its_steps_refuses_the_lean_path(fitted):
    model, contract, _ = fitted
    clipped = Clipped(model.steps)
    with pytest.raises(lean.EquivalenceError, match="differs from the pipeline"):
        lean.for_service(clipped, contract)


def test_column_reader_gives_what_model_dump_gives():
    contract = tiny_contract()
    record = record_model(contract)
    raw = [{"x": 1.5, "colour": "red", "n": None}, {"x": 2, "colour": "blue", "n": 7}]
    records = [record.model_validate(r) for r in raw]
    rows = records_to_rows(records)
    assert column_reader(record)(records) == {c: [r[c] for r in rows] for c in contract.features}
    assert column_reader(record)([]) == {"x": [], "colour": [], "n": []}
    only_x = contract.model_copy(
        update={"columns": {"x": contract.columns["x"], "y": contract.columns["y"]}}
    )
    one = record_model(only_x.model_copy(update={"time_column": None}))
    assert column_reader(one)([one(x=1.0), one(x=2.0)]) == {"x": [1.0, 2.0]}
