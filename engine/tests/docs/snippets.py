"""The shell commands the docs show: every ```sh block of the README and docs/, in order.

A command is one line of a block (backslash continuations and quoted arguments that span
lines are joined), without its trailing comment. Comment-only lines right after a command
are what the docs say it prints (`Command.shows`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from tests.project import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


@dataclass(frozen=True)
class Command:
    doc: str
    text: str
    shows: str = ""


def blocks(doc: Path) -> list[list[Command]]:
    found = []
    for block in BLOCK.findall(doc.read_text()):
        commands: list[Command] = []
        pending = ""
        for raw in block.replace("\\\n", " ").splitlines():
            line = (pending + " " + raw).strip() if pending else raw.strip()
            try:
                shlex.split(line, comments=True)
            except ValueError:  # a quoted argument spans lines (JSON in curl -d)
                pending = line
                continue
            pending = ""
            if line.startswith("#"):
                if commands:
                    last = commands[-1]
                    shown = (last.shows + "\n" + line[1:].strip()).strip()
                    commands[-1] = Command(last.doc, last.text, shown)
                continue
            if line:
                commands.append(Command(doc.name, line.split(" #", 1)[0].strip()))
        found.append(commands)
    return found


def all_commands() -> list[Command]:
    return [c for doc in DOCS for block in blocks(doc) for c in block]
