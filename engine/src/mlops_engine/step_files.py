"""GitHub Actions' step files: ``$GITHUB_OUTPUT`` (outputs later steps and jobs read) and
``$GITHUB_STEP_SUMMARY`` (markdown on the run's page). Both are appended to, never
rewritten, since other commands of the same step may have written there; off the runner
the path is None and nothing is written.

GitHub drops a step's whole job summary when its file exceeds 1 MiB, counted in bytes (the
runner's ``AttachmentSizeLimit``, "$GITHUB_STEP_SUMMARY upload aborted, supports content up
to a size of 1024k"): ``add_summary`` keeps the file within it, counting UTF-8 bytes (a
"✅" is 3), and shortens what would not fit with ``caps.cap``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mlops_engine.caps import SUMMARY_LIMIT, cap


def add_outputs(path: str | Path | None, outputs: Mapping[str, object]) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.writelines(f"{k}={v}\n" for k, v in outputs.items())


def add_summary(
    path: str | Path | None, markdown: str, where: str = "this step's log and artifacts"
) -> None:
    """Append ``markdown``; what would take the step's file past ``SUMMARY_LIMIT`` bytes is
    shortened (``where``: where the whole text is, named in the pointer it leaves)."""
    if not path:
        return
    used = Path(path).stat().st_size if Path(path).exists() else 0
    room = SUMMARY_LIMIT - used
    if len(markdown.encode("utf-8")) > room:
        markdown = cap(markdown, where, room, unit="bytes") if room > 1000 else ""
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
