"""The image's dependency set (pyproject's `serve` group, tests/image/ proves the service runs
on it): the same ranges as the project's dependencies, and none of the pipeline's."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]
UV = ROOT / ".tools" / "bin" / "uv"
PIPELINE_ONLY = {"dvc", "evidently", "matplotlib", "pandera"}


def _by_name(specs: list[str]) -> dict[str, str]:
    return {Requirement(s).name.lower(): str(Requirement(s).specifier) for s in specs}


def test_the_serving_set_repeats_the_projects_ranges_and_leaves_the_pipeline_out():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    engine = tomllib.loads((ROOT / "engine" / "pyproject.toml").read_text())
    base = _by_name(engine["project"]["dependencies"])  # the project's come with the engine
    extras = engine["project"]["optional-dependencies"]
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
    service = (ROOT / "engine/src/mlops_engine/serving/service.py").read_text()
    assert f'base_image="python:{declared}-slim"' in service, "serving/service.py's IMAGE"


def test_the_sbom_lists_what_the_image_installs_at_the_locked_versions(tmp_path, monkeypatch):
    """`mlops pushed`'s SBOM (evidence.write_sbom) is CycloneDX of the image's set: the
    serving groups and the project at uv.lock's versions, none of the pipeline's packages."""
    import json
    import shutil
    import tomllib as toml

    from mlops_engine.serving.evidence import write_sbom

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("UV", os.environ.get("UV") or shutil.which("uv") or str(UV))
    sbom = json.loads(write_sbom(tmp_path / "sbom.cdx.json", ROOT / "params.yaml").read_text())
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.5"
    listed = {c["name"].lower(): c.get("version") for c in sbom["components"]}
    locked = {
        p["name"]: p["version"]
        for p in toml.loads((ROOT / "uv.lock").read_text())["package"]
        if "version" in p
    }
    assert {"bentoml", "scikit-learn", "pandas"} <= set(listed), "the serve group"
    assert not PIPELINE_ONLY & set(listed), "nothing the image leaves out"
    assert all(locked[name] == version for name, version in listed.items() if version)
    assert sbom["metadata"]["component"]["name"] == "tabular-project"


def test_the_image_installs_the_locked_set_where_bentoml_puts_the_bento():
    """The image's two installs (BentoML's RUN: its server; the setup script's RUN: the rest
    of the set, then the test suites deleted in that same layer) both read the set `mlops
    build` exports: UV_CONSTRAINT names it at BentoML's Bento path, the Bento carries it, the
    Dockerfile copies it in before the installs, and the setup script installs and strips."""
    from bentoml._internal.container.generate import BENTO_PATH

    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["bentoml"]["build"]
    envs = {e["name"]: e["value"] for e in build["envs"]}
    assert envs["UV_CONSTRAINT"] == f"{BENTO_PATH}/src/build/requirements.txt"
    assert "build/requirements.txt" in build["include"]
    assert build["python"]["requirements_txt"] == "deploy/image/requirements.txt"
    server = (ROOT / "deploy/image/requirements.txt").read_text()
    assert [line for line in server.splitlines() if not line.startswith("#")] == ["bentoml"]
    service = (ROOT / "engine/src/mlops_engine/serving/service.py").read_text()
    assert '.build_include(\n    "build/dist", "build/requirements.txt"\n)' in service
    script = (ROOT / build["docker"]["setup_script"]).read_text()
    install = script.index("uv pip install -r ./src/build/requirements.txt")
    assert install < script.index("-name tests -prune -exec rm -rf"), "stripped after it"
