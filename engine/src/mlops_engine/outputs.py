"""Where the pipeline's reports are, read from ``dvc.yaml`` (the one place paths are decided)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# libyaml's parser, which PyYAML's wheels ship (the pure-Python one where it is missing)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's parser: the same YAML 1.1 types, from PyYAML's own
    constructor, ~10x faster. dvc.lock runs to a thousand lines and the gate, the report and
    the retraining read it (and the base's) several times per command."""
    return yaml.load(text, Loader=_LOADER)


def declared_outputs(dvc_file: Path) -> dict[str, list[str]]:
    """Metrics and plots paths declared by the stages of ``dvc_file``."""
    stages = (load_yaml(dvc_file.read_text()) or {}).get("stages", {})
    found: dict[str, list[str]] = {"metrics": [], "plots": []}
    for stage in stages.values():
        for kind in found:
            for entry in stage.get(kind, []):
                found[kind].append(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return found


@dataclass(frozen=True)
class Reports:
    """The report files the CLI reads back, by role."""

    metrics: str | None
    slices: str | None
    validation: str | None
    plots_dir: str | None
    figures_dir: str | None


def locate(dvc_file: Path) -> Reports:
    declared = declared_outputs(dvc_file)

    def by_name(kind: str, name: str) -> str | None:
        return next((p for p in declared[kind] if Path(p).name == name), None)

    return Reports(
        metrics=by_name("metrics", "metrics.json"),
        slices=by_name("metrics", "slices.json"),
        validation=by_name("metrics", "validation.json"),
        plots_dir=by_name("plots", "plots"),
        figures_dir=by_name("plots", "figures"),
    )


def data_versions(lock_file: Path) -> dict[str, str]:
    """dvc.lock's hashes of the data the pipeline read (its inputs under data/), by path."""
    versions = lock_versions(lock_file)
    return {k: v for k, v in sorted(versions.items()) if k.startswith("data/")}


def lock_versions(lock_file: Path) -> dict[str, str]:
    """Content hashes of the pipeline's external inputs and of the model, from dvc.lock."""
    if not lock_file.exists():
        return {}
    stages = (load_yaml(lock_file.read_text()) or {}).get("stages", {})
    produced = {o["path"] for s in stages.values() for o in s.get("outs", [])}
    versions: dict[str, str] = {}
    for stage in stages.values():
        for dep in stage.get("deps", []):
            if dep["path"] not in produced and not dep["path"].startswith("src/"):
                versions[dep["path"]] = dep["md5"]
        for out in stage.get("outs", []):
            if out["path"].startswith("models/"):
                versions[out["path"]] = out["md5"]
    return versions
