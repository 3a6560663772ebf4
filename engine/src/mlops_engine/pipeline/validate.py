"""Stage ``validate``: the data contract, enforced lazily so every violation is reported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.errors

from mlops_engine.contract import Contract, build_schema


@dataclass(frozen=True)
class Failure:
    column: str
    rule: str
    count: int
    examples: tuple[str, ...]

    def describe(self) -> str:
        ex = ", ".join(self.examples)
        return f"column '{self.column}' failed rule '{self.rule}' ({self.count} row(s); e.g. {ex})"


@dataclass(frozen=True)
class ValidationResult:
    frame: pd.DataFrame | None
    failures: tuple[Failure, ...]
    n_rows: int
    n_columns: int

    @property
    def ok(self) -> bool:
        return not self.failures

    def report(self) -> dict[str, Any]:
        return {
            "valid": self.ok,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "n_failures": len(self.failures),
            "failures": [
                {"column": f.column, "rule": f.rule, "count": f.count, "examples": list(f.examples)}
                for f in self.failures
            ],
        }


_TABLE = "(table)"


def _rule(check: str) -> str:
    """Pandera's built-in check names mapped to the contract's vocabulary."""
    if check == "column_in_dataframe":
        return "required_column"
    if check == "column_in_schema":
        return "unexpected_column"
    if check.startswith(("dtype(", "coerce_dtype(")):
        return "dtype " + check.split("(", 1)[1].rstrip(")").strip("'")
    if check.startswith(("field_uniqueness", "multiple_fields_uniqueness")):
        return "unique"
    return check


def _failures(cases: pd.DataFrame, schema_name: str, n_rows: int) -> tuple[Failure, ...]:
    cases = cases.assign(check=cases["check"].astype(str).map(_rule))
    # A missing or unexpected column is reported by the schema, with the column as the value;
    # table-wide checks (row count, duplicate rows) are reported once, against the table.
    named = cases["column"].notna() & (cases["column"] != schema_name)
    by_schema = ~named | (
        (cases["schema_context"] == "DataFrameSchema") & (cases["check"] != "unique")
    )
    structural = by_schema & cases["check"].isin(["required_column", "unexpected_column"])
    cases.loc[structural, "column"] = cases.loc[structural, "failure_case"].astype(str)
    cases.loc[by_schema & ~structural, "column"] = _TABLE
    # A column of the wrong type fails its range checks too, as noise: keep the dtype rule.
    wrong_type = set(cases.loc[cases["check"].str.startswith("dtype "), "column"])
    cases = cases[~cases["column"].isin(wrong_type) | cases["check"].str.startswith("dtype ")]
    out: list[Failure] = []
    for (column, rule), group in cases.groupby(["column", "check"], sort=False):
        rows = group["index"].dropna()
        count = rows.nunique() if len(rows) else 1
        shown = group["failure_case"] if column != _TABLE or not len(rows) else rows
        examples = tuple(dict.fromkeys(str(v) for v in shown.head(50)))[:3]
        if column == _TABLE:
            examples = tuple(f"row {v}" for v in examples) if len(rows) else (f"{n_rows} rows",)
        out.append(Failure(str(column), str(rule), int(count), examples))
    return tuple(out)


def validate(frame: pd.DataFrame, contract: Contract) -> ValidationResult:
    """Check ``frame`` against the contract; return the coerced frame or all failures."""
    schema = build_schema(contract)
    n_rows, n_cols = frame.shape
    if n_cols == 0:
        failure = Failure(_TABLE, "not_empty", 1, ("file has no columns or rows",))
        return ValidationResult(None, (failure,), n_rows, n_cols)
    try:
        valid = schema.validate(frame.reset_index(drop=True), lazy=True)
    except pandera.errors.SchemaErrors as err:
        return ValidationResult(
            None, _failures(err.failure_cases, schema.name, n_rows), n_rows, n_cols
        )
    ordered = valid[list(contract.columns)]
    return ValidationResult(ordered.reset_index(drop=True), (), n_rows, n_cols)


def validate_rows(frame: pd.DataFrame, contract: Contract, columns: list[str]) -> ValidationResult:
    """Production rows against the contract's rules for ``columns`` (other columns, such as
    the log's prediction and timestamp, pass through). No table rules: a window may be
    small and may repeat a row; what must not happen is a value the model never agreed to."""
    schema = build_schema(contract).select_columns(columns)
    schema.checks, schema.unique, schema.strict = [], None, False
    n_rows, n_cols = frame.shape
    try:
        schema.validate(frame.reset_index(drop=True), lazy=True)
    except pandera.errors.SchemaErrors as err:
        return ValidationResult(
            None, _failures(err.failure_cases, schema.name, n_rows), n_rows, n_cols
        )
    return ValidationResult(frame, (), n_rows, n_cols)
