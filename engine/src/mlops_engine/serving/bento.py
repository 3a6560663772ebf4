"""Building the Bento: the serving set's locked requirements from ``uv.lock`` (its ``serve``
dependency group, no pipeline dependencies), the project's wheel, and the build configuration
in ``pyproject.toml`` (``[tool.bentoml.build]``) with the service's image (BentoML's v2 build:
no ``python.wheels``, whose use falls back to the v1 image with compilers in it)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)


def _uv_path() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` exports its own path as UV
    if uv is None:
        raise RuntimeError("uv is not on PATH (run through `make` or `uv run`)")
    return uv


def run_uv(*args: str) -> None:
    subprocess.run([_uv_path(), *args], check=True)


def build(model_version: str, out_dir: Path = Path("build")) -> str:
    """Export the serving set's locked requirements, build the wheel, build the Bento;
    return its tag."""
    import bentoml

    shutil.rmtree(out_dir / "dist", ignore_errors=True)
    out_dir.mkdir(exist_ok=True)
    run_uv(
        "export",
        "--frozen",
        "--no-hashes",
        "--no-emit-project",
        "--no-emit-workspace",  # the engine's wheel is built below, installed without deps
        *requirement_groups(),
        "--output-file",
        str(out_dir / "requirements.txt"),
        "--quiet",
    )
    # the project's wheel and the engine's (a workspace member here; from PyPI once published)
    run_uv("build", "--all-packages", "--wheel", "--out-dir", str(out_dir / "dist"), "--quiet")
    # BentoML's v2 build runs `uv` from PATH, else pip-installs it into this environment:
    # the same uv as above, wherever it lives (.tools/bin when bootstrapped by the Makefile)
    uv_dir = str(Path(_uv_path()).parent)
    if uv_dir not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = uv_dir + os.pathsep + os.environ["PATH"]
    tag = f"{_service_name()}:{model_version}"
    with contextlib.suppress(bentoml.exceptions.NotFound):  # same model, new code: rebuild
        bentoml.bentos.delete(tag)
    bento = bentoml.bentos.build_bentofile(build_ctx=".", version=model_version)
    log.info("built %s at %s", bento.tag, bento.path)
    return str(bento.tag)


def requirement_groups(params_file: Path = Path("params.yaml")) -> list[str]:
    """``uv export`` arguments for the image: the ``serve`` group only, plus the one with the
    client of ``serve.prediction_log.sink`` (``serve-s3``: s3fs for ``s3://``, ...; not the
    ``s3`` extra, which brings DVC's plugin): the image must write the log where params.yaml
    sends it."""
    from mlops_engine.config import load_params
    from mlops_engine.credentials import extra_for

    extra = extra_for(load_params(params_file).serve.prediction_log.sink)
    groups = ["serve", *([f"serve-{extra}"] if extra else [])]
    return [arg for group in groups for arg in ("--only-group", group)]


def _service_name() -> str:
    import tomllib

    with open("pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["bentoml"]["build"]["name"]


def export(tag: str, target: Path) -> Path:
    """The Bento as one file, for a workflow artifact (``bentoml import`` reads it back)."""
    import bentoml

    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    bentoml.bentos.export_bento(tag, str(target.resolve()))
    return target


def describe(outputs: dict[str, str], metrics: dict) -> str:
    """Markdown for the job summary: what was built, from which model, how good it is."""
    lines = ["## Bento built", "", "| what | value |", "|---|---|"]
    lines += [f"| {k} | `{v}` |" for k, v in outputs.items()]
    lines += ["", "| metric | value |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in metrics.items() if not isinstance(v, dict)]
    return "\n".join(lines) + "\n"
