"""The demo production stream: the raw file's later months, replayed one period at a time.

Each call sends the next period of rows as if the service had answered them then: a
prediction log in the service's own format (features, prediction, model version,
``logged_at`` = the row's time) and, separately, the labelled rows whose ground truth
"arrived later". A cursor file remembers where the previous call stopped.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlops_engine.config import Period
from mlops_engine.contract import LOGGED_AT, PREDICTION, VERSION, Contract
from mlops_engine.ct.drift import period_offset
from mlops_engine.pipeline.reference import predictions


def next_period(
    stream: pd.DataFrame, time_column: str, cursor: pd.Timestamp, period: Period
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Rows in [cursor, cursor + period) and the cursor for the next call."""
    end = cursor + period_offset(period)
    stamp = stream[time_column]
    return stream[(stamp >= cursor) & (stamp < end)], end


def as_traffic(
    rows: pd.DataFrame,
    model: Any,
    model_version: str,
    contract: Contract,
    arrived: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(prediction log, labelled rows) for ``rows``, both stamped with their arrival time:
    ``arrived`` when given (a table without a time column), else the row's own time."""
    if arrived is None:
        if contract.time_column is None:
            raise ValueError("rows without a time column need their arrival times (arrived=)")
        arrived = rows[contract.time_column]
    arrived = pd.to_datetime(pd.Series(arrived)).to_numpy()
    logs = rows[contract.features].reset_index(drop=True)
    logs[PREDICTION] = predictions(model, logs, contract)
    logs[VERSION] = model_version
    logs[LOGGED_AT] = arrived
    labelled = rows[[c for c in contract.columns if c in rows.columns]].reset_index(drop=True)
    labelled[LOGGED_AT] = arrived
    return logs, labelled
