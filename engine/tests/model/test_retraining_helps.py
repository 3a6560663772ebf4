"""The value of continuous training, on the real default data, through the stage cores.

The champion is trained on the first quarter (the default window); the challenger is what
``mlops retrain`` builds after the first drifted month: the same history plus April's
labelled rows, window moved to May 1. Both are then scored on May, which neither has seen.
The README quotes these figures.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mlops_engine.ct.challenger import moved_window
from mlops_engine.pipeline.evaluate import score
from mlops_engine.pipeline.ingest import ingest, with_feedback
from mlops_engine.pipeline.split import split
from mlops_engine.pipeline.train import train
from tests.datasets import month_rows

pytestmark = pytest.mark.example


@pytest.fixture(scope="module")
def year(root, params):
    from mlops_engine import storage

    whole = params.ingest.model_copy(update={"history_until": None})
    return ingest(storage.read_table(root / params.ingest.source), whole)


def test_retraining_after_the_first_drifted_month_beats_the_champion_on_the_next(
    year, validated, train_test, model, params
):
    time, contract = params.contract.time_column, params.contract
    april = month_rows(year, "2011-04-01", "2011-05-01", time)
    may = month_rows(year, "2011-05-01", "2011-06-01", time)
    moved = moved_window(params.split.window, april, time, params.retrain)
    assert moved["split.window.end"] == "2011-05-01"
    window = params.split.window.model_copy(update={"end": pd.Timestamp("2011-05-01")})
    split_params = params.split.model_copy(update={"window": window})
    history = with_feedback(validated, [april], time)
    new_train, _ = split(history, split_params, contract, params.seed)
    challenger = train(new_train, params.train, contract, params.seed)
    champion_mae = score(model, may, contract)["mae"]
    challenger_mae = score(challenger, may, contract)["mae"]
    print(f"May 2011 MAE: champion {champion_mae:.2f}, challenger {challenger_mae:.2f}")
    assert challenger_mae < 0.9 * champion_mae, (champion_mae, challenger_mae)
