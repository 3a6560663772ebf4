"""The folder decides when a test runs. Every test file under engine/tests/<folder>/ gets the
tier marker registered for <folder> in FOLDERS (what `-m code` and `make test-pythons'` `-m
"code and not slow"` select), so no test file sets its tier by hand and a test cannot land
in a tier by accident:

- a test file in a folder FOLDERS does not name (or directly in engine/tests/) fails its
  collection, naming the folder and this table: a new folder is a decision about when its
  tests run, made once here;
- a test that carries a second tier marker besides its folder's (a `pytestmark` or a
  decorator) fails its collection, naming both: move the file to the folder of its tier.
  Other marks (`slow`, `example`) mean something else and stay per file or per test.

engine/tests/conftest.py registers `FolderTiers(engine/tests)`; docs/testing.md has the table
of where a new test goes. The project's own tests (tests/) are outside it and mark their
tier per file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

# folder under engine/tests -> the tier marker its tests get
FOLDERS: Mapping[str, str] = {
    "unit": "code",  # unit tests mirroring the engine: unit/<package>/test_<module>.py
    "repo": "code",  # checks of the repository as a whole (layers, stage deps, release...)
    "data": "data",  # the data contract on real and corrupted data
    "model": "model",  # model quality, behaviour and determinism
    "pipeline": "pipeline",  # real `dvc repro` runs, the engine's wheel, interrupted stages
    "service": "service",  # BentoML's app and a real `bentoml serve`
    "storage": "storage",  # moto's S3 server: remotes, outages, the prediction log on S3
    "workflows": "workflows",  # the workflow files, act runs, the stand-ins
    "docs": "docs",  # the docs' commands: `make help`, snippets, walkthroughs
    "image": "image",  # the container image under podman
}

# the tiers the project's pyproject.toml does not register (it names the project's own)
DESCRIPTIONS: Mapping[str, str] = {
    "storage": "the engine's object-storage tests on moto's S3 server (engine/tests/storage)",
    "docs": "the engine's checks of the docs' commands (engine/tests/docs)",
    "image": "the container image built and run with podman (engine/tests/image)",
}


class FolderTiers:
    """A pytest plugin giving each test under `base` its folder's tier (see the module's
    docstring). `folders` maps a folder directly under `base` to its tier marker."""

    def __init__(
        self,
        base: Path,
        folders: Mapping[str, str] = FOLDERS,
        descriptions: Mapping[str, str] = DESCRIPTIONS,
    ) -> None:
        self.base = base.resolve()
        self.folders = dict(folders)
        self.tiers = set(self.folders.values())
        self.descriptions = dict(descriptions)

    def pytest_configure(self, config: pytest.Config) -> None:
        known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
        for tier in sorted(self.tiers - known):
            text = self.descriptions.get(tier, f"a tier of {self.base.name}/ (set by folder)")
            config.addinivalue_line("markers", f"{tier}: {text}")

    def folder(self, path: Path) -> str | None:
        """The folder directly under `base` holding `path` ("" for a file directly in
        `base`), or None for a path outside it."""
        try:
            parts = Path(path).resolve().relative_to(self.base).parts
        except ValueError:
            return None
        return parts[0] if len(parts) > 1 else ""

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector):
        """Mark a test module with its folder's tier before its tests are collected; fail
        the collection of a module in a folder with no tier, and of a module or class whose
        tests carry a tier marker other than their folder's."""
        folder = self.folder(collector.path)
        if folder is None:  # outside `base`: the project's own tests, say
            return (yield)
        tier = self.folders.get(folder)
        if tier and isinstance(collector, pytest.Module):
            collector.add_marker(tier)
        report = yield
        problem = None
        if tier is None and isinstance(collector, pytest.Module):
            where = f"{self.base.name}/{folder}/" if folder else f"directly in {self.base.name}/"
            problem = (
                f"{collector.nodeid}: a test file {where}, which has no tier: put it in one of "
                f"the folders {sorted(self.folders)} (docs/testing.md, 'Where a new test goes'), "
                f"or register the folder and its tier marker in FOLDERS ({__file__})"
            )
        elif tier and report.passed:
            clashes = [
                f"{node.nodeid} is marked {other}"
                for node in report.result
                if isinstance(node, pytest.Item)
                and (other := sorted({m.name for m in node.iter_markers()} & self.tiers - {tier}))
            ]
            if clashes:
                problem = (
                    "; ".join(clashes) + f": the folder sets a test's tier ({self.base.name}/"
                    f"{folder}/ is {tier}): move the test to the folder of its tier instead"
                )
        if problem:
            report.outcome = "failed"
            report.longrepr = problem
            report.result = []
        return report
