import numpy as np
import pandas as pd

from mlops_engine.pipeline.validate import validate
from tests.frames import tiny_contract, tiny_frame


def _rules(result) -> set[tuple[str, str]]:
    return {(f.column, f.rule) for f in result.failures}


def test_valid_frame_passes_and_is_ordered_like_the_contract():
    contract = tiny_contract()
    frame = tiny_frame()[["y", "x", "colour", "n", "ts"]]
    result = validate(frame, contract)
    assert result.ok
    assert list(result.frame.columns) == list(contract.columns)


def test_every_failure_is_reported_at_once():
    frame = tiny_frame()
    frame.loc[1, "x"] = 11.0
    frame.loc[2, "colour"] = "purple"
    frame = frame.drop(columns=["n"])
    result = validate(frame, tiny_contract())
    assert _rules(result) == {
        ("x", "max <= 10"),
        ("colour", "allowed_categories"),
        ("n", "required_column"),
    }
    report = result.report()
    assert report["valid"] is False and report["n_failures"] == 3


def test_nullable_column_accepts_nulls_required_one_does_not():
    frame = tiny_frame()
    frame["n"] = frame["n"].astype("float64")
    frame.loc[0, "n"] = np.nan
    frame.loc[0, "x"] = np.nan
    result = validate(frame, tiny_contract())
    assert _rules(result) == {("x", "not_nullable")}


def test_infinity_is_rejected():
    frame = tiny_frame()
    frame.loc[3, "x"] = np.inf
    assert ("x", "finite") in _rules(validate(frame, tiny_contract()))


def test_too_few_rows_and_duplicates():
    frame = tiny_frame(rows=3)
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    result = validate(frame, tiny_contract(min_rows=10))
    assert {
        ("(table)", "min_rows >= 10"),
        ("(table)", "no_duplicate_rows"),
        ("ts", "unique"),
    } <= _rules(result)


def test_empty_frame_fails_clearly():
    result = validate(pd.DataFrame(), tiny_contract())
    assert _rules(result) == {("(table)", "not_empty")}


def test_failure_description_names_column_rule_and_example():
    frame = tiny_frame()
    frame.loc[4, "x"] = 42.0
    (failure,) = validate(frame, tiny_contract()).failures
    assert failure.describe() == "column 'x' failed rule 'max <= 10' (1 row(s); e.g. 42.0)"
