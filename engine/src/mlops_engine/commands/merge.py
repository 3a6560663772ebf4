"""On merge (cd.yml): the model store with lineage, the Bento build."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mlops_engine import storage
from mlops_engine.commands import command, log
from mlops_engine.config import Params, read_yaml
from mlops_engine.step_files import add_outputs, add_summary


def _save_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="models/model.joblib")
    p.add_argument("--lock", default="dvc.lock")
    p.add_argument("--dvc-file", default="dvc.yaml")
    p.add_argument("--model-card", default="reports/model_card.md")


@command(
    "save-model",
    "save the pipeline's model to the BentoML store with lineage; print its tag",
    _save_model_args,
)
def _save_model(a: argparse.Namespace, params: Params) -> int:

    from mlops_engine import git
    from mlops_engine.outputs import locate, lock_versions
    from mlops_engine.serving import model_store
    from mlops_engine.serving.model_tag import model_md5

    metrics_path = locate(Path(a.dvc_file)).metrics
    commit = git.commit_of("HEAD")
    card = Path(a.model_card)
    lineage = model_store.Lineage(
        git_commit=commit,
        model_md5=model_md5(Path(a.lock), a.model),
        data={k: v for k, v in lock_versions(Path(a.lock)).items() if k != a.model},
        params=read_yaml(Path(a.params).read_text()),
        metrics=storage.read_json(metrics_path) if metrics_path else {},
        model_card=card.read_text() + f"\nCommit: `{commit}`.\n" if card.exists() else "",
    )
    tag = model_store.save(Path(a.model), params.serve.model_name, lineage)  # md5 checked first
    # The service's startup check, run here too: CD stops before a Bento that would not start.
    from mlops_engine.serving import lean

    fast = lean.for_service(storage.read_model(Path(a.model)), params.contract)
    sys.stdout.write(tag + "\n")
    log.info(
        "save-model: %s (sha256 recorded, lineage: commit %s; served by %s)",
        tag,
        lineage.git_commit[:12],
        "the lean path, verified identical" if fast is not None else "the pipeline",
    )
    return 0


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lock", default="dvc.lock")
    p.add_argument("--dvc-file", default="dvc.yaml")
    p.add_argument("--export", default=None, help="also export the Bento to this file")
    p.add_argument("--registry", default="ghcr.io")
    p.add_argument("--repository", default=os.environ.get("GITHUB_REPOSITORY", "local/mlops"))
    p.add_argument("--github-output", default=os.environ.get("GITHUB_OUTPUT"))
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))


@command(
    "build",
    "build the Bento (service + exact model + locked requirements); print its tag",
    _build_args,
)
def _build(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.outputs import data_versions, locate
    from mlops_engine.serving.bento import build, describe, export
    from mlops_engine.serving.model_tag import model_tag

    version = model_tag(Path(a.lock), params.serve.model_name).split(":", 1)[1]
    tag = build(model_version=version)
    if a.export:
        export(tag, Path(a.export))
    from mlops_engine.git import commit_of

    image = f"{a.registry}/{a.repository}".lower()
    # The image is tagged with the commit whose model it holds: on a rebuild of an older
    # `ref` that is not the workflow's github.sha (which would overwrite the head's tag).
    outputs = {
        "bento_tag": tag,
        "model_version": version,
        "image": image,
        "commit": commit_of("HEAD"),
        # the data the model was trained on, as dvc.lock hashes it (an OCI label of the image)
        "data": ",".join(f"{k}@{v}" for k, v in data_versions(Path(a.lock)).items()),
    }
    add_outputs(a.github_output, outputs)
    if a.summary:
        add_summary(
            a.summary, describe(outputs, storage.read_json(locate(Path(a.dvc_file)).metrics))
        )
    sys.stdout.write(tag + "\n")
    return 0


@command(
    "checkout-ref",
    "check out --ref (tag, branch or commit SHA of any length) for a rebuild; empty: nothing",
    lambda p: (
        p.add_argument("--ref", default="", help="what to rebuild (cd.yml's `ref` input)"),
        p.add_argument(
            "--base",
            default="",
            help="the commit the gate will compare with (cd.yml: the push's `before`): "
            "fetched by SHA when the checkout lacks it (a force push); gone: an error",
        ),
    ),
)
def _checkout_ref(a: argparse.Namespace, params: Params) -> int:
    """cd.yml checks out the pushed commit with full history and lets this pick `ref`:
    actions/checkout would refuse an abbreviated SHA (see ``git.resolve``). An unknown
    `ref` fails here, before anything is built, with what was tried."""
    from mlops_engine import git

    ref = a.ref.strip()
    if not ref:
        log.info(
            "checkout-ref: no ref given: building the checked-out commit %s",
            git.commit_of("HEAD")[:12],
        )
    else:
        sha = git.check_out(ref)
        log.info("checkout-ref: %s is commit %s: checked out to rebuild it", ref, sha)
    base = a.base.strip()
    if base:  # after `ref`: a rebuild's base, HEAD~1, is relative to it
        found = git.have(base)  # MissingCommit (exit 1) when a SHA cannot be had
        if found:
            where = f" (commit {git.commit_of(base)[:12]})"
        elif base == git.NO_COMMIT:
            where = ": the push created the branch, no base"
        else:
            where = ": no such commit here (a first commit?), no base"
        log.info("checkout-ref: the gate compares with %s%s", base, where)
    return 0


def _pushed_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image", required=True, help="NAME:TAG that `docker push` sent")
    p.add_argument("--sbom", default="build/sbom.cdx.json", help="where to write the SBOM")
    p.add_argument("--github-output", default=os.environ.get("GITHUB_OUTPUT"))
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))
    p.add_argument("--repository", default=os.environ.get("GITHUB_REPOSITORY", "OWNER/REPO"))


@command(
    "pushed",
    "the pushed image's digest (name, digest outputs) and its SBOM, for the attestations",
    _pushed_args,
)
def _pushed(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.serving.evidence import describe_push, pushed_digest, write_sbom

    name, digest = pushed_digest(a.image)
    sbom = write_sbom(Path(a.sbom), Path(a.params))
    add_outputs(a.github_output, {"name": name, "digest": digest, "sbom": str(sbom)})
    add_summary(a.summary, describe_push(name, digest, a.repository))
    sys.stdout.write(f"{name}@{digest}\n")
    log.info("pushed: %s@%s; SBOM %s", name, digest, sbom)
    return 0
