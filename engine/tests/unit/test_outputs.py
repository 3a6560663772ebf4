"""dvc.yaml and dvc.lock as the engine reads them: the same values as PyYAML's safe loader,
parsed by libyaml, and DVC's own reads parsed in C too (docs/performance.md)."""

from __future__ import annotations

import ast

import pytest
import yaml

from mlops_engine import outputs
from tests.project import ROOT

PACKAGE = ROOT / "engine" / "src" / "mlops_engine"


@pytest.mark.parametrize("name", ["dvc.lock", "dvc.yaml"])
def test_load_yaml_reads_what_safe_load_reads_with_libyaml(name):
    text = (ROOT / name).read_text()
    assert outputs.load_yaml(text) == yaml.safe_load(text)
    assert outputs.load_yaml("k: no\nv: 0o17\nx: 1e3\n") == yaml.safe_load(
        "k: no\nv: 0o17\nx: 1e3\n"
    )
    assert outputs._LOADER is yaml.CSafeLoader, "PyYAML without libyaml: the pure parser"


def test_dvc_parses_its_yaml_in_c():
    """ruamel.yaml 0.19 installs no C parser of its own; the engine's `ruamel.yaml[oldlibyaml]`
    does, and DVC's safe loads (dvc.yaml, dvc.lock, params.yaml on every command) use it."""
    from dvc.utils.serialize._yaml import parse_yaml
    from ruamel.yaml import YAML, main

    assert main.CParser is not None, "ruamel.yaml.clib is missing"
    assert YAML(typ="safe").Parser is main.CParser
    assert parse_yaml((ROOT / "params.yaml").read_text(), "params.yaml") == YAML(
        typ="safe", pure=True
    ).load((ROOT / "params.yaml").read_text())


def _safe_loads(path) -> list[tuple[int, str]]:
    """`x.safe_load(...)` and `YAML(..., pure=...)` calls in a module, by line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name == "safe_load" or (name == "YAML" and any(k.arg == "pure" for k in node.keywords)):
            found.append((node.lineno, name))
    return found


def test_the_engine_parses_yaml_through_the_c_parsers():
    """A `yaml.safe_load` (PyYAML's pure-Python parser) or a `YAML(pure=True)` in the
    package reads the thousand-line dvc.lock ~10x slower; outputs.load_yaml is the one way."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line} {what}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, what in _safe_loads(path)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_safe_load(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import yaml\nyaml.safe_load('a: 1')\n"
        "from ruamel.yaml import YAML\nYAML(typ='safe', pure=True)\n"
    )
    assert [line for line, _ in _safe_loads(module)] == [2, 4]
