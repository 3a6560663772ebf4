"""Every module of the engine and of the project imports on this Python.

The cheapest check that a Python at either end of the supported range (requires-python)
can run the code at all: a syntax or standard-library name newer than that Python, or an
import-time error, fails here naming the module. `.ci/run` runs this, with the core's unit
tests, on the oldest supported Python beside the suite (docs/testing.md)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import mlops_engine
import tabular_project


def _modules(package) -> list[str]:
    return [package.__name__] + [
        m.name for m in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    ]


@pytest.mark.parametrize("name", _modules(mlops_engine) + _modules(tabular_project))
def test_the_module_imports(name):
    importlib.import_module(name)
