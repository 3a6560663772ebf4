"""The service's request and response models, generated from the data contract.

Types, ranges, allowed categories and required fields all come from ``contract`` in
``params.yaml``: the service and the pipeline cannot disagree. Unknown fields are
rejected, and NaN and infinities are refused (pydantic accepts them by default and
scikit-learn would then fail with a 500).
"""

from __future__ import annotations

import datetime as dt
import keyword
import operator
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from mlops_engine.contract import ColumnSpec, Contract

_PYTHON_TYPES: dict[str, type] = {"int": int, "float": float, "bool": bool, "datetime": dt.datetime}


def _field_type(spec: ColumnSpec) -> Any:
    if spec.dtype == "category":
        return Literal[spec.categories] if spec.categories else str  # type: ignore[valid-type]
    return _PYTHON_TYPES[spec.dtype]


def _field(name: str, spec: ColumnSpec) -> tuple[Any, Any]:
    kind = _field_type(spec)
    constraints: dict[str, Any] = {"description": spec.description or None}
    if spec.min is not None:
        constraints["ge"] = spec.min
    if spec.max is not None:
        constraints["le"] = spec.max
    if spec.dtype == "float":
        constraints["allow_inf_nan"] = False
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        constraints["alias"] = name
    if spec.nullable:
        return kind | None, Field(default=None, **constraints)
    return kind, Field(..., **constraints)


def _python_name(name: str) -> str:
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in name).lstrip("_") or "field"
    return f"f_{safe}" if safe[0].isdigit() or keyword.iskeyword(safe) else safe


def record_model(contract: Contract) -> type[BaseModel]:
    """One input row: every feature of the contract, nothing else."""
    fields = {_python_name(n): _field(n, contract.columns[n]) for n in contract.features}
    config = ConfigDict(extra="forbid", strict=False, populate_by_name=True, frozen=True)
    return create_model("Record", __config__=config, **fields)


class Prediction(BaseModel):
    prediction: float | int | str
    probabilities: dict[str, float] | None = None
    model_version: str


def records_to_rows(records: list[BaseModel]) -> list[dict[str, Any]]:
    """Rows keyed by the contract's column names (aliases), ready for a DataFrame."""
    return [r.model_dump(by_alias=True) for r in records]


def column_reader(record: type[BaseModel]) -> Callable[[Sequence[BaseModel]], dict[str, list[Any]]]:
    """A function: records -> ``{column name (alias): [values]}``, the values ``model_dump``
    gives: the service's hot path, where a dump per record and a DataFrame per batch cost
    more than the model. A validated record keeps its fields in ``__dict__`` in declaration
    order (one C-level ``values()`` per record, cheaper than reading each attribute:
    docs/performance.md, "Why the service is shaped as it is");
    records whose ``__dict__`` is laid out otherwise are read by attribute."""
    fields = list(record.model_fields)
    names = [record.model_fields[f].alias or f for f in fields]
    get = operator.attrgetter(*fields)
    values = operator.methodcaller("values")

    def read(records: Sequence[BaseModel]) -> dict[str, list[Any]]:
        if not records:
            return {n: [] for n in names}
        if len(fields) > 1 and list(vars(records[0])) == fields:
            rows = map(values, map(vars, records))
        else:
            rows = ((get(r),) if len(fields) == 1 else get(r) for r in records)
        return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))

    return read
