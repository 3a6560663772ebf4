"""Derived features: the machinery; the features themselves are the project's (its
``features.py``, found through ``mlops_engine.project``).

Add a derived feature here, not in ``ingest``: a column ``ingest`` adds becomes a contract
column, so the service would require clients to send it. A function registered here runs
as the first step of the model's scikit-learn ``Pipeline`` (``DeriveFeatures``), so training,
evaluation, the drift checks and the service all compute it the same way from the raw
request, and clients never send it.

To add one: write a function of the raw frame returning a Series, register it with
``@derived("name", "numeric")`` (or ``"categorical"``), and list its name under
``contract.derived`` in ``params.yaml``. The ``train`` stage depends on this module
(``dvc.yaml``), so ``make run`` retrains. With ``contract.derived`` empty (the default) the
pipeline has no extra step and the model's bytes are what they were without this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlops_engine import project

Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class Derived:
    name: str
    kind: Kind
    compute: Callable[[pd.DataFrame], pd.Series]
    inputs: tuple[str, ...]  # the raw columns it reads


DERIVED: dict[str, Derived] = {}


def derived(name: str, kind: Kind, inputs: tuple[str, ...]):
    """Register ``fn(frame) -> Series`` as the derived column ``name``."""

    def register(fn: Callable[[pd.DataFrame], pd.Series]) -> Callable[[pd.DataFrame], pd.Series]:
        DERIVED[name] = Derived(name, kind, fn, inputs)
        return fn

    return register


def resolve(names: tuple[str, ...], raw_columns: list[str]) -> list[Derived]:
    """The registered features ``contract.derived`` names; a clear error for anything else."""
    project.load()  # the project's @derived functions register on import
    unknown = [n for n in names if n not in DERIVED]
    if unknown:
        raise ValueError(
            f"contract.derived: {unknown} not defined in the project's features.py "
            f"(package {project.name()}; defined: {sorted(DERIVED)})"
        )
    found = [DERIVED[n] for n in names]
    for feature in found:
        missing = [c for c in feature.inputs if c not in raw_columns]
        if missing:
            raise ValueError(
                f"contract.derived: {feature.name!r} reads {missing}, which are not contract "
                "columns (features)"
            )
        if feature.name in raw_columns:
            raise ValueError(
                f"contract.derived: {feature.name!r} is also a contract column; rename one"
            )
    return found


class DeriveFeatures(TransformerMixin, BaseEstimator):
    """The fitted pipeline's first step: the raw frame plus the derived columns."""

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        self.names = names

    def fit(self, X: pd.DataFrame, y=None) -> DeriveFeatures:
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        if self.names:
            project.load()  # a model unpickled in a fresh process: register the functions
        for name in self.names:
            out[name] = DERIVED[name].compute(X).to_numpy()
        return out

    def get_feature_names_out(self, input_features=None):
        return [*(input_features if input_features is not None else []), *self.names]
