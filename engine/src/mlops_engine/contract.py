"""The data contract: one declaration of what a valid dataset looks like.

The contract is declared in the ``contract`` section of ``params.yaml`` and turned here
into the objects that enforce it: a pandera schema for the validate stage and the tests,
and (in the service) the request model. Keeping every consumer on this one module is what
stops the pipeline, the tests and the service from disagreeing about the data.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DType = Literal["int", "float", "bool", "category", "datetime"]
Task = Literal["regression", "classification"]

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

# The columns the service adds to each logged prediction (serving/prediction_log.py), and the
# request's envelope: the drift checks, the demo stream and retraining read the same names,
# and no feature may be called any of them (onboarding checks a new table's columns).
LOGGED_AT, PREDICTION, VERSION = "logged_at", "prediction", "model_version"
RESERVED = frozenset({LOGGED_AT, PREDICTION, VERSION, "probabilities", "records"})

_PANDAS_DTYPES: dict[str, str] = {
    "int": "int64",
    "float": "float64",
    "bool": "bool",
    "category": "str",
    "datetime": "datetime64[ns]",
}


class ColumnSpec(BaseModel):
    """What one column must hold. Ranges are inclusive; ``categories`` is a closed set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dtype: DType
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] | None = None
    nullable: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        if self.categories is not None and self.dtype != "category":
            raise ValueError("'categories' is only allowed for dtype 'category'")
        if (self.min is not None or self.max is not None) and self.dtype not in ("int", "float"):
            raise ValueError("'min'/'max' are only allowed for numeric dtypes")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Contract(BaseModel):
    """The dataset as a whole: its columns, target, time axis and size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Task
    target: str
    time_column: str | None = None
    columns: dict[str, ColumnSpec]
    min_rows: int = Field(default=100, ge=1)
    unique: tuple[str, ...] = ()
    allow_duplicate_rows: bool = False
    """Some real data repeats whole rows legitimately (two identical purchases)."""
    derived: tuple[str, ...] = ()
    """Derived features the model computes from the raw columns
    (``mlops_engine.pipeline.features``): inputs of the model, never of a request, never
    validated as data."""
    leakage_confirmed: tuple[str, ...] = ()
    """Features that alone predict the target almost perfectly and that the user confirms
    are known at prediction time (see ``mlops_engine.pipeline.leakage``); any other such feature
    stops ``mlops init`` and fails the data tests. Not checked against ``columns``: it is
    set before ``mlops init`` writes the new table's columns."""

    @model_validator(mode="after")
    def _target_and_time_declared(self) -> Contract:
        if self.target not in self.columns:
            raise ValueError(f"target '{self.target}' is not declared in contract.columns")
        if self.columns[self.target].nullable:
            raise ValueError(f"target '{self.target}' must not be nullable")
        if self.time_column is not None:
            spec = self.columns.get(self.time_column)
            if spec is None or spec.dtype != "datetime":
                raise ValueError(
                    f"time_column '{self.time_column}' must be declared with dtype 'datetime'"
                )
        missing = [c for c in self.unique if c not in self.columns]
        if missing:
            raise ValueError(f"unique refers to undeclared columns: {missing}")

        return self

    @property
    def features(self) -> list[str]:
        """Model inputs: every declared column except the target and the time axis."""
        return [c for c in self.columns if c not in (self.target, self.time_column)]

    @property
    def categorical_features(self) -> list[str]:
        return [c for c in self.features if self.columns[c].dtype in ("category", "bool")]

    @property
    def numeric_features(self) -> list[str]:
        return [c for c in self.features if self.columns[c].dtype in ("int", "float")]


def _nullable_int(spec: ColumnSpec) -> bool:
    """numpy int64 cannot hold NaN: nullable integers travel as float64 checked for integrality."""
    return spec.dtype == "int" and spec.nullable


def pandas_dtype(spec: ColumnSpec) -> str:
    return "float64" if _nullable_int(spec) else _PANDAS_DTYPES[spec.dtype]


def category_text(value: object) -> object:
    """A category's value as the contract's text: strings as they are, missing as missing,
    integral numbers without a fraction (``6.0`` and ``6`` are both ``"6"``), booleans as
    ``"True"``/``"False"``. A class label stored as numbers (a 7-level survey answer saved as
    0.0-6.0) is a category like any other: ``mlops init`` declares its categories in this
    form and validate reads the column through it, so the rule init wrote holds on the
    table it read, and on feedback and production rows that store the labels the same way."""
    import numbers

    import numpy as np
    import pandas as pd

    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        if pd.isna(value):
            return value
        if float(value).is_integer():
            return str(int(value))
        return str(value)
    if pd.isna(value):
        return value
    return str(value)


def as_category_text(series: pd.Series) -> pd.Series:
    """``series`` with every value in its category text (unchanged when already text)."""
    import pandas as pd

    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return series
    return series.map(category_text).astype(object)


def _checks(spec: ColumnSpec) -> list[pa.Check]:
    """Checks whose ``error`` text is the rule name reported to users (e.g. ``max <= 23``)."""
    import pandera.pandas as pa

    checks: list[pa.Check] = []
    if spec.min is not None:
        checks.append(pa.Check.ge(spec.min, error=f"min >= {spec.min:g}"))
    if spec.max is not None:
        checks.append(pa.Check.le(spec.max, error=f"max <= {spec.max:g}"))
    if spec.dtype == "float" or _nullable_int(spec):
        checks.append(pa.Check(lambda s: ~s.isin([math.inf, -math.inf]), error="finite"))
    if _nullable_int(spec):
        checks.append(pa.Check(lambda s: s.dropna() % 1 == 0, ignore_na=True, error="integer"))
    if spec.categories is not None:
        checks.append(pa.Check.isin(list(spec.categories), error="allowed_categories"))
    return checks


def build_schema(contract: Contract) -> pa.DataFrameSchema:
    """A lazy-validating pandera schema: every failing column and rule is reported at once.

    ``strict=True`` rejects undeclared columns so that a renamed or extra column is caught
    here and not silently ignored by the model. pandera is imported here, not at module
    level, because every CLI command reads the contract and only ``validate`` needs pandera.
    """
    import pandera.pandas as pa

    columns = {
        name: pa.Column(
            pandas_dtype(spec),
            checks=_checks(spec),
            nullable=spec.nullable,
            required=True,
            coerce=spec.dtype != "category",
            parsers=[pa.Parser(as_category_text)] if spec.dtype == "category" else None,
            description=spec.description or None,
        )
        for name, spec in contract.columns.items()
    }
    frame_checks = [
        pa.Check(lambda df: len(df) >= contract.min_rows, error=f"min_rows >= {contract.min_rows}"),
    ]
    if not contract.allow_duplicate_rows:
        frame_checks.append(
            pa.Check(lambda df: ~df.duplicated(keep="first"), error="no_duplicate_rows")
        )
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        strict=True,
        unique=list(contract.unique) or None,
        report_duplicates="all",
        name="contract",
    )
