"""One credentials story for the DVC remote and production storage, the same in every workflow.

Keyless first: in each job with storage steps, a step per cloud trades the job's GitHub OIDC
token for short-lived credentials when its repository variable is set (``KEYLESS``), and
hands them to the storage steps only: AWS's temporary keys as ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``; Google's workload identity as the file
``GOOGLE_APPLICATION_CREDENTIALS`` names; Azure's as the Azure CLI's login, which
dvc-azure/adlfs use without a connection string. Otherwise (and on a fork's PR, which gets
no OIDC token) the static keys below.

The workflows pass the same four repository secrets (Dependabot secrets in runs Dependabot
triggered: see ``secret_store``) as environment variables to every step
that reads or writes remote storage (and to no other step), and each backend reads its own:

| storage | secrets | read by |
|---|---|---|
| S3 (`s3://`) | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` | dvc-s3 / s3fs (boto) |
| GCS (`gs://`) | `GOOGLE_APPLICATION_CREDENTIALS_JSON`: a service account's key | see below |
| Azure (`azure://`, `az://`, ...) | `AZURE_STORAGE_CONNECTION_STRING` | dvc-azure / adlfs |

Google's libraries (dvc-gs, gcsfs) read ``GOOGLE_APPLICATION_CREDENTIALS``, a *file path*; a
GitHub secret holds the key's text. ``export_google_key`` writes it to a private temporary
file and points ``GOOGLE_APPLICATION_CREDENTIALS`` at it, for this process and the ``dvc``
processes it starts. Nothing else in the project reads these variables.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping

GOOGLE_JSON = "GOOGLE_APPLICATION_CREDENTIALS_JSON"
SECRETS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    GOOGLE_JSON,
    "AZURE_STORAGE_CONNECTION_STRING",
)
# Not secret, so repository variables (`vars.`): what every step that gets SECRETS also gets.
# AWS_ENDPOINT_URL points the S3 clients (botocore >= 1.31: boto3, s3fs, dvc-s3) at an
# S3-compatible store (MinIO, Cloudflare R2); empty, as when the variable is not set, they go
# to AWS.
VARIABLES = ("AWS_ENDPOINT_URL",)
# pyproject extra -> (the repository secrets its clients read, the DVC plugin's module):
# what an error about that storage must name.
BACKENDS = {
    "s3": (("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "dvc_s3"),
    "gs": ((GOOGLE_JSON,), "dvc_gs"),
    "azure": (("AZURE_STORAGE_CONNECTION_STRING",), "dvc_azure"),
}
# Keyless first (the workflows' OIDC steps, docs/use-this-template.md step 4): pyproject
# extra -> the repository variable that turns on, for that storage, the trade of each job's
# GitHub OIDC token for short-lived credentials (aws-actions/configure-aws-credentials with a
# role; google-github-actions/auth with workload identity; azure/login federated), handed to
# the same steps as the secrets, which stay the fallback. Temporary AWS keys come with
# AWS_SESSION_TOKEN, which the storage steps get too.
KEYLESS = {"s3": "AWS_ROLE_ARN", "gs": "GCP_WORKLOAD_IDENTITY_PROVIDER", "azure": "AZURE_CLIENT_ID"}
# URL scheme -> the extra whose client reads it: every scheme the clients register with
# fsspec (s3fs: s3, s3a; gcsfs: gs, gcs; adlfs: az, abfs, abfss, adl) and DVC's `azure://`.
# The one table: the Makefile's EXTRAS asks it too (``python3 credentials.py FILE...``).
SCHEMES = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gs",
    "gcs": "gs",
    "azure": "azure",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "adl": "azure",
}


def extra_for(url: str) -> str | None:
    """The pyproject extra whose client reads ``url`` (None: a local path)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return SCHEMES.get(scheme)


def extras_named(text: str) -> list[str]:
    """The extras for every storage URL in ``text`` (a .dvc/config, a params.yaml), sorted;
    ``#`` comments are left out (the template's params.yaml names s3:// in a comment)."""
    urls = re.finditer(r"\b([A-Za-z][A-Za-z0-9+.-]*)://", re.sub(r"#.*", "", text))
    return sorted({e for m in urls if (e := extra_for(m.group(0)))})


DEPENDABOT = "dependabot[bot]"


def secret_store(environ: Mapping[str, str]) -> tuple[str, str]:
    """Which secrets this run gets, and where to add them: a run Dependabot triggered
    (``GITHUB_ACTOR`` is dependabot[bot]; a re-run keeps the first run's actor) reads the
    *Dependabot* secrets, not the Actions secrets (GitHub's "Troubleshooting Dependabot on
    GitHub Actions"), so telling its reader to check the repository secrets misleads."""
    if environ.get("GITHUB_ACTOR") == DEPENDABOT:
        return "Dependabot", (
            " under Settings → Secrets and variables → Dependabot (this run was triggered "
            "by Dependabot, which gets those secrets, not the Actions secrets)"
        )
    return "repository", ""


def what_to_set(url: str, environ: Mapping[str, str] | None = None) -> str:
    """For storage at ``url`` that could not be read: the secrets to set (saying which are
    unset here) and, when its client is not installed, the extra to install."""
    env = os.environ if environ is None else environ
    extra = extra_for(url)
    if extra is None:
        return f"check that {url} exists and is readable from here"
    secrets, module = BACKENDS[extra]
    missing = [name for name in secrets if not env.get(name)]
    store, where = secret_store(env)
    if extra == "s3" and env.get("AWS_SESSION_TOKEN") and not missing:
        told = (
            f"the role's temporary keys are set in this step (from the job's OIDC token, "
            f"repository variable {KEYLESS[extra]}): check that the role's policy allows "
            f"{url} and that the bucket exists"
        )
    else:
        told = f"set the {store} secret(s) {' and '.join(secrets)}{where} for {url}"
        told += (
            f" ({', '.join(missing)} not set in this step)"
            if missing
            else " (they are set: check their values and that the bucket exists)"
        )
        if missing:
            told += (
                f", or keyless: the repository variable {KEYLESS[extra]} "
                "(docs/use-this-template.md, step 4)"
            )
    if extra == "s3" and not env.get("AWS_ENDPOINT_URL"):
        told += (
            "; an S3-compatible store (MinIO, R2) also needs the repository variable "
            "AWS_ENDPOINT_URL (unset in this step: the requests went to AWS)"
        )
    if importlib.util.find_spec(module) is None:
        told += (
            f"; its client is not installed: `uv sync --extra {extra}` "
            f"(`make` installs it when .dvc/config names {url.split('://', 1)[0]}://)"
        )
    return told


# What the storage clients say when the storage could not be reached at all (as opposed to
# refusing the request): botocore (S3), aiohttp (gcsfs), azure-core and urllib3 (adlfs).
UNREACHABLE = (
    "Could not connect to the endpoint URL",
    "Connection was closed before we received a valid response",
    "Connect timeout on endpoint URL",
    "Read timeout on endpoint URL",
    "Cannot connect to host",
    "Failed to establish a new connection",
    "Connection reset by peer",
)


def storage_advice(url: str, output: str | None, environ: dict[str, str] | None = None) -> str:
    """What to do about storage at ``url`` that failed a transfer, from what the client said
    (``output``; None when it went to a terminal unread): an outage is not a credentials
    problem, and telling someone to check secrets that are right sends them the wrong way."""
    if output is not None and any(sign in output for sign in UNREACHABLE):
        return (
            f"{url} could not be reached (the storage or the network to it is down, or "
            "AWS_ENDPOINT_URL points elsewhere); re-run once it is reachable"
        )
    told = what_to_set(url, environ)
    if output is None:
        told += " (or the storage could not be reached: dvc's message above says which)"
    return told


def export_google_key(environ: dict[str, str] | None = None) -> str | None:
    """Write $GOOGLE_APPLICATION_CREDENTIALS_JSON to a 0600 file and set
    GOOGLE_APPLICATION_CREDENTIALS to it (unless that is already set: workload identity's
    file, google-github-actions/auth's, wins); its path, or None."""
    env = os.environ if environ is None else environ
    if env.get("GOOGLE_APPLICATION_CREDENTIALS") == "":
        # a workflow step's `steps.gcp.outputs.credentials_file_path` when workload identity
        # is off: Google's libraries would try to open "" (DefaultCredentialsError)
        del env["GOOGLE_APPLICATION_CREDENTIALS"]
    text = env.get(GOOGLE_JSON, "").strip()
    if not text or env.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return None
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{GOOGLE_JSON} is not a JSON key (paste the whole service-account key file): {err}"
        ) from err
    fd, path = tempfile.mkstemp(prefix="gcp-key-", suffix=".json")  # created 0600
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    env["GOOGLE_APPLICATION_CREDENTIALS"] = path
    return path


# Which workflow steps need SECRETS, declared here and checked against the code and the
# workflows by tests/workflows/test_storage_secrets.py: the functions that reach remote storage
# (a DVC remote, the production sinks of params.yaml), and the `mlops` commands that call
# one of them. A step gets the secrets exactly when its make target runs such a command.
STORAGE_ACCESS = (
    "mlops_engine.pipeline.reproduce.reproduce",  # dvc pull / repro --pull / push
    "mlops_engine.ci.champion._reproduce_model",  # the base's `dvc repro --pull train`
    "mlops_engine.serving.prediction_log.read_logs",  # production sinks (fsspec)
    "mlops_engine.serving.prediction_log.write_batch",
)
STORAGE_COMMANDS = {
    "repro": "dvc pull, repro --pull, push (--push)",
    "gate": "re-scores the base's model: `dvc repro --pull train` in its worktree",
    "report": "the gate's comparison, re-scoring the base's model the same way",
    "monitor": "reads the prediction logs and labelled rows from the production sinks",
    "retrain": "reads the labelled rows, then `dvc repro --pull` and `dvc push`",
}
# Reaches storage code, but never with credentials: the demo stream refuses a remote sink
# (`mlops replay`), so it can never write into real production storage.
LOCAL_ONLY = {"replay": "the demo stream writes only to local sinks"}


if __name__ == "__main__":
    # The Makefile's EXTRAS: python3 engine/src/mlops_engine/credentials.py .dvc/config params.yaml
    # (standard library only, so any Python 3 runs it before the environment exists).
    from pathlib import Path

    named = [
        extra for path in map(Path, sys.argv[1:]) if path.exists()
        for extra in extras_named(path.read_text(encoding="utf-8"))
    ]  # fmt: skip
    print(" ".join(sorted(set(named))))  # noqa: T201
