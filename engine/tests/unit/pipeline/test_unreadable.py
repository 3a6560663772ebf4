"""Unreadable raw data stops ingest with one line naming the file and what to check."""

from __future__ import annotations

import gzip
import logging

import pandas as pd
import pytest

from mlops_engine.cli import main

GOOD = "a,b,y\n" + "".join(f"{i},{i % 3},{i * 2}\n" for i in range(200))


def _truncated_gz(path):
    path.write_bytes(gzip.compress(GOOD.encode())[:-40])


def _latin1(path):
    path.write_bytes(("a,name,y\n1,Zoë,2\n" * 50).encode("latin-1"))


def _semicolons(path):
    path.write_text(GOOD.replace(",", ";"))


def _empty(path):
    path.write_bytes(b"")


def _empty_gz(path):
    path.write_bytes(gzip.compress(b""))


def _not_parquet(path):
    path.write_text("not parquet")


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("raw.csv.gz", _truncated_gz, "truncated or corrupt compressed file"),
        ("raw.csv", _latin1, "not UTF-8 text"),
        ("raw.csv", _semicolons, "separated by semicolons; save it comma-separated"),
        ("raw.csv", _empty, "the file is empty (0 bytes)"),
        ("raw.csv.gz", _empty_gz, "no header row and no data"),
        ("raw.parquet", _not_parquet, "check the file's format"),
    ],
    ids=["truncated gzip", "latin-1", "semicolons", "empty", "empty gzip", "not parquet"],
)
def test_ingest_stops_with_one_line_naming_the_file(
    tmp_path, root, caplog, capsys, name, make, expected
):
    source = tmp_path / name
    make(source)
    params = tmp_path / "params.yaml"
    params.write_text((root / "params.yaml").read_text())
    out = tmp_path / "out.parquet"
    with caplog.at_level(logging.ERROR, logger="mlops"):
        code = main(["--params", str(params), "ingest", "--source", str(source), "--out", str(out)])
    assert code == 1 and not out.exists()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert str(source) in errors[0] and expected in errors[0], errors[0]
    assert "Traceback" not in capsys.readouterr().err


def test_a_readable_file_still_reads(tmp_path):
    from mlops_engine.storage import read_table

    path = tmp_path / "ok.csv.gz"
    path.write_bytes(gzip.compress(GOOD.encode()))
    assert read_table(path).shape == (200, 3)
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "ok.parquet")
    assert read_table(tmp_path / "ok.parquet").shape == (1, 1)
