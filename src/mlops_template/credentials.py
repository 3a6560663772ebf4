"""One credentials story for the DVC remote and production storage, the same in every workflow.

The workflows pass the same four repository secrets as environment variables to every step
that reads or writes remote storage, and each backend reads its own:

| storage | secrets | read by |
|---|---|---|
| S3 (`s3://`) | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` | dvc-s3 / s3fs (boto) |
| GCS (`gs://`) | `GOOGLE_APPLICATION_CREDENTIALS_JSON`: a service account's key | see below |
| Azure (`azure://`) | `AZURE_STORAGE_CONNECTION_STRING` | dvc-azure / adlfs |

Google's libraries (dvc-gs, gcsfs) read ``GOOGLE_APPLICATION_CREDENTIALS``, a *file path*; a
GitHub secret holds the key's text. ``export_google_key`` writes it to a private temporary
file and points ``GOOGLE_APPLICATION_CREDENTIALS`` at it, for this process and the ``dvc``
processes it starts. Nothing else in the project reads these variables.
"""

from __future__ import annotations

import json
import os
import tempfile

GOOGLE_JSON = "GOOGLE_APPLICATION_CREDENTIALS_JSON"
SECRETS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    GOOGLE_JSON,
    "AZURE_STORAGE_CONNECTION_STRING",
)


def export_google_key(environ: dict[str, str] | None = None) -> str | None:
    """Write $GOOGLE_APPLICATION_CREDENTIALS_JSON to a 0600 file and set
    GOOGLE_APPLICATION_CREDENTIALS to it (unless that is already set); its path, or None."""
    env = os.environ if environ is None else environ
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
