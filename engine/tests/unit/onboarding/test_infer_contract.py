"""`mlops init`'s contract inference and its errors, on small frames built for each case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_engine.config import parse_params
from mlops_engine.onboarding.infer_contract import InitError, infer, params_changes

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
    assert params.model_card.intended_use is None, "the example's words are not the new table's"


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
    from mlops_engine.cli import main

    bad = tmp_path / "data.parquet"
    bad.write_text("not parquet")
    params = tmp_path / "params.yaml"
    params.write_text((root / "params.yaml").read_text())
    code = main(["--params", str(params), "init", "--data", str(bad), "--target", "y"])
    assert code == 2
    assert params.read_text() == (root / "params.yaml").read_text(), "nothing written"


def test_a_leaking_column_stops_init_naming_it():
    frame = _frame()
    frame["log_y"] = np.log(frame["y"] - frame["y"].min() + 1)
    with pytest.raises(InitError, match=r"'log_y' alone predicts 'y' \(spearman 1\.0000\)"):
        infer(frame, "y")
    confirmed = infer(frame, "y", confirmed=("log_y",))
    assert confirmed.leakage_confirmed == ("log_y",)


def test_init_drops_a_leaking_column_on_request_and_ingest_keeps_dropping_it(
    root, tmp_path, monkeypatch, caplog
):
    """The way out init names must work at init: editing ingest.drop_columns first cannot
    (init reads the file as it is and rewrites that key; found by benchmarks/tables.py)."""
    import subprocess

    from mlops_engine import storage
    from mlops_engine.cli import main
    from mlops_engine.config import load_params
    from mlops_engine.pipeline.ingest import ingest

    frame = _frame()
    frame["log_y"] = np.log(frame["y"] - frame["y"].min() + 1)
    data = tmp_path / "mine.csv"
    frame.to_csv(data, index=False)
    for name in ("params.yaml", "dvc.yaml"):
        (tmp_path / name).write_text((root / name).read_text())
    monkeypatch.chdir(tmp_path)
    command = ["--params", "params.yaml", "init", "--data", str(data), "--target", "y"]
    assert main(command) == 2
    assert "run init again with DROP='log_y' (mlops init --drop COLUMN)" in caplog.text
    assert main([*command, "--drop", "log_y"]) == 0
    params = load_params("params.yaml")
    assert params.ingest.drop_columns == ("log_y",)
    assert "log_y" not in params.contract.columns
    raw = storage.read_table(params.ingest.source)
    assert "log_y" in raw.columns and "log_y" not in ingest(raw, params.ingest).columns
    dry = subprocess.run(
        ["make", "-n", "init", "DATA=t.csv", "TARGET=y", "DROP=a b"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '--drop "a" --drop "b"' in dry.stdout


@pytest.mark.parametrize(
    ("drop", "message"), [(("nope",), "--drop nope: not a column"), (("y",), "the target")]
)
def test_drop_names_a_feature_column(drop, message):
    with pytest.raises(InitError, match=message):
        infer(_frame(), "y", drop=drop)


def test_a_near_perfect_class_predictor_stops_init():
    frame = _frame()
    frame["label"] = np.where(frame["income"] > 50_000, "rich", "other")
    frame["echo"] = np.where(frame["label"] == "rich", "r", "o")
    with pytest.raises(InitError, match=r"'echo' alone predicts 'label' \(roc_auc 1\.0000\)"):
        infer(frame.drop(columns=["y"]), "label")


# the bundled example's columns (fixed here: after init the project's params are the user's)
EXAMPLE_COLUMNS = (
    "timestamp",
    "season",
    "mnth",
    "hr",
    "holiday",
    "weekday",
    "workingday",
    "weathersit",
    "temp",
    "atemp",
    "hum",
    "windspeed",
    "bikers",
)


def _comments(text: str) -> list[str]:
    import re

    out = []
    for line in text.splitlines():
        unquoted = re.sub(r"\"[^\"]*\"|'[^']*'", "", line)
        if "#" in unquoted:
            out.append(unquoted[unquoted.index("#") :])
    return out


@pytest.mark.parametrize("time", [True, False])
@pytest.mark.parametrize("target", ["y", "label"])
def test_after_init_no_comment_mentions_the_example(root, tmp_path, time, target):
    """The example's comments (riders, hours, 2011, "20% (MAE)") would be false for new data."""
    import re

    from mlops_engine import params_file
    from mlops_engine.onboarding.infer_contract import params_comments

    frame = _frame()
    if target == "label":
        frame = frame.assign(label=np.where(frame["y"] > 10, "a", "b")).drop(columns=["y"])
    if time:
        frame["when"] = pd.date_range("2020-01-01", periods=len(frame), freq="D")
    inferred = infer(frame, target, time_column="when" if time else None)
    changes = params_changes(
        inferred, "data/raw/t.csv", target, "when" if time else None, "t", len(frame)
    )
    copy = tmp_path / "params.yaml"
    copy.write_text((root / "params.yaml").read_text())
    comments = params_comments(inferred, target, "when" if time else None, changes)
    text = params_file.render(copy, changes, comments)
    words = [*EXAMPLE_COLUMNS, "bikeshare", "bike", "riders", "2011", "hour", "hours"]
    words += ["casual", "registered", "quarter", "months", "day type"]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
    stale = [c for c in _comments(text) if pattern.search(c) or "20% (MAE)" in c]
    assert stale == []
    margin = f"{changes['gate.baseline_margin']:.0%}"
    assert any(f"by {margin} (" in c for c in _comments(text))
    example = "gate:\n  baseline_margin: 0.2  # the model must beat the naive baseline by 20% (MAE)"
    assert "20% (MAE)" in _comments(example)[0], "the check must see a comment"
    for old in (
        "group_by: [hr, workingday]   # naive model: mean riders for this hour and day type",
        "window:                     # half-open [start, end): the first quarter of 2011;",
    ):
        assert pattern.search(_comments(old)[0]), old


def _init_here(root, tmp_path, monkeypatch, frame, *extra: str):
    """`mlops init` on ``frame`` (as mine.csv) in a copy of the project's params/dvc.yaml;
    the loaded params and what init printed."""
    from mlops_engine.cli import main
    from mlops_engine.config import load_params

    data = tmp_path / "mine.csv"
    frame.to_csv(data, index=False)
    for name in ("params.yaml", "dvc.yaml"):
        (tmp_path / name).write_text((root / name).read_text())
    monkeypatch.chdir(tmp_path)
    command = ["--params", "params.yaml", "init", "--data", str(data), "--target", "y", *extra]
    assert main(command) == 0
    return load_params("params.yaml")


def test_init_finds_the_time_column_says_so_and_how_to_override(
    root, tmp_path, monkeypatch, capsys
):
    """`make init DATA= TARGET=` (the guide's step 2) without TIME_COLUMN: a column whose
    every value is a date becomes the time axis, so continuous training can move a window."""
    days = pd.date_range("2024-01-01", periods=300, freq="D")
    frame = _frame(day=days.strftime("%Y-%m-%d"), month=RNG.choice(["May", "June"], 300))
    params = _init_here(root, tmp_path, monkeypatch, frame)
    assert params.contract.time_column == "day" and params.split.method == "time"
    assert params.contract.columns["day"].dtype == "datetime"
    out = capsys.readouterr().out
    assert "time column: 'day' (detected" in out and "TIME_COLUMN=none" in out
    params = _init_here(root, tmp_path, monkeypatch, frame, "--time-column", "none")
    assert params.contract.time_column is None and params.split.method == "random"


def test_init_without_a_time_column_says_what_continuous_training_does(
    root, tmp_path, monkeypatch, capsys
):
    params = _init_here(root, tmp_path, monkeypatch, _frame(code=["A1"] * 150 + ["B2"] * 150))
    assert params.contract.time_column is None and params.split.method == "random"
    out = capsys.readouterr().out
    assert "time column: none found" in out and "TIME_COLUMN=name" in out


def test_detection_prefers_a_time_name_and_skips_labels_and_numbers():
    from mlops_engine.onboarding.infer_contract import detect_time_column

    frame = _frame(
        opened=pd.date_range("2020-01-01", periods=300, freq="h").astype(str),
        created_at=pd.date_range("2021-01-01", periods=300, freq="h"),
        label=RNG.choice(["March", "April"], 300),
        version=RNG.choice(["1.2", "2.0"], 300),
    )
    assert detect_time_column(frame, "y") == ("created_at", ["opened", "created_at"])
    assert detect_time_column(_frame(), "y") == (None, [])


def test_init_warns_when_the_table_is_too_large_for_git(root, tmp_path, monkeypatch, capsys):
    """GitHub rejects a file over 100 MiB: init says to `dvc add` the table instead."""
    from mlops_engine.onboarding import infer_contract

    assert infer_contract.GIT_WARN_BYTES == 50 * 1024 * 1024
    small = tmp_path / "small.csv"
    small.write_text("a\n1\n")
    assert infer_contract.git_size_warning(small) is None
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:  # sparse: 60 MiB without writing them
        fh.truncate(60 * 1024 * 1024)
    text = infer_contract.git_size_warning(big)
    assert "60 MiB" in text and f"`dvc add {big}`" in text and "100 MiB" in text
    monkeypatch.setattr(infer_contract, "GIT_WARN_BYTES", 100)  # init's own table: a few KiB
    _init_here(root, tmp_path, monkeypatch, _frame())
    assert "`dvc add data/raw/mine.csv`" in capsys.readouterr().out


def test_init_leaves_production_data_outside_the_project_alone(root, tmp_path, monkeypatch):
    """The example's replayed stream (inside the project) is archived; a sink outside it is a
    deployment's real data. Unscoped, pr.yml's test tier ran init on a project whose
    params.yaml pointed at its production folder, and init moved the logs away."""
    import yaml

    outside = tmp_path.parent / f"{tmp_path.name}-production" / "logs"
    outside.mkdir(parents=True)
    (outside / "batch.parquet").write_bytes(b"logs")
    project = tmp_path / "project"
    project.mkdir()
    # the template's params as shipped (its sinks inside the project, the demo's): the
    # project's own may point elsewhere already (the loop's retraining PR: s3://)
    params = yaml.safe_load((root / "engine/tests/fixtures/template_params.yaml").read_text())
    params["serve"]["prediction_log"]["sink"] = str(outside)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (project / "data" / "production" / "labelled").mkdir(parents=True)  # the demo's, inside
    (project / "dvc.yaml").write_text((root / "dvc.yaml").read_text())
    data = tmp_path / "mine.csv"
    _frame().to_csv(data, index=False)
    monkeypatch.chdir(project)
    from mlops_engine.cli import main

    assert main(["init", "--data", str(data), "--target", "y"]) == 0
    assert (outside / "batch.parquet").read_bytes() == b"logs", "left where it was"
    assert not (project / "data" / "production" / "labelled").exists(), "the demo's archived"
    assert (project / "data" / "examples" / "production" / "labelled").is_dir()


def _validates(tmp_path, params_file, source) -> tuple[int, dict]:
    """The ingest and validate stages, through the CLI as `dvc repro` runs them."""
    from mlops_engine.testing import ingest_and_validate

    code, report, _ = ingest_and_validate(params_file, source, tmp_path)
    return code, report


def test_duplicates_are_counted_after_init_drops_the_date(root, tmp_path, monkeypatch, capsys):
    """TIME_COLUMN=none on a table whose rows differ only by their date: init drops the
    date (unique per row) and must allow the duplicate rows that are left, or the first
    `make run` fails validate on the table init has just read."""
    from tests.stranger import Stranger, stranger_table

    frame = stranger_table(Stranger(shape="multiclass", duplicates=8, seed=1))
    params = _init_here(root, tmp_path, monkeypatch, frame, "--time-column", "none")
    assert "day" in params.ingest.drop_columns and params.contract.allow_duplicate_rows
    out = capsys.readouterr().out
    assert "repeat another row exactly once day is dropped" in out
    code, report = _validates(tmp_path, tmp_path / "params.yaml", tmp_path / "data/raw/mine.csv")
    assert code == 0 and report["valid"], report


def test_class_labels_stored_as_floats_are_categories_that_validate(
    root, tmp_path, monkeypatch, capsys
):
    """A 7-level answer stored as 0.0-6.0: classification, and the category rule holds on
    the table (validate rejected every row: `dtype string[pyarrow]`)."""
    frame = _frame(y=RNG.integers(0, 7, 300).astype(float))
    params = _init_here(root, tmp_path, monkeypatch, frame)
    spec = params.contract.columns["y"]
    assert params.contract.task == "classification"
    assert spec.categories == tuple(str(i) for i in range(7))
    assert "stored as float64 with 7 values" in capsys.readouterr().out
    code, report = _validates(tmp_path, tmp_path / "params.yaml", tmp_path / "data/raw/mine.csv")
    assert code == 0 and report["valid"], report


def test_init_says_how_it_splits_and_which_class_the_test_window_lacks(
    root, tmp_path, monkeypatch, capsys
):
    """A rare class that occurs only in the first winters: the last 20% by time holds none
    of it. Init says so with the choices, and never says "stratified" on a time split."""
    from tests.stranger import Stranger, stranger_table

    frame = stranger_table(Stranger(shape="multiclass", rows=400, rare_seasonal=True))
    params = _init_here(root, tmp_path, monkeypatch, frame)
    out = capsys.readouterr().out
    assert params.split.method == "time" and "stratified" not in out
    assert "split: by time, the last 20% of the rows are the test set" in out
    assert "the test set holds no row of class(es) snow" in out
    assert "a longer test window" in out and "a random split" in out and "merging" in out
    _init_here(root, tmp_path, monkeypatch, frame, "--time-column", "none")
    out = capsys.readouterr().out
    assert "split: 20% of the rows at random, stratified by class" in out
    assert "holds no row" not in out


def test_rare_classes_and_near_unique_columns_are_said_with_what_to_do():
    frame = _frame(note=[f"n{i}" for i in RNG.integers(0, 30_000, 300)])
    frame["y"] = np.where(np.arange(300) < 4, "rare", np.where(frame["age"] > 50, "a", "b"))
    got = infer(frame, "y")
    notes = " | ".join(got.notes)
    assert "rare class(es): 'rare' (4 row(s))" in notes and "merge them" in notes
    assert "'note' has" in notes and "DROP=note" in notes


def test_a_class_of_one_row_is_split_at_random_without_stratifying():
    """scikit-learn refuses to stratify a class of one row: the split is plain random."""
    from mlops_engine.config import SplitParams
    from mlops_engine.contract import Contract
    from mlops_engine.pipeline.split import split, stratifiable

    frame = _frame()
    frame["y"] = np.where(np.arange(300) == 0, "once", np.where(frame["age"] > 50, "a", "b"))
    columns = {"age": {"dtype": "int"}, "y": {"dtype": "category"}}
    contract = Contract(task="classification", target="y", columns=columns)
    assert not stratifiable(frame["y"], 0.2)
    train, test = split(frame[["age", "y"]], SplitParams(method="random"), contract, 0)
    assert len(train) + len(test) == 300


def test_init_refuses_before_writing_when_its_contract_fails_on_the_table(
    root, tmp_path, monkeypatch
):
    """The last guard: whatever init infers is validated on the table before any file
    moves; a rule that fails there stops init, naming it, and nothing is written."""
    from mlops_engine.config import load_params
    from mlops_engine.onboarding import infer_contract

    real = infer_contract.infer

    def too_narrow(*args, **kwargs):
        got = real(*args, **kwargs)
        got.columns["age"].update(min=40)  # a rule the table breaks
        return got

    monkeypatch.setattr(infer_contract, "infer", too_narrow)
    data = tmp_path / "mine.csv"
    _frame().to_csv(data, index=False)
    for name in ("params.yaml", "dvc.yaml"):
        (tmp_path / name).write_text((root / name).read_text())
    monkeypatch.chdir(tmp_path)
    request = infer_contract.InitRequest(data=data, target="y", time_column=None)
    with pytest.raises(
        InitError, match=r"(?s)does not hold on it.*column 'age' failed rule 'min >= 40'"
    ):
        infer_contract.init_project(request, load_params(root / "params.yaml"))
    assert (tmp_path / "params.yaml").read_text() == (root / "params.yaml").read_text()
    assert not (tmp_path / "data").exists() and not (tmp_path / "reports").exists()


def test_init_warns_when_a_class_occurs_only_in_the_test_window(
    root, tmp_path, monkeypatch, capsys
):
    """A class that first appears in the last weeks: the model cannot learn it."""
    days = pd.date_range("2024-01-01", periods=300, freq="D")
    y = np.where(RNG.random(300) < 0.5, "a", "b").astype(object)
    y[-20:] = "new"
    _init_here(root, tmp_path, monkeypatch, _frame(day=days.strftime("%Y-%m-%d"), y=y))
    out = capsys.readouterr().out
    assert "the training set holds no row of class(es) new" in out and "probability 0" in out


def test_make_run_s_summary_says_when_the_model_loses_to_the_baseline(root, tmp_path, params):
    """`mlops summary` on the issue's stock prices: MAE 55.17 against 54.94."""
    import json
    import shutil

    from mlops_engine.ci.summary import summarize

    shutil.copy(root / "dvc.yaml", tmp_path / "dvc.yaml")
    (tmp_path / "reports").mkdir()
    metrics = {"mae": 55.17, "rmse": 80.1, "r2": 0.2, "n_test": 60, "n_train": 240}
    metrics["baseline"] = {"mae": 54.94, "rmse": 79.0, "r2": 0.21}
    (tmp_path / "reports" / "metrics.json").write_text(json.dumps(metrics))
    text = summarize(tmp_path / "dvc.yaml", params)
    assert "The model does not beat the naive baseline" in text
    assert "mae 55.1700 against the baseline's 54.9400 (WORSE" in text and "To try" in text
