"""`make help`, the first thing a newcomer runs: every documented target, each description
starting in the same column, and variables shown as a shell spells them (`$BASE_REF`), not
as the Makefile escapes them (`$$BASE_REF`)."""

from __future__ import annotations

import re
import subprocess

from tests.project import ROOT

COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _help() -> list[str]:
    out = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [COLOUR.sub("", line) for line in out.splitlines() if line.strip()]


def _documented() -> dict[str, str]:
    makefile = (ROOT / "Makefile").read_text()
    found = re.findall(r"^([a-zA-Z_-]+):.*?## (.*)$", makefile, re.M)
    return {name: text.replace("$$", "$") for name, text in found}


def test_help_lists_every_documented_target_once():
    names = [line.split()[0] for line in _help()]
    assert names == list(_documented())
    assert "test-data-model" in names  # the longest name, 15 characters


def test_descriptions_start_in_one_column_after_the_longest_name():
    lines = _help()
    width = max(len(name) for name in _documented())
    starts = {
        line.index(text, 2 + len(name))
        for line, (name, text) in zip(lines, _documented().items(), strict=True)
    }
    assert starts == {2 + width + 1}, lines


def test_variables_are_printed_as_the_shell_spells_them():
    text = "\n".join(_help())
    assert "$$" not in text
    assert "vs $BASE_REF into" in text and "outputs to $GITHUB_OUTPUT" in text
    assert "$IMAGE:{$MODEL_VERSION,$COMMIT}" in text
