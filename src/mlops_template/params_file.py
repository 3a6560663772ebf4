"""Edit ``params.yaml`` in place, keeping its comments and layout (ruamel round-trip).

Used by commands that move knobs for the user (``retrain`` moves the training window);
the result is re-parsed so a write can never leave an invalid file behind.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from mlops_template import storage
from mlops_template.config import parse_params


def update(path: str | Path, changes: dict[str, Any]) -> None:
    """Set dotted keys (``split.window.end``) to new values; parents must exist."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    path = Path(path)
    doc = yaml.load(path.read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = doc
        for key in parents:
            node = node[key]
        node[leaf] = value
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    text = buffer.getvalue()
    import yaml as pyyaml

    parse_params(pyyaml.safe_load(text), path)
    storage.write_bytes(text.encode(), path)
