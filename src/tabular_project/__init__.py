"""The project a team owns: what it edits to fit its own table. The engine (``mlops_engine``)
finds this package through the entry point in pyproject.toml and imports it once, which
registers the derived features and model families below. Where to change what: README.md.
"""

from tabular_project.features import *  # noqa: F403  (registers the derived features)
from tabular_project.model import ESTIMATORS

__all__ = ["ESTIMATORS"]
