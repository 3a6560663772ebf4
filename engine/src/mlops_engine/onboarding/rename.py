"""Renaming the project's package: its folder, its distribution's name and the entry point the
engine finds it by (``mlops_engine.project``), with every reference to it in the project's own
files (its imports, ``dvc.yaml``'s deps, the README). Engine code is never touched: the
engine only knows the entry point.

It refuses, naming why, a name that is not a lowercase Python identifier, one that shadows a
module the environment already has (``pandas``, ``mlops_engine``), and a project whose
package folder or entry point is not where pyproject.toml says. The lock file records the
distribution's name: the Makefile target runs ``uv lock`` after it.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mlops_engine import project

# The project's own files that may name the package (never anything under engine/)
TEXT_FILES = ("pyproject.toml", "dvc.yaml", "README.md", "Makefile")


@dataclass(frozen=True)
class Renamed:
    old: str
    new: str
    files: tuple[str, ...]  # the files rewritten, relative to the project's root


def current_package(root: Path) -> str:
    """The package pyproject.toml's entry point names (``hooks = "<package>"``)."""
    doc = tomllib.loads((root / "pyproject.toml").read_text())
    points = doc.get("project", {}).get("entry-points", {}).get(project.GROUP, {})
    if "hooks" not in points:
        raise ValueError(
            f'pyproject.toml has no [project.entry-points."{project.GROUP}"] hooks = "<package>"'
        )
    return points["hooks"]


def check_name(name: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ValueError(
            f"package name {name!r}: use a lowercase Python identifier (letters, digits, _)"
        )
    if importlib.util.find_spec(name) is not None:
        raise ValueError(f"package name {name!r} is already a module in this environment")


def rename(root: Path, new: str) -> Renamed:
    old = current_package(root)
    if new == old:
        return Renamed(old, new, ())
    check_name(new)
    source = root / "src" / old
    if not source.is_dir():
        raise ValueError(f"the entry point names {old!r}, but src/{old}/ does not exist")
    if (root / "src" / new).exists():
        raise ValueError(f"src/{new} already exists")
    word = re.compile(rf"\b{re.escape(old)}\b")
    dist_old, dist_new = old.replace("_", "-"), new.replace("_", "-")
    changed: list[str] = []
    source.rename(root / "src" / new)
    python = sorted((root / "src" / new).rglob("*.py")) + sorted((root / "tests").rglob("*.py"))
    for path in [*python, *(root / f for f in TEXT_FILES)]:
        if not path.exists() or "__pycache__" in path.parts:
            continue
        text = path.read_text()
        out = word.sub(new, text)
        if path.name == "pyproject.toml":
            out = re.sub(
                rf'^name = "{re.escape(dist_old)}"$', f'name = "{dist_new}"', out, flags=re.M
            )
        if out != text:
            path.write_text(out)
            changed.append(str(path.relative_to(root)))
    return Renamed(old, new, (f"src/{old} -> src/{new}", *changed))
