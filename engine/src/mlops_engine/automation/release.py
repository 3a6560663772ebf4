"""What an engine release ships, checked before it is published (release.yml, ``make
engine-dist``): the wheel and the sdist ``uv build --package mlops-engine`` made, their
metadata as PyPI will show it, and the tag that triggered the release.

It refuses, naming the field: a version that is not engine/pyproject.toml's or the tag's
(``engine-vX.Y.Z``), a dependency pyproject declares that the wheel does not require, a
missing README (PyPI's page), console script, pytest plugin or template of the reports'
wording (``mlops_engine/templates/``, package data), test files in the wheel, or not exactly
one wheel and one sdist. The publishing itself (PyPI trusted publishing, build
provenance) happens only on GitHub; everything before it runs here.
"""

from __future__ import annotations

import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

TAG_PREFIX = "engine-v"


def check(dist: Path, pyproject: Path, tag: str | None = None) -> list[str]:
    """Problems found (empty: ready to publish)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    name, version = project["name"], project["version"]
    stem = name.replace("-", "_")
    wheels = sorted(dist.glob(f"{stem}-*.whl"))
    sdists = sorted(dist.glob(f"{stem}-*.tar.gz"))
    problems: list[str] = []
    if len(wheels) != 1 or len(sdists) != 1:
        return [f"{dist}: expected one wheel and one sdist of {name}, found {wheels + sdists}"]
    if tag is not None and tag != f"{TAG_PREFIX}{version}":
        problems.append(f"tag {tag!r} is not {TAG_PREFIX}{version} (engine/pyproject.toml)")
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        info = f"{stem}-{version}.dist-info"
        if f"{info}/METADATA" not in names:
            return [*problems, f"{wheels[0].name}: no {info}/METADATA (version {version}?)"]
        meta = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        points = (
            wheel.read(f"{info}/entry_points.txt").decode()
            if (f"{info}/entry_points.txt" in names)
            else ""
        )
    if meta["Name"] != name or meta["Version"] != version:
        problems.append(f"METADATA: Name/Version {meta['Name']} {meta['Version']}")
    if SpecifierSet(meta["Requires-Python"] or "") != SpecifierSet(project["requires-python"]):
        problems.append(f"METADATA: Requires-Python {meta['Requires-Python']}")
    if meta["Description-Content-Type"] != "text/markdown" or len(meta.get_payload()) < 200:
        problems.append("METADATA: no README as the long description (PyPI's page)")
    required = {
        canonicalize_name(r.name): r.specifier
        for r in map(Requirement, meta.get_all("Requires-Dist") or [])
        if r.marker is None
    }
    for dependency in map(Requirement, project["dependencies"]):
        if required.get(canonicalize_name(dependency.name)) != dependency.specifier:
            problems.append(f"METADATA: Requires-Dist lacks {dependency}")
    for entry in ("mlops = mlops_engine.cli:main", "mlops_engine = mlops_engine.testing"):
        if entry not in points:
            problems.append(f"entry_points.txt: no `{entry}`")
    if f"{stem}/__init__.py" not in names:
        problems.append(f"{wheels[0].name}: no {stem}/__init__.py")
    if any(n.startswith(("tests/", "benchmarks/")) for n in names):
        problems.append(f"{wheels[0].name}: ships the engine's tests or benchmarks")
    # package data: the reports' wording (templating.py renders them from the installed package)
    sources = pyproject.parent / "src" / stem / "templates"
    for template in sorted(p.name for p in sources.glob("*.md.j2")):
        if f"{stem}/templates/{template}" not in names:
            problems.append(f"{wheels[0].name}: no {stem}/templates/{template}")
    return problems
