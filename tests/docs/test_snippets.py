"""Every command in a ```sh block of the README and docs/ is checked against the real tool,
so a renamed target, command or option breaks the build instead of the reader.

What runs: `make -n TARGET VAR=...` (make resolves the target and its recipe without
running it), the `mlops` parser on the exact arguments, `dvc ... --help` and
`git SUB -h` for their sub-commands. The quickstart itself (`make run`, `make test`,
`make init`) runs for real in `.ci/run` and `tests/workflows/test_template.py`. Commands
for services that do not exist here (GitHub's `gh`, npm's `cml`, a cluster's `kubectl`)
are listed in NOT_HERE with the reason and checked only for being listed.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from mlops_template.cli import build_parser
from tests.project import BIN, ROOT, env
from tests.workflows.act import uv_bin_dir

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
NOT_HERE = {
    "gh": "GitHub's CLI needs GitHub (the retraining PR calls are tested with a stand-in)",
    "cml": "npm's @dvcorg/cml is not reachable here (tested with a stand-in in workflows)",
    "kubectl": "needs a cluster (the manifests are schema-validated in tests/service)",
    "curl": "needs `make serve` running (tests/service starts the real server)",
    "cd": "shell built-in",
}


def commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in BLOCK.findall(doc.read_text()):
            pending = ""
            for raw in block.replace("\\\n", " ").splitlines():
                line = (pending + " " + raw).strip() if pending else raw.strip()
                try:
                    shlex.split(line, comments=True)
                except ValueError:  # a quoted argument spans lines (JSON in curl -d)
                    pending = line
                    continue
                pending = ""
                code = shlex.join(shlex.split(line, comments=True))
                if code:
                    found.append((doc.name, line.split(" #", 1)[0].strip()))
    return found


COMMANDS = commands()


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
