"""One credentials story (mlops_engine.credentials): the advice on what to set for each
remote; a remote that must be reachable is tests/storage/test_credentials.py."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from mlops_engine.credentials import (
    GOOGLE_JSON,
    export_google_key,
    storage_advice,
    what_to_set,
)

KEY = json.dumps({"type": "service_account", "project_id": "p", "private_key": "x"})


def test_the_gcs_secret_becomes_the_file_google_libraries_read():
    env = {GOOGLE_JSON: KEY}
    path = export_google_key(env)
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == path
    assert json.loads(Path(path).read_text())["project_id"] == "p"
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    Path(path).unlink()


def test_a_set_path_wins_and_a_broken_key_is_named():
    env = {GOOGLE_JSON: KEY, "GOOGLE_APPLICATION_CREDENTIALS": "/keys/mine.json"}
    assert (
        export_google_key(env) is None
        and env["GOOGLE_APPLICATION_CREDENTIALS"] == "/keys/mine.json"
    )
    assert export_google_key({}) is None
    with pytest.raises(ValueError, match=GOOGLE_JSON):
        export_google_key({GOOGLE_JSON: "not json"})


def test_a_missing_client_is_named_with_its_extra(monkeypatch):
    import importlib.util

    installed = {"dvc_s3"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: object() if name in installed else None
    )
    told = what_to_set("gs://bucket/dvc", {})
    assert "GOOGLE_APPLICATION_CREDENTIALS_JSON not set" in told
    assert "`uv sync --extra gs`" in told
    assert "uv sync" not in what_to_set("s3://bucket/dvc", {})


def test_s3_advice_names_the_endpoint_variable_when_it_is_unset():
    """Keys set but no AWS_ENDPOINT_URL: a MinIO or R2 remote was asked of AWS, and the
    secrets alone are not what to check (#32 item 2)."""
    keys = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    told = what_to_set("s3://bucket/dvc", keys)
    assert "repository variable AWS_ENDPOINT_URL (unset in this step" in told
    assert "AWS_ENDPOINT_URL" not in what_to_set(
        "s3://bucket/dvc", {**keys, "AWS_ENDPOINT_URL": "http://minio:9000"}
    )
    assert "AWS_ENDPOINT_URL" not in what_to_set("gs://bucket/dvc", keys)


def test_storage_that_cannot_be_reached_is_not_a_credentials_problem():
    keys = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    down = 'ERROR: failed to transfer - Could not connect to the endpoint URL: "http://x/b"'
    told = storage_advice("s3://b/dvc", down, keys)
    assert told.startswith("s3://b/dvc could not be reached") and "secret" not in told
    refused = "ERROR: failed to push data to the cloud - An error occurred (AccessDenied)"
    assert storage_advice("s3://b/dvc", refused, keys) == what_to_set("s3://b/dvc", keys)
    unread = storage_advice("s3://b/dvc", None, keys)  # dvc wrote to a terminal
    assert unread.startswith(what_to_set("s3://b/dvc", keys)) and "could not be reached" in unread


def test_a_run_dependabot_triggered_is_sent_to_the_dependabot_secrets():
    """Runs Dependabot triggers get the Dependabot secrets, not the Actions secrets: the
    advice says which store, as `make repro` prints it on a Dependabot PR."""
    keys = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    refused = "ERROR: failed to pull data from the cloud - An error occurred (AccessDenied)"
    people = storage_advice("s3://b/dvc", refused, {"GITHUB_ACTOR": "octocat"})
    assert people.startswith(f"set the repository secret(s) {keys} for s3://b/dvc")
    assert "Dependabot" not in people
    bot = storage_advice("s3://b/dvc", refused, {"GITHUB_ACTOR": "dependabot[bot]"})
    assert bot.startswith(
        f"set the Dependabot secret(s) {keys} under Settings → Secrets and variables → "
        "Dependabot (this run was triggered by Dependabot, which gets those secrets, not the "
        "Actions secrets) for s3://b/dvc"
    ), bot


@pytest.mark.parametrize("scheme", ["azure", "az", "abfs", "abfss", "adl"])
def test_every_azure_scheme_is_named_with_its_secret(scheme):
    told = what_to_set(f"{scheme}://container/dvc", {})
    assert "set the repository secret(s) AZURE_STORAGE_CONNECTION_STRING" in told


def test_keyless_is_named_beside_the_secrets_and_a_role_refused_is_the_roles_problem():
    """No keys: the advice names the secrets and the keyless way (the OIDC role's
    repository variable). Temporary keys from the role (with AWS_SESSION_TOKEN) refused:
    the secrets are not what to set, the role's policy is what to check."""
    told = what_to_set("s3://b/dvc", {})
    assert "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY not set in this step)" in told
    assert "or keyless: the repository variable AWS_ROLE_ARN" in told
    assert "GCP_WORKLOAD_IDENTITY_PROVIDER" in what_to_set("gs://b/dvc", {})
    role = {"AWS_ACCESS_KEY_ID": "ASIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
    refused = what_to_set("s3://b/dvc", role)
    assert refused.startswith("the role's temporary keys are set in this step"), refused
    assert "policy allows s3://b/dvc" in refused and "secret" not in refused
    static = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": ""}
    assert "(they are set: check their values" in what_to_set("s3://b/dvc", static)


def test_an_empty_workload_identity_path_is_no_path():
    """A storage step gets GOOGLE_APPLICATION_CREDENTIALS from the workload identity step's
    output, empty when that step did not run: Google's libraries would open ''."""
    env = {"GOOGLE_APPLICATION_CREDENTIALS": ""}
    assert export_google_key(env) is None and "GOOGLE_APPLICATION_CREDENTIALS" not in env
    env = {"GOOGLE_APPLICATION_CREDENTIALS": "", GOOGLE_JSON: KEY}
    path = export_google_key(env)
    assert path and env["GOOGLE_APPLICATION_CREDENTIALS"] == path
    Path(path).unlink()
