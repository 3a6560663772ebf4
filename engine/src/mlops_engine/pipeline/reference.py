"""Stage ``reference``: the model's window (training and test rows), with its predictions.

The drift monitor compares production with this table. Making it a pipeline output of the
same ``dvc repro`` that trains the model means a reference can never belong to another
model: both are versioned together in ``dvc.lock``.

Its predictions are stored at float32 precision (~7 significant digits), so the file, and its
hash in ``dvc.lock``, are the same on every x86-64 Linux machine: the model is bit-identical
everywhere, but a Poisson or logistic model's answers go through ``np.exp``, which numpy
computes with its own AVX-512 code where the CPU has AVX-512 and with glibc's elsewhere, and
the two differ in the last bit (seen here: the same model.joblib gave two reference.parquet
hashes on an AVX-512 CI machine and an AVX2 one). A last-bit difference (~1e-16 relative)
changes a float32 rounding with a chance of ~1e-9 per value; a drift check never looks at
the 8th digit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlops_engine.contract import (
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
    frame[PREDICTION] = portable(predictions(model, frame[contract.features], contract))
    return frame


def portable(values: Any) -> Any:
    """Floats rounded to float32 precision (kept as float64), the same on every CPU; labels
    (classification) as they are."""
    values = np.asarray(values)
    if values.dtype.kind != "f":
        return values
    return values.astype(np.float32).astype(np.float64)
