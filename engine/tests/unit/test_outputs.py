"""dvc.yaml and dvc.lock as the engine reads them: the same values as PyYAML's safe loader,
parsed by libyaml, and DVC's own reads parsed in C too (docs/performance.md; the static
check that the package parses no other way: repo/test_layers.py)."""

from __future__ import annotations

import pytest
import yaml

from mlops_engine import outputs
from tests.project import ROOT


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
