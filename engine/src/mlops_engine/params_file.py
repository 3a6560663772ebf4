"""Edit ``params.yaml`` in place, keeping its comments and layout (ruamel round-trip).

Used by commands that move knobs for the user (``retrain`` moves the training window,
``init`` writes a new contract). The result is re-parsed before anything is written, so a
change can never leave an invalid file behind.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from mlops_engine import storage
from mlops_engine.config import parse_params, read_yaml
from mlops_engine.outputs import load_yaml


def _quoted(value: Any) -> Any:
    """Quote strings YAML 1.1 readers would turn into something else (``No`` -> False)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, dict):
        return {k: _quoted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_quoted(v) for v in value]
    if isinstance(value, str) and load_yaml(f"k: {value}")["k"] != value:
        return DoubleQuotedScalarString(value)
    return value


def _set_comment(node: Any, key: str, text: str | None) -> None:
    """Replace the end-of-line comment of ``key`` (None: remove it), keeping what the same
    token carries after the line: blank lines and the comment block above the next key."""
    token = node.ca.items.get(key)
    eol = token[2] if token and len(token) > 2 else None
    if eol is None:
        if text:
            node.yaml_add_eol_comment(f"# {text}", key)
        return
    rest = eol.value.split("\n", 1)[1] if "\n" in eol.value else ""
    eol.value = (f"# {text}" if text else "") + "\n" + rest


def render(
    path: str | Path, changes: dict[str, Any], comments: dict[str, str | None] | None = None
) -> str:
    """params.yaml with dotted keys (``split.window.end``) set and, in ``comments``, their
    end-of-line comments replaced (None removes one); raises if the result is invalid."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    path = Path(path)
    doc = yaml.load(path.read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = doc
        for key in parents:
            node = node[key]
        node[leaf] = _quoted(value)
    for dotted, text in (comments or {}).items():
        *parents, leaf = dotted.split(".")
        node = doc
        for key in parents:
            node = node[key]
        if leaf in node:
            _set_comment(node, leaf, text)
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    text = buffer.getvalue()
    parse_params(read_yaml(text), path)
    return text


def update(path: str | Path, changes: dict[str, Any]) -> None:
    storage.write_bytes(render(path, changes).encode(), path)
