"""The BentoML tag of the model the pipeline produced: ``<name>:<first 16 of its md5>``.

The version is the DVC hash of ``models/model.joblib`` recorded in ``dvc.lock``, so the
service, the build and the store all agree on exactly one model, never on ``:latest``.
"""

from __future__ import annotations

from pathlib import Path

from mlops_engine.outputs import load_yaml

MODEL_PATH = "models/model.joblib"


def model_md5(lock_file: Path, model_path: str = MODEL_PATH) -> str:
    if not lock_file.exists():
        raise FileNotFoundError(f"{lock_file} not found: run `dvc repro` first")
    stages = (load_yaml(lock_file.read_text()) or {}).get("stages", {})
    for stage in stages.values():
        for out in stage.get("outs", []):
            if out["path"] == model_path:
                return out["md5"]
    raise ValueError(f"{lock_file} records no output {model_path}")


def model_tag(lock_file: Path, name: str, model_path: str = MODEL_PATH) -> str:
    return f"{name}:{model_md5(lock_file, model_path)[:16]}"
