"""The project's container image, built as cd.yml builds it, for the image tests.

A fresh clone of this working tree (tests/project.py ``clone``) runs the same make targets
as cd.yml's jobs: ``make install``, ``make repro`` (the pipeline, so the image holds the
model the pipeline trained), ``make bento`` (outputs to ``$GITHUB_OUTPUT``, read back here
as the image job reads them) and ``make image`` with ``CONTAINER_BACKEND=podman`` (the
target ``make containerize`` runs before its ``docker push``). Only the backend differs
from GitHub: podman and its stand-in base (tests/image/runtime.py).

An image is built once per content of the working tree (``key``: a hash of the files a
clone holds) and kept in podman's store with its clone, so a second run of the tests, or
.ci/run's build beside the suite (``python -m tests.image.build``), starts it at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.image import runtime
from tests.project import (
    BIN,
    ROOT,
    SEED_DIR,
    clone,
    env,
    exclusive,
    run,
    seed_cache,
    tracked_files,
    use_cache,
)
from tests.workflows.act import uv_bin_dir

NAME = "localhost/mlops-image-test"


@dataclass(frozen=True)
class Built:
    image: str  # NAME:<commit> (make image also tags NAME:<model version>)
    model_version: str
    commit: str  # the clone's commit: what the image's lineage names
    data: str  # `mlops build`'s data output: dvc.lock's data hashes (an image label)
    gate: str  # `mlops gate`'s verdict output (an image label)
    project: str  # the clone it was built from (its model, dvc.lock, model card)
    seconds: dict[str, float]  # what each step took when it was built


# What cannot change the image: editing a test, a doc or a workflow reuses the built one.
NOT_IN_IMAGE = (
    *("tests/", "engine/tests/", "engine/benchmarks/", "docs/", ".github/", ".ci/"),
    "deploy/kubernetes/",
)


def key() -> str:
    """A hash of what a clone of this working tree holds (paths and contents) that can
    change the image."""
    digest = hashlib.sha256()
    for rel in sorted(f for f in tracked_files() if not f.startswith(NOT_IN_IMAGE)):
        digest.update(rel.encode() + b"\0" + (ROOT / rel).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def ensure(seed: Path | None = None) -> Built:
    """The image of this working tree, built unless podman's store has it (under a lock:
    .ci/run's build and a test worker never build it twice). ``seed``: the directory of the
    run's DVC seed (tests.project.seed_cache): the build's ``make repro`` restores the stages
    from it, as cd.yml's restores them from the DVC remote, instead of recomputing them."""
    runtime.ensure()
    tag = key()
    record = runtime.STATE / "built" / f"{tag}.json"
    with exclusive(runtime.STATE / "build.lock"):
        if record.exists():
            built = Built(**json.loads(record.read_text()))
            if runtime.has_image(built.image) and Path(built.project).is_dir():
                return built
        built = _build(tag, seed)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(asdict(built)))
        _forget_others(tag)
        return built


def _build(tag: str, seed: Path | None) -> Built:
    projects = runtime.STATE / "projects"
    project = projects / tag
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    _log_to_s3(clone(project))
    if seed is not None:  # a stage whose inputs differ from the seed's still runs for real
        # the copy of links beside the seed (one file system); the workspace holds copies
        use_cache(project, seed_cache(seed), seed / f"image-{tag}")
    extra = {
        "CONTAINERS_CONF": str(runtime.CONF),
        "BENTOML_HOME": str(project / ".bentoml"),  # as cd.yml: the job's own store
        "BENTOML_DO_NOT_TRACK": "True",
        "GITHUB_OUTPUT": str(project / "outputs"),
        "PATH": os.pathsep.join([str(BIN), uv_bin_dir(), env()["PATH"]]),
    }
    seconds = {}
    # gate: against this very commit (the clone has no earlier model), for its verdict output
    for target in ("install", "repro", "gate", "bento"):
        started = time.monotonic()
        run(project, "make", target, "BASE_REF=HEAD", extra_env=extra, timeout=900)
        seconds[target] = round(time.monotonic() - started, 1)
    out = _outputs(project / "outputs")
    started = time.monotonic()
    run(
        project,
        "make",
        "image",
        "CONTAINER_BACKEND=podman",
        f"BENTO_TAG={out['bento_tag']}",
        f"IMAGE={NAME}",
        f"MODEL_VERSION={out['model_version']}",
        f"COMMIT={out['commit']}",
        extra_env={**extra, "DATA_VERSIONS": out["data"], "GATE_VERDICT": out["verdict"]},
        timeout=1200,
    )
    seconds["image"] = round(time.monotonic() - started, 1)
    return Built(
        image=f"{NAME}:{out['commit']}",
        model_version=out["model_version"],
        commit=out["commit"],
        data=out["data"],
        gate=out["verdict"],
        project=str(project),
        seconds=seconds,
    )


# The sink a production params.yaml names for the prediction log (the container is pointed
# at the tests' bucket with MLOPS_PREDICTION_LOG): `mlops build` then puts its client
# (s3fs, the serve-s3 group) into the image, as it would for a real deployment.
SINK = "s3://mlops-image-sink/predictions"


def _log_to_s3(project: Path) -> None:
    params = project / "params.yaml"
    text = params.read_text()
    line = "    sink: data/production/prediction_logs"
    assert text.count(line) == 1, "params.yaml's serve.prediction_log.sink moved"
    params.write_text(text.replace(line, f"    sink: {SINK}"))
    run(project, "git", "commit", "-qam", "log predictions to S3")


def _forget_others(tag: str) -> None:
    """Older trees' images and clones (2 GB each before the slim image): only this one stays."""
    for record in (runtime.STATE / "built").glob("*.json"):
        if record.stem != tag:
            old = json.loads(record.read_text())
            runtime.podman("rmi", old["image"], check=False)  # its model version's tag may stay
            shutil.rmtree(old["project"], ignore_errors=True)
            record.unlink()
    for project in (runtime.STATE / "projects").iterdir():  # an interrupted build's too
        if project.name != tag:
            shutil.rmtree(project, ignore_errors=True)
    runtime.podman("image", "prune", "--force", check=False)


if __name__ == "__main__":
    started = time.monotonic()
    try:
        built = ensure(Path(os.environ[SEED_DIR]) if os.environ.get(SEED_DIR) else None)
    except Exception as e:  # .ci/run prints it; the test then says the same
        print(f"image build failed: {e}", file=sys.stderr)
        sys.exit(1)
    print(
        f"{built.image} ready in {time.monotonic() - started:.0f} s (steps: {built.seconds})",
        file=sys.stderr,
    )
