"""`mlops init`'s inference and its errors, on small frames built for each case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_template.config import parse_params
from mlops_template.init import InitError, infer, params_changes

pytestmark = pytest.mark.code
RNG = np.random.default_rng(0)


def _frame(n: int = 300, **extra) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "age": RNG.integers(18, 90, n),
            "income": RNG.normal(50_000, 10_000, n).round(2),
            "city": RNG.choice(["a", "b", "c"], n),
            "y": RNG.normal(10, 2, n),
        }
    )
    return frame.assign(**extra)


def test_regression_with_ranges_and_margins():
    got = infer(_frame(), "y")
    assert got.task == "regression"
    age = got.columns["age"]
    assert age["dtype"] == "int" and age["min"] <= 18 and age["max"] >= 89
    assert got.columns["city"] == {"dtype": "category", "categories": ["a", "b", "c"]}


def test_binary_imbalanced_target_is_classification_with_a_note():
    y = np.where(RNG.random(300) < 0.05, "yes", "no")
    got = infer(_frame(y=y), "y")
    assert got.task == "classification"
    assert got.columns["y"]["categories"] == ["no", "yes"]
    assert any("imbalanced" in n for n in got.notes)


def test_small_integer_target_is_multiclass():
    got = infer(_frame(y=RNG.integers(0, 4, 300)), "y")
    assert got.task == "classification" and got.columns["y"]["categories"] == ["0", "1", "2", "3"]


def test_ids_constants_nulls_and_many_levels():
    frame = _frame(
        customer_id=np.arange(300),
        constant=1,
        zip=[f"z{i % 120}" for i in range(300)],
    )
    frame.loc[::7, "income"] = np.nan
    got = infer(frame, "y")
    assert set(got.dropped) == {"customer_id", "constant"}
    assert got.columns["income"]["nullable"] is True
    assert got.columns["zip"] == {"dtype": "category"}, "open set above 50 levels"


def test_time_column_makes_a_unique_key_and_a_time_split():
    frame = _frame(when=pd.date_range("2024-01-01", periods=300, freq="h"))
    got = infer(frame, "y", time_column="when")
    assert got.columns["when"] == {"dtype": "datetime"} and got.unique == ("when",)
    changes = params_changes(got, "data/raw/x.csv", "y", "when", "x", 300)
    assert changes["split.method"] == "time"


def test_wide_table_of_120_columns_gives_valid_params(root):
    import yaml

    wide = pd.DataFrame(RNG.normal(size=(300, 120)), columns=[f"f{i}" for i in range(120)])
    wide["label"] = RNG.choice(["x", "y", "z"], 300)
    got = infer(wide, "label")
    raw = yaml.safe_load((root / "params.yaml").read_text())
    for key, value in params_changes(got, "data/raw/w.csv", "label", None, "w", 300).items():
        *parents, leaf = key.split(".")
        node = raw
        for p in parents:
            node = node[p]
        node[leaf] = value
    params = parse_params(raw)
    assert len(params.contract.features) == 120 and params.split.method == "random"
    assert params.contract.task == "classification"


@pytest.mark.parametrize(
    ("frame", "target", "message"),
    [
        (_frame(), "nope", "target 'nope' is not a column"),
        (_frame(y=1.0), "y", "target 'y' is constant"),
        (_frame(n=20), "y", "20 rows: at least 100"),
        (_frame().rename(columns={"age": "age (years)"}), "y", "'age (years)': must be"),
        (_frame().rename(columns={"age": "prediction"}), "y", "'prediction': reserved"),
        (_frame(y=[np.nan] + [1.0, 2.0] * 149 + [3.0]), "y", "missing in 1 row"),
    ],
    ids=["target missing", "target constant", "too few rows", "bad name", "reserved", "null y"],
)
def test_unusable_input_fails_with_what_to_do(frame, target, message):
    with pytest.raises(InitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        infer(frame, target)


def test_unreadable_file_is_a_clear_error(tmp_path, root, capsys):
    from mlops_template.cli import main

    bad = tmp_path / "data.parquet"
    bad.write_text("not parquet")
    params = tmp_path / "params.yaml"
    params.write_text((root / "params.yaml").read_text())
    code = main(["--params", str(params), "init", "--data", str(bad), "--target", "y"])
    assert code == 2
    assert params.read_text() == (root / "params.yaml").read_text(), "nothing written"
