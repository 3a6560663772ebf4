import pytest

from mlops_template import storage
from mlops_template.config import TrainParams
from mlops_template.pipeline.train import train

from .frames import tiny_contract, tiny_frame

pytestmark = pytest.mark.code


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
