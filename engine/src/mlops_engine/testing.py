"""Fixtures for a project's own tests (a pytest plugin, loaded through the ``pytest11`` entry
point wherever the engine is installed): the project's params and its own data run through the
stages' pure cores in-process, so a project's tests need no `make run` first and hold for any
table `mlops init` set up.

Fixtures (session-scoped, all relative to pytest's rootdir, the project's root):
``root``, ``params``, ``ingested``, ``validated``, ``train_test``, ``model``.
Helper: ``ingest_and_validate`` runs the ingest and validate stages through the real CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlops_engine import storage
from mlops_engine.config import Params, load_params


@pytest.fixture(scope="session")
def root(request) -> Path:
    return Path(request.config.rootpath)


@pytest.fixture(scope="session")
def params(root: Path) -> Params:
    return load_params(root / "params.yaml")


@pytest.fixture(scope="session")
def ingested(root: Path, params: Params) -> pd.DataFrame:
    from mlops_engine.pipeline.ingest import ingest

    return ingest(storage.read_table(root / params.ingest.source), params.ingest)


@pytest.fixture(scope="session")
def validated(ingested: pd.DataFrame, params: Params) -> pd.DataFrame:
    from mlops_engine.pipeline.validate import validate

    result = validate(ingested, params.contract)
    assert result.ok, [f.describe() for f in result.failures]
    return result.frame


@pytest.fixture(scope="session")
def train_test(validated: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    from mlops_engine.pipeline.split import split

    return split(validated, params.split, params.contract, params.seed)


@pytest.fixture(scope="session")
def model(train_test, params: Params):
    from mlops_engine.pipeline.train import train

    return train(train_test[0], params.train, params.contract, params.seed)


def ingest_and_validate(params_file: Path, source: Path, work: Path) -> tuple[int, dict, bool]:
    """Exit code of the validate stage, its JSON report, and whether it wrote the validated
    table, both stages run through the real CLI as `dvc repro` runs them."""
    from mlops_engine.cli import main

    ingested, validated, report = (work / n for n in ("in.parquet", "ok.parquet", "r.json"))
    validated.unlink(missing_ok=True)
    args = ["--params", str(params_file)]
    assert main([*args, "ingest", "--source", str(source), "--out", str(ingested)]) == 0
    code = main(
        [
            *args,
            "validate",
            "--data",
            str(ingested),
            "--out",
            str(validated),
            "--report",
            str(report),
        ]
    )
    return code, json.loads(report.read_text()), validated.exists()
