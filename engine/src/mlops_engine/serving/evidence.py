"""The pushed image's evidence: the digest the registry stored it under and the SBOM of what
is installed in it, for cd.yml's attestation steps (actions/attest-build-provenance and
actions/attest attach both to that digest; `gh attestation verify oci://IMAGE@DIGEST` checks
them before a deploy, docs/serving.md).

The digest is the registry's content address of the image manifest, as `docker push` left it
in the local image's RepoDigests (`docker inspect`): never a tag, which moves, and never the
image id (the config's digest), which no registry serves. Of the RepoDigests, the one of the
pushed repository is taken: an image pulled from or pushed to elsewhere carries others.

The SBOM is CycloneDX 1.5 JSON exported by uv from ``uv.lock`` with the very dependency
groups the image installs (``bento.requirement_groups``: ``serve`` plus the prediction log's
storage client), and the project itself, whose wheel the image installs: what is in the
image, from the lock that pinned it, with no SBOM generator to add."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")  # what actions/attest accepts (subject.ts)


def pushed_digest(image: str, docker: str = "docker") -> tuple[str, str]:
    """(repository, digest) of ``image`` (``NAME:TAG``) as its push stored it."""
    name = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    done = subprocess.run(
        [docker, "inspect", "--format", "{{json .RepoDigests}}", image],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"docker inspect {image}: {done.stderr.strip() or done.stdout}")
    repo_digests = json.loads(done.stdout) or []
    ours = [d for d in repo_digests if d.split("@", 1)[0] == name]
    if not ours:
        raise RuntimeError(
            f"{image} has no digest in {name}: it was not pushed there "
            f"(RepoDigests: {repo_digests or 'none'})"
        )
    digest = ours[0].split("@", 1)[1]
    if not DIGEST.match(digest):
        raise RuntimeError(f"{image}: {digest!r} is not a sha256:<64 hex> digest")
    return name, digest


def write_sbom(target: Path, params_file: Path = Path("params.yaml")) -> Path:
    """CycloneDX JSON of the image's packages (the serving groups of ``uv.lock`` and the
    project), written to ``target``."""
    from mlops_engine.serving.bento import requirement_groups, run_uv

    target.parent.mkdir(parents=True, exist_ok=True)
    run_uv(
        "export",
        "--frozen",
        "--format",
        "cyclonedx1.5",
        *requirement_groups(params_file),
        "--output-file",
        str(target),
        "--quiet",
    )
    sbom = json.loads(target.read_text())
    if sbom.get("bomFormat") != "CycloneDX" or not sbom.get("components"):
        raise RuntimeError(f"{target}: uv exported no CycloneDX components")
    return target


def describe_push(name: str, digest: str, repository: str) -> str:
    """Markdown for the job summary: the digest to deploy, how to check and set it."""
    return (
        "## Image pushed\n\n"
        f"`{name}@{digest}` (build provenance and SBOM attested on this digest)\n\n"
        "Verify, then deploy it (docs/serving.md):\n\n```sh\n"
        f"gh attestation verify oci://{name}@{digest} --repo {repository}\n"
        "cd deploy/kubernetes && "
        f"kustomize edit set image ghcr.io/OWNER/REPO={name}@{digest}\n```\n"
    )
