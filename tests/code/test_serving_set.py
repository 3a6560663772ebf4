"""The image's dependency set (pyproject's `serve` group, tests/image/ proves the service runs
on it): the same ranges as the project's dependencies, and none of the pipeline's."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

pytestmark = pytest.mark.code

ROOT = Path(__file__).resolve().parents[2]
PIPELINE_ONLY = {"dvc", "evidently", "matplotlib", "pandera"}


def _by_name(specs: list[str]) -> dict[str, str]:
    return {Requirement(s).name.lower(): str(Requirement(s).specifier) for s in specs}


def test_the_serving_set_repeats_the_projects_ranges_and_leaves_the_pipeline_out():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    base = _by_name(project["project"]["dependencies"])
    extras = project["project"]["optional-dependencies"]
    groups = project["dependency-groups"]
    serve = _by_name(groups["serve"])
    assert not PIPELINE_ONLY & set(serve), "the image serves only"
    for name, spec in serve.items():
        assert base.get(name) == spec, f"{name}: serve has {spec!r}, the project {base.get(name)!r}"
    for store in ("s3", "gs", "azure"):  # each sink client as its extra pins it, without dvc-*
        client = _by_name(groups[f"serve-{store}"])
        assert client.items() <= _by_name(extras[store]).items(), store
        assert not any(n.startswith("dvc") for n in client), store


def test_the_base_image_carries_the_declared_python():
    declared = (ROOT / ".python-version").read_text().strip()
    service = (ROOT / "src/mlops_template/serving/service.py").read_text()
    assert f'base_image="python:{declared}-slim"' in service, "serving/service.py's IMAGE"
