"""Security policy over every workflow file, checked on the parsed YAML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.project import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
CANARY = Path(__file__).parent / "canary" / "unsafe.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
READ_ONLY = {"read", "none"}


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def violations(path: Path) -> list[str]:
    doc, text, found = _load(path), path.read_text(), []
    perms = doc.get("permissions")
    if perms is None:
        found.append("no top-level permissions")
    elif isinstance(perms, str) or any(v not in READ_ONLY for v in perms.values()):
        found.append(f"top-level permissions not read-only: {perms}")
    triggers = doc["on"] if isinstance(doc["on"], dict | list) else [doc["on"]]
    if "pull_request_target" in triggers:
        found.append("pull_request_target trigger")
    for name, job in doc.get("jobs", {}).items():
        if "permissions" not in job:
            found.append(f"job {name}: no explicit permissions")
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses and not uses.startswith("./") and not PINNED.match(uses):
                found.append(f"job {name}: unpinned action {uses}")
            keeps_token = (step.get("with") or {}).get("persist-credentials") is not False
            pushes = (job.get("permissions") or {}).get("contents") == "write"
            if uses and uses.startswith("actions/checkout@") and keeps_token and not pushes:
                # only a job allowed to push (contents: write) may keep git credentials
                found.append(f"job {name}: checkout without persist-credentials: false")
            if "${{ github.event" in str(step.get("run", "")):
                found.append(f"job {name}: github.event interpolated into run")
            if re.search(r"pip install (?!-r|--require-hashes)", str(step.get("run", ""))):
                found.append(f"job {name}: unpinned pip install")
    for line in text.splitlines():
        if "uses:" in line and "@" in line and "#" not in line.split("@", 1)[1]:
            found.append(f"no version comment: {line.strip()}")
    return found


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"pr.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_follows_the_policy(path):
    assert violations(path) == []


def test_policy_flags_the_canary():
    found = "\n".join(violations(CANARY))
    for expected in (
        "top-level permissions not read-only",
        "pull_request_target",
        "unpinned action actions/checkout@v4",
        "github.event interpolated",
        "persist-credentials",
        "no explicit permissions",
    ):
        assert expected in found


def test_cd_tags_the_image_with_the_commit_it_built():
    """A rebuild (workflow_dispatch with an older `ref`) must not be tagged github.sha, and
    nothing in the image job may change which builder `bentoml containerize` uses."""
    cd = _load(ROOT / ".github" / "workflows" / "cd.yml")
    assert cd["jobs"]["bento"]["outputs"]["commit"] == "${{ steps.build.outputs.commit }}"
    image = cd["jobs"]["image"]
    assert image["env"]["COMMIT"] == "${{ needs.bento.outputs.commit }}"
    assert not [s for s in image["steps"] if "setup-buildx-action" in s.get("uses", "")]


# Which steps get the storage secrets: tests/workflows/test_storage_secrets.py derives it.


SIGNING = ("id-token", "attestations")  # an OIDC identity to sign with; storing attestations


def test_only_cd_image_job_may_sign_and_it_attests_the_pushed_digest():
    """`attestations: write` exists on two jobs of all the workflows: release.yml's publish
    job (below) and cd.yml's image job,
    which pushes the image (packages: write) and attests both kinds of evidence, signed
    with its OIDC identity (`id-token: write`), on the digest its `make containerize` step
    output: never a tag, never another step's value. (The jobs with storage steps get
    `id-token: write` too, for keyless storage: tests/workflows/test_storage_secrets.py.)"""
    signers = {
        (path.name, name): job["permissions"]
        for path in WORKFLOWS
        for name, job in _load(path).get("jobs", {}).items()
        if (job.get("permissions") or {}).get("attestations") == "write"
    }
    assert sorted(signers) == [("cd.yml", "image"), ("release.yml", "publish")]
    assert {k: signers["cd.yml", "image"][k] for k in (*SIGNING, "packages")} == dict.fromkeys(
        (*SIGNING, "packages"), "write"
    )
    for path in WORKFLOWS:  # nor can the workflow level hand them to every job
        assert not any(p in (_load(path).get("permissions") or {}) for p in SIGNING), path.name
    steps = _load(ROOT / ".github" / "workflows" / "cd.yml")["jobs"]["image"]["steps"]
    (push,) = [s for s in steps if s.get("run") == "make containerize"]
    attests = [s for s in steps if s.get("uses", "").startswith("actions/attest")]
    assert [s["uses"].split("@")[0] for s in attests] == [
        "actions/attest-build-provenance",
        "actions/attest",
    ]
    assert steps.index(push) < min(steps.index(s) for s in attests)
    for step in attests:
        given = step["with"]
        assert given["subject-digest"] == f"${{{{ steps.{push['id']}.outputs.digest }}}}"
        assert given["subject-name"] == f"${{{{ steps.{push['id']}.outputs.name }}}}"
        assert given["push-to-registry"] is True
    assert attests[1]["with"]["sbom-path"] == f"${{{{ steps.{push['id']}.outputs.sbom }}}}"


def test_the_engine_release_builds_untrusted_nothing_and_publishes_what_it_checked():
    """release.yml: only a tag engine-v* starts it; the build job reads only and uses no cache
    (a PR could have written one); the publish job, in the `pypi` environment PyPI's trusted
    publisher names, attests and publishes the files the build job checked, signing with
    its OIDC identity, and holds no other write permission."""
    spec = _load(ROOT / ".github" / "workflows" / "release.yml")
    assert spec["on"] == {"push": {"tags": ["engine-v*"]}} and spec["permissions"] == {}
    build, publish = spec["jobs"]["build"], spec["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    assert publish["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "attestations": "write",
    }
    assert publish["environment"] == "pypi" and publish["needs"] == "build"
    for job in (build, publish):
        for step in job["steps"]:
            assert (step.get("with") or {}).get("enable-cache") in (None, False), step
    assert [s["run"] for s in build["steps"] if "run" in s] == [
        'make engine-dist TAG="$GITHUB_REF_NAME"'
    ]
    runs = [s for s in publish["steps"] if "run" in s or "attest" in s.get("uses", "")]
    assert runs[0]["with"]["subject-path"] == "dist/*" and runs[1]["run"] == "make engine-publish"
