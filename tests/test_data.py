"""The project's own data against its own contract, and corrupted copies derived from the
contract itself: these hold for any dataset `mlops init` set up, not only the example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_engine import storage
from mlops_engine.testing import ingest_and_validate

pytestmark = pytest.mark.data


def test_the_raw_data_satisfies_the_contract(validated, params):
    assert len(validated) >= params.contract.min_rows
    assert list(validated.columns) == list(params.contract.columns)


def test_no_feature_alone_predicts_the_target_unless_confirmed(validated, params):
    """Target leakage (a column computed from the target) is named before any training."""
    from mlops_engine.pipeline.leakage import explain, find_leaks

    c = params.contract
    leaks = find_leaks(validated, c.target, c.task, c.features, c.leakage_confirmed)
    assert not leaks, explain(leaks, c.target)


def test_a_copy_of_the_target_is_flagged_as_leakage(validated, params):
    """The check above can fail: a monotone function of the target is always caught."""
    from mlops_engine.pipeline.leakage import find_leaks

    c = params.contract
    y = validated[c.target]
    leaked = (
        np.log1p(y.astype(float) - y.astype(float).min())
        if c.task == "regression"
        else y.astype("category").cat.codes
    )
    found = find_leaks(validated.assign(zz_leak=leaked), c.target, c.task, ["zz_leak"])
    assert [leak.column for leak in found] == ["zz_leak"]


def _corruptions(params, raw: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, tuple[str, str]]]:
    """One broken copy per kind of rule the contract declares, with the failure expected."""
    contract, renamed = params.contract, {v: k for k, v in params.ingest.rename.items()}
    out: dict[str, tuple[pd.DataFrame, tuple[str, str]]] = {}
    feature = next(c for c in contract.features if c in raw.columns)
    out["missing column"] = (raw.drop(columns=[feature]), (feature, "required_column"))
    target = renamed.get(contract.target, contract.target)
    out["missing target"] = (raw.drop(columns=[target]), (contract.target, "required_column"))
    out["unexpected column"] = (raw.assign(zz_unexpected=1), ("zz_unexpected", "unexpected_column"))
    for name, spec in contract.columns.items():
        if name in raw.columns and spec.max is not None and "max" not in out:
            broken = raw.copy()
            broken[name] = broken[name].astype(float)
            broken.loc[3, name] = spec.max + abs(spec.max) + 1
            out["max"] = (broken, (name, f"max <= {spec.max:g}"))
        if name in raw.columns and spec.categories and "category" not in out:
            broken = raw.copy()
            broken[name] = broken[name].astype(object)
            broken.loc[5, name] = "zz-not-a-level"
            out["category"] = (broken, (name, "allowed_categories"))
        required_float = not spec.nullable and spec.dtype == "float"
        if name in raw.columns and required_float and "nulls" not in out:
            broken = raw.copy()
            broken.loc[7, name] = np.nan
            out["nulls"] = (broken, (name, "not_nullable"))
    return out


@pytest.fixture(scope="module")
def raw(root, params) -> pd.DataFrame:
    return storage.read_table(root / params.ingest.source)


def test_every_kind_of_contract_rule_is_enforced_on_the_real_data(raw, params, root, tmp_path):
    cases = _corruptions(params, raw)
    assert {"missing column", "missing target", "unexpected column"} <= set(cases)
    for name, (broken, (column, rule)) in cases.items():
        source = tmp_path / f"{len(name)}.parquet"
        broken.to_parquet(source, index=False)
        code, report, wrote = ingest_and_validate(root / "params.yaml", source, tmp_path)
        found = {(f["column"], f["rule"]) for f in report["failures"]}
        assert code == 1 and not wrote, name
        assert (column, rule) in found, (name, found)
