"""The ingest and validate stages run through the real CLI, as `dvc repro` runs them."""

from __future__ import annotations

import json
from pathlib import Path

from mlops_engine.cli import main


def ingest_and_validate(params_file: Path, source: Path, work: Path) -> tuple[int, dict, bool]:
    """Exit code of validate, its JSON report, and whether it wrote the validated table."""
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
