"""One credentials story (mlops_template.credentials) and a remote that must be reachable."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from mlops_template.credentials import GOOGLE_JSON, export_google_key
from tests.project import clone, dvc, run, use_cache

KEY = json.dumps({"type": "service_account", "project_id": "p", "private_key": "x"})


@pytest.mark.code
def test_the_gcs_secret_becomes_the_file_google_libraries_read():
    env = {GOOGLE_JSON: KEY}
    path = export_google_key(env)
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == path
    assert json.loads(Path(path).read_text())["project_id"] == "p"
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    Path(path).unlink()


@pytest.mark.code
def test_a_set_path_wins_and_a_broken_key_is_named():
    env = {GOOGLE_JSON: KEY, "GOOGLE_APPLICATION_CREDENTIALS": "/keys/mine.json"}
    assert (
        export_google_key(env) is None
        and env["GOOGLE_APPLICATION_CREDENTIALS"] == "/keys/mine.json"
    )
    assert export_google_key({}) is None
    with pytest.raises(ValueError, match=GOOGLE_JSON):
        export_google_key({GOOGLE_JSON: "not json"})


@pytest.mark.pipeline
@pytest.mark.slow
def test_an_unreachable_remote_is_an_error_unless_optional(tmp_path, dvc_seed):
    """A remote whose storage cannot be read (here: S3 without the dvc-s3 extra, as when
    `uv add "dvc[s3]"` was forgotten) stops `mlops repro`; only a fork PR goes on without."""
    project = clone(tmp_path / "project")
    use_cache(project, dvc_seed, tmp_path / "cache")
    dvc(project, "remote", "add", "-d", "storage", "s3://no-such-bucket/dvc")
    failed = run(project, "mlops", "repro", check=False)
    assert failed.returncode == 1
    assert "the DVC remote is configured but `dvc pull` failed" in failed.stderr
    assert "Running stage" not in failed.stdout + failed.stderr
    forked = run(project, "mlops", "repro", "--remote-optional", check=False)
    assert forked.returncode == 0, forked.stderr
    assert "the remote is optional here" in forked.stderr
