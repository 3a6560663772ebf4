"""The `docker` stand-in fails where the Docker CLI fails and pushes exactly the tags built
(sources in its docstring). Driven here as `make containerize` drives it: through
`bentoml containerize` (the real BentoML, docker backend), then `docker push --all-tags`."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.project import BIN, ROOT
from tests.workflows.github_state import STANDINS

# The harness's stand-ins, not the product: in `make test`, not in pr.yml's unit tier.
DOCKER = STANDINS / "bin" / "docker"


def _docker(state: Path, *args: str, stdin: str | None = None, host: str = "runner-1"):
    return subprocess.run(
        [str(DOCKER), *args],
        env={**os.environ, "STANDIN_DOCKER_STATE": str(state), "STANDIN_DOCKER_HOST": host},
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def context(tmp_path) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app\n")
    (ctx / "app.py").write_text("print('hi')\n")
    return ctx


def _registry(state: Path) -> dict:
    path = state / "registry.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_build_fails_like_docker(tmp_path, context):
    state = tmp_path / "state"
    bad = _docker(state, "build", "--tag", "ghcr.io/acme/Churn:1", str(context))
    assert bad.returncode == 125 and "must be lowercase" in bad.stderr
    unknown = _docker(state, "build", "--frobnicate", str(context))
    assert unknown.returncode == 125 and "unknown flag: --frobnicate" in unknown.stderr
    (context / "Dockerfile").unlink()
    missing = _docker(state, "build", "-t", "ghcr.io/acme/churn:1", str(context))
    assert missing.returncode == 1 and "failed to read dockerfile" in missing.stderr


def test_push_needs_a_login_and_pushes_every_local_tag_of_the_name(tmp_path, context):
    state = tmp_path / "state"
    image = "ghcr.io/acme/churn"
    built = _docker(state, "build", "-t", f"{image}:v1", "--tag", f"{image}:abc", str(context))
    assert built.returncode == 0, built.stderr
    assert _docker(state, "build", "-t", "ghcr.io/acme/other:v1", str(context)).returncode == 0

    assert "unauthorized" in _docker(state, "push", "--all-tags", image).stderr
    no_password = _docker(state, "login", "--username", "u", "ghcr.io")
    assert no_password.returncode == 1 and "non TTY" in no_password.stderr
    login = _docker(state, "login", "--password-stdin", "--username", "u", "ghcr.io", stdin="p")
    assert login.returncode == 0, login.stderr

    tagged = _docker(state, "push", "--all-tags", f"{image}:v1")
    assert tagged.returncode == 1 and "tag can't be used with --all-tags/-a" in tagged.stderr
    gone = _docker(state, "push", "--all-tags", "ghcr.io/acme/nothing")
    assert "An image does not exist locally with the tag: ghcr.io/acme/nothing" in gone.stderr
    assert _docker(state, "push", "--all-tags", image).returncode == 0
    assert sorted(_registry(state)) == [f"{image}:abc", f"{image}:v1"]

    # the next job runs on a fresh runner: its local store and logins start empty
    assert "unauthorized" not in _docker(state, "push", "-a", image, host="runner-2").stderr
    assert _docker(state, "push", "-a", image, host="runner-2").returncode == 1
    _docker(state, "build", "-t", f"{image}:v2", str(context), host="runner-2")
    assert "unauthorized" in _docker(state, "push", "-a", image, host="runner-2").stderr
    _docker(state, "login", "--password-stdin", "-u", "u", "ghcr.io", stdin="p", host="runner-2")
    assert _docker(state, "push", "-a", image, host="runner-2").returncode == 0
    assert sorted(_registry(state)) == [f"{image}:abc", f"{image}:v1", f"{image}:v2"]


def test_bentoml_containerize_builds_exactly_the_two_tags(tmp_path, dvc_seed):
    """The real `bentoml containerize` against the stand-in: the Dockerfile BentoML writes
    exists, its flags are docker's, and the image gets the model version and commit tags."""
    home, state = tmp_path / "bentoml", tmp_path / "state"
    project = dvc_seed.parents[1]  # the seeded project: its model is reproduced
    env = {
        **os.environ,
        "BENTOML_HOME": str(home),
        "STANDIN_DOCKER_STATE": str(state),
        "PATH": f"{DOCKER.parent}{os.pathsep}{BIN}{os.pathsep}{ROOT / '.tools' / 'bin'}"
        f"{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("VIRTUAL_ENV", None)
    out = tmp_path / "out"

    def run(*args: str) -> str:
        proc = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    run(str(BIN / "mlops"), "save-model")
    run(str(BIN / "mlops"), "build", "--github-output", str(out))
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    tags = [f"{outputs['image']}:{outputs['model_version']}", f"{outputs['image']}:abc123"]
    run(
        str(BIN / "bentoml"),
        "containerize",
        outputs["bento_tag"],
        *(x for t in tags for x in ("--image-tag", t)),
    )
    calls = [json.loads(x) for x in (state / "calls.jsonl").read_text().splitlines()]
    assert [c["build"] for c in calls] == [tags]


def test_push_stores_the_manifest_under_its_digest_which_mlops_pushed_reads(
    tmp_path, context, monkeypatch
):
    """`docker push` prints and records the manifest's sha256 (not the image id, which no
    registry serves); `mlops pushed`'s digest (evidence.pushed_digest) is that one, of the
    pushed repository; an image never pushed there is refused, naming the repository."""
    from mlops_engine.serving.evidence import describe_push, pushed_digest

    state = tmp_path / "state"
    monkeypatch.setenv("STANDIN_DOCKER_STATE", str(state))
    monkeypatch.setenv("STANDIN_DOCKER_HOST", "runner-1")
    image = "ghcr.io/acme/churn"
    _docker(state, "build", "-t", f"{image}:v1", "-t", f"{image}:abc", str(context))
    with pytest.raises(RuntimeError, match=f"no digest in {image}: it was not pushed"):
        pushed_digest(f"{image}:v1", docker=str(DOCKER))
    _docker(state, "login", "--password-stdin", "-u", "u", "ghcr.io", stdin="p")
    pushed = _docker(state, "push", "--all-tags", image)
    assert pushed.returncode == 0, pushed.stderr
    digests = json.loads((state / "digests.json").read_text())
    (digest,) = set(digests.values())  # both tags: one image, one manifest
    manifest = json.loads((state / "manifests.json").read_text())[f"{image}@{digest}"]
    raw = json.dumps(manifest, sort_keys=True).encode()
    assert digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert manifest["config"]["digest"] == _registry(state)[f"{image}:v1"] != digest
    assert f"v1: digest: {digest} size: {len(raw)}" in pushed.stdout
    first = _docker(state, "inspect", "--format", "{{index .RepoDigests 0}}", f"{image}:v1")
    assert first.stdout.strip() == f"{image}@{digest}"
    assert pushed_digest(f"{image}:abc", docker=str(DOCKER)) == (image, digest)
    summary = describe_push(image, digest, "acme/churn")
    assert f"gh attestation verify oci://{image}@{digest} --repo acme/churn" in summary
    missing = _docker(state, "inspect", "--format", "{{json .RepoDigests}}", f"{image}:nope")
    assert missing.returncode == 1 and f"No such object: {image}:nope" in missing.stderr
