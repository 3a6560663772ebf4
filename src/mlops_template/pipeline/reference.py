"""Stage ``reference``: the model's window (training and test rows), with its predictions.

The drift monitor compares production with this table. Making it a pipeline output of the
same ``dvc repro`` that trains the model means a reference can never belong to another
model: both are versioned together in ``dvc.lock``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlops_template.contract import (
    PREDICTION,  # the service's log column, reused
    Contract,
)


def predictions(model: Any, features: pd.DataFrame, contract: Contract) -> Any:
    """The model's answers as the prediction log stores them (class labels as strings)."""
    predicted = model.predict(features)
    return predicted if contract.task == "regression" else predicted.astype(str)


def reference(window: pd.DataFrame, model: Any, contract: Contract) -> pd.DataFrame:
    """Features, target (and time) of the window's rows plus the model's prediction. The
    test rows are the newest of the window, which the monitor compares production with
    (``monitor.recent_reference``)."""
    keep = [c for c in contract.columns if c in window.columns]
    frame = window[keep].reset_index(drop=True)
    frame[PREDICTION] = predictions(model, frame[contract.features], contract)
    return frame
