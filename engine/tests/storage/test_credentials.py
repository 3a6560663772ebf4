"""A DVC remote that must be reachable: on the S3 server (tests/s3.py), `mlops repro` without
its credentials, or with wrong ones, stops naming the secrets to set (the advice itself:
tests/unit/test_credentials.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.project import clone, dvc, env, use_cache


def _repro(project: Path, creds: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # GITHUB_ACTOR too: on a Dependabot PR's run the advice names the Dependabot secrets
    child = {k: v for k, v in env().items() if not k.startswith(("AWS_", "GITHUB_ACTOR"))}
    child |= creds
    return subprocess.run(
        ["mlops", "repro", *args], cwd=project, env=child, capture_output=True, text=True
    )


@pytest.mark.slow
def test_a_remote_without_its_credentials_stops_naming_the_secrets(
    tmp_path, dvc_seed, s3_server, s3_bucket
):
    """A remote on the S3 server (which, like AWS, refuses unsigned or wrongly signed
    requests) read with no keys or a wrong one stops `mlops repro`, naming the secrets to
    set; only a fork PR (`--remote-optional`) goes on, from the repository's data. A push
    the storage refuses or drops half-way: tests/storage/test_push_outage.py."""
    project = clone(tmp_path / "project")
    use_cache(project, dvc_seed, tmp_path / "cache")
    url = f"s3://{s3_bucket}/dvc"
    dvc(project, "remote", "add", "-d", "storage", url)
    endpoint = {"AWS_ENDPOINT_URL": s3_server.endpoint}
    failed = _repro(project, endpoint)
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert "the DVC remote is configured but `dvc pull` failed" in failed.stderr
    assert (
        f"set the repository secret(s) AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for {url} "
        "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY not set in this step)"
    ) in failed.stderr
    assert "Running stage" not in failed.stdout + failed.stderr
    wrong = _repro(project, {**s3_server.env(), "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert wrong.returncode == 1, wrong.stderr[-3000:]
    assert "(they are set: check their values" in wrong.stderr
    assert "Running stage" not in wrong.stdout + wrong.stderr
    forked = _repro(project, endpoint, "--remote-optional")
    assert forked.returncode == 0, forked.stderr[-3000:]
    assert "the remote is optional here" in forked.stderr
