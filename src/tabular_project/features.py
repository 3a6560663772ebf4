"""Derived features: columns computed from the raw columns, inside the fitted pipeline.

Add a derived feature here, not in ``ingest``: a column ``ingest`` adds becomes a contract
column, so the service would require clients to send it. A function registered here runs
as the first step of the model's scikit-learn ``Pipeline``, so training, evaluation, the
drift checks and the service all compute it the same way from the raw request, and clients
never send it.

To add one: write a function of the raw frame returning a Series, register it with
``@derived("name", "numeric", inputs=(...))`` (or ``"categorical"``), and list its name under
``contract.derived`` in ``params.yaml``. The ``train`` stage depends on this package
(``dvc.yaml``), so ``make run`` retrains. With ``contract.derived`` empty (the default) the
pipeline has no extra step.
"""

from __future__ import annotations

import pandas as pd

from mlops_engine.pipeline.features import derived

__all__ = ["rush_hour"]


# An example for the bundled bike-sharing data (not enabled: list it under contract.derived).
@derived("rush_hour", "categorical", inputs=("hr", "workingday"))
def rush_hour(frame: pd.DataFrame) -> pd.Series:
    """Commuting hours on working days, when demand peaks twice a day."""
    commute = frame["hr"].isin([7, 8, 9, 16, 17, 18, 19]) & (frame["workingday"] == 1)
    return commute.map({True: "commute", False: "other"}).astype(str)
