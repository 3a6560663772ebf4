"""The Kubernetes manifests: valid against the API schemas, and wired to the service."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.project import BIN, ROOT

MANIFESTS = ROOT / "deploy" / "kubernetes"
FILES = sorted(p for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "kubernetes-validate"), "--strict", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def _docs() -> dict[str, dict]:
    return {d["kind"]: d for p in FILES for d in yaml.safe_load_all(p.read_text())}


def test_every_manifest_validates_strictly(tmp_path):
    """Each file, and what `kubectl kustomize` renders from them (the `images:` override
    applied), in one validator run."""
    docs = _rendered()
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(docs))
    result = _validate(*FILES, rendered)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") + result.stderr.count("passed") == len(FILES) + len(docs)


def test_a_broken_manifest_is_rejected(tmp_path):
    doc = yaml.safe_load((MANIFESTS / "deployment.yaml").read_text())
    doc["spec"]["replicas"] = "two"
    broken = tmp_path / "deployment.yaml"
    broken.write_text(yaml.safe_dump(doc))
    assert _validate(broken).returncode != 0


def test_kustomization_lists_every_manifest():
    listed = set(yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in FILES}


def test_deployment_probes_resources_and_wiring():
    docs = _docs()
    pod = docs["Deployment"]["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["ports"][0]["containerPort"] == 3000  # BentoML's default port
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"name": "OMP_NUM_THREADS", "value": "1"} in container["env"]
    assert pod["spec"]["terminationGracePeriodSeconds"] > 30, "longer than the traffic timeout"
    labels = pod["metadata"]["labels"]
    assert docs["Service"]["spec"]["selector"].items() <= labels.items()
    assert docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == "predictor"
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()


def _real_kubectl() -> str:
    """The machine's kubectl, never a stand-in of tests/workflows/standins/bin (which a
    walkthrough puts first on PATH, this project's or the template's it was made from, and
    which only does `apply -k`)."""
    standins = ("tests", "workflows", "standins", "bin")
    path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p).parts[-4:] != standins
    )
    found = shutil.which("kubectl", path=path)
    if found is None:
        pytest.fail("kubectl is not installed (it renders the kustomization: `kubectl kustomize`)")
    return found


def _rendered(where: Path = MANIFESTS) -> list[dict]:
    proc = subprocess.run(
        [_real_kubectl(), "kustomize", str(where)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return list(yaml.safe_load_all(proc.stdout))


def test_kustomize_sets_a_digest_and_a_pull_secret_for_the_private_package(tmp_path):
    """What `kubectl apply -k` deploys: the image comes from kustomization.yaml's `images:`
    (the docs say to set it there) and is named by its digest, never a tag: a tag can move,
    and :<model version> is rebuilt under the same name by a code-only change, which an
    IfNotPresent node never pulls again; the attestations cd.yml makes are attached to the
    digest. Setting another digest there (as `kustomize edit set image NAME=IMAGE@DIGEST`
    writes it) is what the pods then run. A new GHCR package is private: the pods name the
    pull secret the docs create."""
    images = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["images"]
    (entry,) = images
    (deployment,) = [d for d in _rendered() if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "newTag" not in entry and re.fullmatch(r"sha256:[0-9a-f]{64}", entry["digest"])
    assert container["image"] == f"{entry['newName']}@{entry['digest']}"
    assert ":" not in container["image"].split("@")[0].rsplit("/", 1)[1], "no tag beside it"
    source = yaml.safe_load((MANIFESTS / "deployment.yaml").read_text())
    (declared,) = source["spec"]["template"]["spec"]["containers"]
    assert "@sha256:" in declared["image"], "deployment.yaml names a digest too"
    overlay = tmp_path / "kubernetes"
    shutil.copytree(MANIFESTS, overlay)
    pushed = "sha256:" + "5e" * 32
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    kustomization["images"] = [
        {"name": entry["name"], "newName": "ghcr.io/acme/churn", "digest": pushed}
    ]
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    (deployed,) = [d for d in _rendered(overlay) if d["kind"] == "Deployment"]
    (ours,) = deployed["spec"]["template"]["spec"]["containers"]
    assert ours["image"] == f"ghcr.io/acme/churn@{pushed}"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert pod["imagePullSecrets"] == [{"name": "ghcr-pull"}]
    serving = (ROOT / "docs" / "serving.md").read_text()
    verify = (
        "gh attestation verify oci://ghcr.io/<owner>/<repo>@sha256:<digest> --repo <owner>/<repo>"
    )
    assert verify in serving, "the check before a deploy"
    assert f"kustomize edit set image {entry['name']}=ghcr.io/<owner>/<repo>@sha256:" in serving
    assert "kubectl -n mlops create secret docker-registry ghcr-pull --docker-server=ghcr.io" in (
        serving
    )
