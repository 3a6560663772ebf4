"""Requests built from the project's own contract and data, so the service tests guard
whatever table the project serves: the bundled example, or a user's after `mlops init`.

``good`` is a real row of the test split, as a client would send it (JSON types). Each bad
case breaks one rule the contract declares, on the first column that has the rule, and
names the field the 4xx must name; a contract without such a column has no such case (the
bundled example has every one: tests/service/test_http.py checks).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlops_engine.config import Params

Body = dict[str, Any] | list[Any] | str | bytes

# Every case bad_cases can build, in its order.
CASES = (
    "nan",
    "infinity",
    "wrong type",
    "missing field",
    "extra field",
    "out of range",
    "unknown category",
    "empty batch",
    "oversized batch",
    "malformed json",
    "not an object",
    "no records",
)


def good_record(test: pd.DataFrame, params: Params) -> dict[str, Any]:
    """The first test row's features, as JSON would carry them (NaN of a nullable column:
    null)."""
    features = params.contract.features
    return json.loads(test[features].head(1).to_json(orient="records", date_format="iso"))[0]


def _with(good: dict[str, Any], field: str, literal: str) -> str:
    """A request body whose ``field`` is the raw JSON ``literal`` (NaN, -Infinity)."""
    record = {**good, field: "__LITERAL__"}
    return '{"records": [' + json.dumps(record).replace('"__LITERAL__"', literal) + "]}"


def bad_cases(good: dict[str, Any], params: Params) -> dict[str, tuple[Body, str]]:
    """name -> (request body, the text the 4xx must contain)."""
    columns = params.contract.columns
    features = params.contract.features
    floats = [f for f in features if columns[f].dtype == "float"]
    numbers = [f for f in features if columns[f].dtype in ("int", "float")]
    ints = [f for f in features if columns[f].dtype == "int"]
    required = [f for f in features if not columns[f].nullable]
    bounded = [f for f in numbers if columns[f].max is not None or columns[f].min is not None]
    closed = [f for f in features if columns[f].categories]
    cases: dict[str, tuple[Body, str]] = {}
    if floats:
        cases["nan"] = (_with(good, floats[0], "NaN"), floats[0])
        cases["infinity"] = (_with(good, floats[0], "-Infinity"), floats[0])
    if ints:
        cases["wrong type"] = ({"records": [{**good, ints[0]: "eight"}]}, ints[0])
    if required:
        missing = {k: v for k, v in good.items() if k != required[0]}
        cases["missing field"] = ({"records": [missing]}, required[0])
    cases["extra field"] = ({"records": [{**good, "not_a_column": 1}]}, "not_a_column")
    if bounded:
        spec = columns[bounded[0]]
        outside = spec.max + 1 if spec.max is not None else spec.min - 1
        if spec.dtype == "int":
            outside = int(outside)
        cases["out of range"] = ({"records": [{**good, bounded[0]: outside}]}, bounded[0])
    if closed:
        unknown = {**good, closed[0]: "not-a-category"}
        cases["unknown category"] = ({"records": [unknown]}, closed[0])
    cases["empty batch"] = ({"records": []}, "records")
    cases["oversized batch"] = ({"records": [good] * (params.serve.max_records + 1)}, "records")
    cases["malformed json"] = ('{"records": [', "Invalid JSON")
    cases["not an object"] = ([good], "object")
    cases["no records"] = ({}, "records")
    return cases


def case_or_skip(bad: dict[str, tuple[Body, str]], case: str) -> tuple[Body, str]:
    """(body, field) of ``case``; a skip when the contract has no column with its rule."""
    if case not in bad:
        pytest.skip(f"the contract declares no column {case!r} could break")
    return bad[case]


def same_predictions(got: list[Any], expected: np.ndarray) -> bool:
    """The service's answers are the pipeline's: numbers to 1e-9, classes exactly."""
    if expected.dtype.kind in "fiu":
        return bool(np.allclose(got, expected.astype(float), rtol=0, atol=1e-9))
    return list(got) == list(expected)
