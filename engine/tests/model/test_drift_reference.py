"""What the drift monitor compares production with (`monitor.recent_reference`).

A month of traffic the model was just retrained on must not read as drift (the night after
a retraining PR merges would propose it again), while the next month, which the model has
not seen, must. Real rows of the example, the real Evidently checks.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mlops_engine import storage
from mlops_engine.ct.drift import check_window, recent_reference, windows
from mlops_engine.ct.replay import as_traffic
from mlops_engine.pipeline.ingest import ingest
from mlops_engine.pipeline.reference import reference
from mlops_engine.pipeline.split import split
from mlops_engine.pipeline.train import train
from tests.datasets import month_rows

pytestmark = pytest.mark.example


@pytest.fixture(scope="module")
def retrained(params, root):
    """The model and reference of a window moved to 2011-05-01, as a retraining PR makes
    them; the year's rows for the production traffic."""
    whole = params.ingest.model_copy(update={"history_until": None})
    year = ingest(storage.read_table(root / params.ingest.source), whole)
    window = params.split.window.model_copy(update={"end": "2011-05-01"})
    split_params = params.split.model_copy(update={"window": window})
    train_set, test_set = split(year, split_params, params.contract, params.seed)
    model = train(train_set, params.train, params.contract, params.seed)
    ref = reference(pd.concat([train_set, test_set]), model, params.contract)
    return model, ref, year


def _newest_share(traffic, model, ref, params) -> float:
    logs, truth = as_traffic(traffic, model, "test", params.contract)
    now = logs["logged_at"].max().normalize() + pd.Timedelta(days=1)
    (bounds, *_) = windows(now, params.monitor)
    result, _ = check_window(
        logs, truth, ref, model, params.contract, params.monitor, params.seed, bounds
    )
    return result.drift_share


def test_the_month_just_learned_is_not_drift_and_the_next_one_is(retrained, params):
    model, ref, year = retrained
    recent = recent_reference(ref, params.contract, params.monitor)
    assert recent["timestamp"].min() > pd.Timestamp("2011-04-02"), "the window's last 4 weeks"
    assert recent["timestamp"].max() < pd.Timestamp("2011-05-01")
    share = params.monitor.drift.share
    april = _newest_share(month_rows(year, "2011-04-01", "2011-05-01"), model, recent, params)
    may = _newest_share(month_rows(year, "2011-05-01", "2011-06-01"), model, recent, params)
    assert april < share <= may, (april, may)


def test_against_the_whole_window_the_month_just_learned_reads_as_drift(retrained, params):
    """Why `recent` is the default: `all` cries wolf on the data it was trained on."""
    model, ref, year = retrained
    everything = params.monitor.model_copy(update={"reference": "all"})
    assert len(recent_reference(ref, params.contract, everything)) == len(ref)
    april = _newest_share(month_rows(year, "2011-04-01", "2011-05-01"), model, ref, params)
    assert april >= params.monitor.drift.share
