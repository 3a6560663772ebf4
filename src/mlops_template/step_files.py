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


def annotation(level: str, title: str, message: str) -> str:
    """A workflow command line (``::warning title=...::message``) that GitHub shows as an
    annotation on the run's page. The message may span lines: GitHub's escaping (``%``,
    CR, LF as ``%25``, ``%0D``, ``%0A``; the title also ``:`` and ``,``) keeps it one
    command, as actions/toolkit's command.ts does."""

    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    prop = data(title).replace(":", "%3A").replace(",", "%2C")
    return f"::{level} title={prop}::{data(message)}"
