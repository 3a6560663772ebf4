"""The contract on the real data, and a battery of corrupted copies of the real raw file."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from mlops_engine import storage
from mlops_engine.pipeline.validate import validate
from mlops_engine.testing import ingest_and_validate

pytestmark = pytest.mark.example


def test_real_data_satisfies_the_contract(validated, params):
    assert len(validated) == 2067, "Q1 2011: the history before ingest.history_until"
    assert validated[params.contract.time_column].is_monotonic_increasing
    assert validated[params.contract.time_column].min() == pd.Timestamp("2011-01-01 00:00")
    assert not {"casual", "registered"} & set(validated.columns), "target leakage columns"


def test_the_production_stream_satisfies_the_contract_too(root, params):
    """The months after history_until are replayed as production: same contract."""
    from mlops_engine.pipeline.ingest import ingest

    whole = params.ingest.model_copy(update={"history_until": None})
    frame = ingest(storage.read_table(root / params.ingest.source), whole)
    result = validate(frame, params.contract)
    assert result.ok, [f.describe() for f in result.failures]
    assert result.n_rows == 8645


def test_window_split_is_time_ordered(train_test, params):
    train, test = train_test
    time = params.contract.time_column
    assert train[time].max() < test[time].min()
    assert train[time].min() >= pd.Timestamp(params.split.window.start)
    assert test[time].max() < pd.Timestamp(params.split.window.end)


def _set(column: str, row: int, value) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def corrupt(raw: pd.DataFrame) -> pd.DataFrame:
        raw = raw.copy()
        raw[column] = raw[column].astype(object)
        raw.loc[row, column] = value
        return raw

    return corrupt


CORRUPTIONS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], set[tuple[str, str]]]] = {
    "missing column": (lambda r: r.drop(columns=["hum"]), {("hum", "required_column")}),
    "missing target": (lambda r: r.drop(columns=["bikers"]), {("bikers", "required_column")}),
    "wrong dtype": (_set("temp", 10, "hot"), {("temp", "dtype float64")}),
    "out of range": (_set("hum", 7, 1.7), {("hum", "max <= 1")}),
    "hour 24 collides with next day": (
        _set("hr", 7, 24),
        {("hr", "max <= 23"), ("timestamp", "unique")},
    ),
    "negative target": (_set("bikers", 3, -5), {("bikers", "min >= 0")}),
    "unseen category": (_set("weathersit", 20, "tornado"), {("weathersit", "allowed_categories")}),
    "nulls in required column": (_set("windspeed", 30, np.nan), {("windspeed", "not_nullable")}),
    "duplicated rows": (
        lambda r: pd.concat([r, r.iloc[100:103]], ignore_index=True),
        {("timestamp", "unique"), ("(table)", "no_duplicate_rows")},
    ),
    "unexpected column": (lambda r: r.assign(colour="red"), {("colour", "unexpected_column")}),
    "too few rows": (lambda r: r.head(50), {("(table)", "min_rows >= 1000")}),
    "two problems at once": (
        lambda r: _set("hum", 5, 1.5)(r.drop(columns=["atemp"])),
        {("hum", "max <= 1"), ("atemp", "required_column")},
    ),
}


@pytest.fixture(scope="module")
def raw(root, params) -> pd.DataFrame:
    return storage.read_table(root / params.ingest.source)


def _run(tmp_path, root, source) -> tuple[int, dict, bool]:
    return ingest_and_validate(root / "params.yaml", source, tmp_path)


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_corrupted_data_fails_naming_column_and_rule(name, raw, tmp_path, root, caplog):
    corrupt, expected = CORRUPTIONS[name]
    source = tmp_path / "raw.csv.gz"
    corrupt(raw).to_csv(source, index=False)
    code, report, wrote_output = _run(tmp_path, root, source)
    assert code == 1
    assert not wrote_output, "a failing validation must not write the validated table"
    found = {(f["column"], f["rule"]) for f in report["failures"]}
    assert found == expected
    assert report["valid"] is False
    for column, rule in expected:
        assert f"column '{column}' failed rule '{rule}'" in caplog.text


def test_header_only_file_fails_validation(tmp_path, root, raw):
    """A header without rows is read; validate names the rule. (A 0-byte file stops ingest
    itself: tests/unit/pipeline/test_unreadable.py.)"""
    source = tmp_path / "raw.csv"
    source.write_text(",".join(raw.columns) + "\n")
    code, report, wrote_output = _run(tmp_path, root, source)
    assert code == 1 and not wrote_output
    assert report["failures"][0]["rule"] == "min_rows >= 1000"


def test_clean_copy_passes(raw, tmp_path, root):
    source = tmp_path / "raw.csv.gz"
    raw.to_csv(source, index=False)
    code, report, wrote_output = _run(tmp_path, root, source)
    assert (code, report["valid"], wrote_output) == (0, True, True)
