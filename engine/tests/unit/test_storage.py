import pytest

from mlops_engine import storage
from mlops_engine.config import TrainParams
from mlops_engine.pipeline.train import train
from tests.frames import tiny_contract, tiny_frame


def test_failed_write_leaves_the_previous_file_intact(tmp_path):
    target = tmp_path / "model.bin"
    storage.write_bytes(b"good", target)
    with pytest.raises(RuntimeError), storage.atomic_path(target) as tmp:
        tmp.write_bytes(b"half-writ")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_model_bytes_are_reproducible(tmp_path):
    model = train(tiny_frame(), TrainParams(hyperparams={"max_iter": 10}), tiny_contract(), 0)
    storage.write_model(model, tmp_path / "a.joblib")
    storage.write_model(model, tmp_path / "b.joblib")
    assert (tmp_path / "a.joblib").read_bytes() == (tmp_path / "b.joblib").read_bytes()


def test_read_table_handles_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(storage.UnreadableData, match=r"empty\.csv: the file is empty"):
        storage.read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    assert storage.read_table(tmp_path / "header.csv").empty, "validate reports no rows"
    with pytest.raises(FileNotFoundError, match="no such file"):
        storage.read_table(tmp_path / "missing.csv")


def test_parquet_bytes_do_not_carry_the_pandas_version(tmp_path):
    """A pandas release must not change a data file's bytes (dvc.lock's hashes) when the
    data did not change; the frame reads back as pandas wrote it."""
    import pandas as pd
    import pyarrow.parquet as pq

    frame = tiny_frame()
    frame["when"] = pd.date_range("2026-01-01", periods=len(frame), freq="h")
    frame["band"] = pd.Categorical(["a", "b"] * (len(frame) // 2) + ["a"] * (len(frame) % 2))
    storage.write_parquet(frame, tmp_path / "ours.parquet")
    frame.to_parquet(tmp_path / "pandas.parquet", index=False, compression="zstd")
    ours = pq.read_schema(tmp_path / "ours.parquet").pandas_metadata
    theirs = pq.read_schema(tmp_path / "pandas.parquet").pandas_metadata
    assert theirs.pop("pandas_version") == pd.__version__  # what pandas itself records
    assert ours == theirs
    assert pd.__version__.encode() not in (tmp_path / "ours.parquet").read_bytes()
    pd.testing.assert_frame_equal(storage.read_parquet(tmp_path / "ours.parquet"), frame)
    pd.testing.assert_frame_equal(
        storage.read_parquet(tmp_path / "ours.parquet"),
        storage.read_parquet(tmp_path / "pandas.parquet"),
    )
