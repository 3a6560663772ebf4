import pandas as pd
import pytest

from mlops_engine.config import IngestParams, TimestampFromParts
from mlops_engine.pipeline.ingest import ingest


def _raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": [32, 1, 1],
            "hr": [0, 5, 0],
            "leak": [1, 2, 3],
            "weather": ["clear", "rain", "clear"],
            "y": [1, 2, 3],
        }
    )


def test_timestamp_derived_sorted_and_leak_dropped():
    params = IngestParams(
        source="x.csv",
        time_column="ts",
        drop_columns=("leak",),
        timestamp_from=TimestampFromParts(year=2011, day_of_year="day", hour="hr"),
    )
    out = ingest(_raw(), params)
    assert list(out["ts"]) == [
        pd.Timestamp("2011-01-01 00:00"),
        pd.Timestamp("2011-01-01 05:00"),
        pd.Timestamp("2011-02-01 00:00"),
    ]
    assert "leak" not in out and "day" not in out
    assert out.columns[0] == "ts"
    assert out["y"].tolist() == [3, 2, 1]


def test_missing_timestamp_part_is_named():
    params = IngestParams(
        source="x.csv",
        time_column="ts",
        timestamp_from=TimestampFromParts(year=2011, day_of_year="doy"),
    )
    with pytest.raises(ValueError, match=r"no column\(s\) \['doy'\]"):
        ingest(_raw(), params)


def test_rename_and_existing_time_column_parsed():
    raw = pd.DataFrame({"when": ["2020-01-02", "2020-01-01"], "v": [1, 2]})
    out = ingest(raw, IngestParams(source="x.csv", time_column="ts", rename={"when": "ts"}))
    assert out["ts"].dtype == "datetime64[ns]" and out["v"].tolist() == [2, 1]


def test_wrong_types_are_not_coerced_away():
    """A bad value must survive ingest so validate can name its column and rule."""
    raw = pd.DataFrame({"x": ["1.0", "hot"], "y": [1, 2]})
    out = ingest(raw, IngestParams(source="x.csv"))
    assert out["x"].tolist() == ["1.0", "hot"]


def test_a_time_ns_cannot_hold_becomes_missing_for_validate_to_name():
    """pandas 3 parses '3000-01-01' (at us resolution); at the contract's ns it is missing,
    as pandas 2 made it, instead of an error at ingest or a second resolution."""
    raw = pd.DataFrame({"ts": ["2020-01-01", "3000-01-01"], "v": [1, 2]})
    out = ingest(raw, IngestParams(source="x.csv", time_column="ts"))
    assert out["ts"].dtype == "datetime64[ns]"
    assert out["ts"].isna().tolist() == [False, True]
