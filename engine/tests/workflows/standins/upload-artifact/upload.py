"""upload-artifact stand-in: what actions/upload-artifact v7.0.0 (src/upload/upload-artifact.ts
run(), read from github:actions/upload-artifact at tag v7.0.0) does with the run's artifacts.

- The paths' files are found first. None: no artifact is made, with the action's message as
  a warning (`if-no-files-found: warn`, the default), a failure (`error`) or a note
  (`ignore`).
- Artifact names are unique within a workflow RUN, across its attempts: "Re-run failed jobs"
  runs in the same run (same GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT + 1), where the first
  attempt's artifacts still are. A name already uploaded in the run is refused by GitHub's
  backend with 409, which @actions/artifact reports as "Failed to CreateArtifact: Received
  non-retryable error: Failed request: (409) Conflict: an artifact with this name already
  exists on the workflow run" (toolkit packages/artifact/src/internal/shared/
  artifact-twirp-client.ts; the message verbatim in actions/upload-artifact#634), unless
  `overwrite: true`, with which the action deletes the existing artifact first
  (deleteArtifactIfExists).
- The files are stored relative to their least common ancestor (findFilesToUpload's
  rootDirectory).

Storage: $STANDIN_ARTIFACTS/.runs/<GITHUB_RUN_ID>/<name>/ is the run's artifact, which the
download-artifact stand-in reads; $STANDIN_ARTIFACTS/<name>/ is a copy of the newest upload
of that name, for the tests to read.
"""

import os
import shutil
import sys
from pathlib import Path

name = os.environ["NAME"]
search = [p.strip() for p in os.environ["PATHS"].splitlines() if p.strip()]
paths = [Path(p).resolve() for p in search]
paths = [p for p in paths if p.exists()]
if not paths:
    message = (
        f"No files were found with the provided path: {' '.join(search)}. "
        "No artifacts will be uploaded."
    )
    mode = os.environ.get("IF_NO_FILES_FOUND", "warn")
    if mode == "error":
        print(f"::error::{message}")
        sys.exit(1)
    print(f"::warning::{message}" if mode == "warn" else message)
    sys.exit(0)
artifacts = Path(os.environ["STANDIN_ARTIFACTS"])
stored = artifacts / ".runs" / os.environ["GITHUB_RUN_ID"] / name
if stored.exists():
    if os.environ.get("OVERWRITE", "false").strip().lower() != "true":
        print(
            "::error::Failed to CreateArtifact: Received non-retryable error: Failed request: "
            "(409) Conflict: an artifact with this name already exists on the workflow run"
        )
        sys.exit(1)
    shutil.rmtree(stored)
root = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in paths]))
if len(paths) == 1 and paths[0].is_dir():
    root = paths[0]
for p in paths:
    target = stored / p.relative_to(root)
    if p.is_dir():
        shutil.copytree(p, target, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, target)
latest = artifacts / name
shutil.rmtree(latest, ignore_errors=True)
shutil.copytree(stored, latest)
with open(os.environ["GITHUB_OUTPUT"], "a") as out:
    out.write(f"url=file://{stored}\n")
