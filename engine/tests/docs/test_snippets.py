"""A fast first check of every command in a ```sh block of the README and docs/: a renamed
target, command or option fails here in seconds, before the walkthroughs
(tests/docs/test_walkthroughs.py) run the same commands for real.

What runs: `make -n TARGET VAR=...` (make resolves the target and its recipe without
running it), the `mlops` parser on the exact arguments, `dvc ... --help` and
`git SUB -h` for their sub-commands.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from mlops_engine.cli import build_parser
from mlops_engine.commands import COMMANDS as MLOPS_COMMANDS
from tests.docs.snippets import all_commands
from tests.project import BIN, ROOT, env
from tests.workflows.act import uv_bin_dir

NOT_HERE = {
    "gh": "GitHub's CLI needs GitHub (the walkthroughs run it against a stand-in)",
    "kubectl": "needs a cluster (the walkthroughs render and validate the manifests)",
    "curl": "needs `make serve` running (the README walkthrough starts it)",
    "cd": "shell built-in",
}


COMMANDS = [(c.doc, c.text) for c in all_commands()]


def test_the_docs_show_commands():
    assert len(COMMANDS) > 20
    assert ("README.md", "make run") in COMMANDS and ("README.md", "make test") in COMMANDS


def _check(words: list[str]) -> None:
    if words[:2] == ["uv", "run"]:
        words = words[2:]
    tool = words[0]
    if tool == "make":
        proc = subprocess.run(
            ["make", "-n", *words[1:]], cwd=ROOT, env=env(), capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
    elif tool == "mlops":
        build_parser().parse_args(words[1:])
    elif tool == "dvc":
        sub = []
        for w in words[1:]:
            if w.startswith("-") or "/" in w or "=" in w or "." in w:
                break
            sub.append(w)
        proc = subprocess.run(
            [str(BIN / "dvc"), *sub[:2], "--help"], cwd=ROOT, env=env(), capture_output=True
        )
        assert proc.returncode == 0, (sub, proc.stderr)
    elif tool == "git":
        proc = subprocess.run(["git", words[1], "-h"], cwd=ROOT, capture_output=True, text=True)
        assert "usage: git" in proc.stdout + proc.stderr, words
    elif tool == "uv":
        uv = str(Path(uv_bin_dir()) / "uv")
        proc = subprocess.run([uv, words[1], "--help"], capture_output=True, env=env())
        assert proc.returncode == 0, words
    else:
        assert tool in NOT_HERE, f"unknown command in the docs: {' '.join(words)}"


@pytest.mark.parametrize(("doc", "line"), COMMANDS, ids=[f"{d}:{c}" for d, c in COMMANDS])
def test_every_documented_command_exists(doc, line):
    for part in re.split(r"\s*&&\s*", line):
        _check(shlex.split(part))


def _table_names(header: str) -> set[str]:
    """Backticked names in the first column of docs/commands.md's table starting with ``header``."""
    text = (ROOT / "docs" / "commands.md").read_text()
    table = text[text.index(header) :].split("\n\n", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines()[2:]]
    return {name for cell in rows for name in re.findall(r"`([^`]+)`", cell)}


def test_the_commands_tables_list_every_target_and_command():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))
    assert _table_names("| make target |") == targets
    build_parser()  # registers every command
    assert _table_names("| `mlops` command |") == set(MLOPS_COMMANDS)
