"""GitHub Actions' step files: ``$GITHUB_OUTPUT`` (outputs later steps and jobs read) and
``$GITHUB_STEP_SUMMARY`` (markdown on the run's page). Both are appended to, never
rewritten, since other commands of the same step may have written there; off the runner
the path is None and nothing is written."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def add_outputs(path: str | Path | None, outputs: Mapping[str, object]) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.writelines(f"{k}={v}\n" for k, v in outputs.items())


def add_summary(path: str | Path | None, markdown: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown)
