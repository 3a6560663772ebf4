"""The project's own code on its own data: each derived feature it defines computes a column
from the ingested table, and each model family it adds fits and predicts on the training
rows. These hold for any table `mlops init` set up (a feature reading a column the table
lacks is skipped, naming it)."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_engine.pipeline.features import DERIVED
from mlops_engine.pipeline.train import build_pipeline, loss_for
from tabular_project import ESTIMATORS


# The code tier (pr.yml's unit tests, before the data is validated): on the ingested rows,
# so a PR whose data breaks the contract fails at validation, naming the column and rule.
@pytest.mark.code
@pytest.mark.parametrize("name", sorted(DERIVED))
def test_each_derived_feature_computes_one_value_per_row(name, ingested):
    feature = DERIVED[name]
    missing = [c for c in feature.inputs if c not in ingested.columns]
    if missing:
        pytest.skip(f"{name} reads {missing}, which this project's table does not have")
    column = feature.compute(ingested)
    assert len(column) == len(ingested), name


@pytest.mark.model
@pytest.mark.parametrize("family", sorted({name for name, _ in ESTIMATORS}))
def test_each_added_model_family_fits_and_predicts(family, train_test, params):
    train, test = train_test
    c = params.contract
    loss = loss_for(params.train, c)
    if (family, loss) not in ESTIMATORS:
        pytest.skip(f"{family} has no {loss} variant in model.py")
    pipeline = build_pipeline(params.train, c, params.seed, family, loss)
    sample = train.tail(min(len(train), 500))
    pipeline.fit(sample[c.features], sample[c.target])
    predicted = pipeline.predict(test[c.features])
    assert len(predicted) == len(test)
    if c.task == "regression":
        assert np.isfinite(predicted.astype(float)).all(), family
