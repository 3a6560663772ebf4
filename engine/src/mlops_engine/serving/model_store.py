"""Saving the pipeline's model to the BentoML model store, with lineage, and loading it back
only if its bytes are the ones that were saved.

BentoML's scikit-learn integration unpickles whatever file it finds. Here the model file is
copied byte-for-byte (not re-pickled), its SHA-256 is recorded in the model's metadata, and
``load_verified`` refuses a file whose hash differs before joblib ever opens it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_engine.storage import md5_of, sha256_of

MODEL_FILE = "model.joblib"


class ModelIntegrityError(RuntimeError):
    """The model file's bytes do not match the hash recorded when it was saved."""


@dataclass(frozen=True)
class Lineage:
    """Where a model came from: enough to rebuild it (commit + data + params)."""

    git_commit: str
    model_md5: str
    data: dict[str, str]
    params: dict[str, Any]
    metrics: dict[str, Any]
    model_card: str = ""  # reports/model_card.md, with the commit added (save-model)

    @property
    def version(self) -> str:
        """The model's version: the DVC hash of its file, so the same model has one tag."""
        return self.model_md5[:16]


def save(model_file: Path, name: str, lineage: Lineage) -> str:
    """Copy ``model_file`` into the BentoML store as ``name:version``; return the tag."""
    import bentoml

    if md5_of(model_file) != lineage.model_md5:
        raise ModelIntegrityError(
            f"{model_file} does not match dvc.lock (md5 {lineage.model_md5}): run `dvc repro` "
            "or `dvc checkout` first"
        )
    tag = f"{name}:{lineage.version}"
    digest = sha256_of(model_file)
    with _store_lock():
        try:
            existing = bentoml.models.get(tag)
        except bentoml.exceptions.NotFound:
            existing = None
        if existing is not None:
            if existing.info.metadata.get("sha256") == digest:
                return str(existing.tag)
            bentoml.models.delete(tag)
        metadata = {
            "sha256": digest,
            "git_commit": lineage.git_commit,
            "data": json.dumps(lineage.data, sort_keys=True),
            "params": json.dumps(lineage.params, sort_keys=True, default=str),
            "metrics": json.dumps(lineage.metrics, sort_keys=True),
            "model_card": lineage.model_card,
        }
        with bentoml.models.create(
            tag, labels={"source": "dvc", "git_commit": lineage.git_commit[:12]}, metadata=metadata
        ) as model:
            shutil.copyfile(model_file, model.path_of(MODEL_FILE))
    return str(model.tag)


@contextmanager
def _store_lock() -> Iterator[None]:
    """One saver at a time per store: BentoML's store checks that a tag is free, then
    creates its folder and writes it (bentoml/_internal/store.py ``register``, 1.4.39), so two
    processes saving the same model at once both pass the check, or one fails with "Item
    ... already exists" while the other is still writing (seen with two pytest workers on
    one exported BENTOML_HOME)."""
    home = Path(os.environ.get("BENTOML_HOME") or Path.home() / "bentoml")
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".mlops-save.lock").open("w") as handle:  # closing it releases the lock
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def load_verified(model_dir: Path, expected_sha256: str) -> Any:
    """joblib-load the model only after its SHA-256 matches the recorded one."""
    import joblib

    path = Path(model_dir) / MODEL_FILE
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise ModelIntegrityError(
            f"refusing to load {path}: sha256 {actual} != recorded {expected_sha256} "
            "(the file was modified after it was saved)"
        )
    return joblib.load(path)
