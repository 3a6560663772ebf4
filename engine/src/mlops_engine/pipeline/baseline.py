"""The naive reference model every metric is compared with.

A model that cannot beat "the average for this hour" (or the majority class) has learned
nothing worth deploying; recording the baseline next to each metric makes that visible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator


class GroupMeanBaseline(BaseEstimator):
    """Mean target (regression) or class frequencies (classification) per group."""

    def __init__(self, group_by: tuple[str, ...] = (), task: str = "regression") -> None:
        self.group_by = group_by
        self.task = task

    def fit(self, X: pd.DataFrame, y: pd.Series) -> GroupMeanBaseline:
        y = pd.Series(np.asarray(y), index=X.index, name="__y")
        if self.task == "regression":
            self.global_ = float(y.mean())
            self.table_ = y.groupby([X[c] for c in self.group_by]).mean() if self.group_by else None
            return self
        self.classes_ = np.array(sorted(y.unique(), key=str), dtype=object)
        prior = y.value_counts(normalize=True).reindex(self.classes_, fill_value=0.0)
        self.prior_ = prior.to_numpy(dtype=float)
        if self.group_by:
            counts = pd.crosstab([X[c] for c in self.group_by], y).reindex(
                columns=self.classes_, fill_value=0
            )
            self.table_ = counts.div(counts.sum(axis=1), axis=0)
        else:
            self.table_ = None
        return self

    def _lookup(self, X: pd.DataFrame) -> pd.DataFrame:
        keys = (
            pd.MultiIndex.from_frame(X[list(self.group_by)])
            if len(self.group_by) > 1
            else X[self.group_by[0]]
        )
        return self.table_.reindex(keys)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if self.task == "regression":
            if self.table_ is None:
                return np.full(len(X), self.global_)
            return self._lookup(X).fillna(self.global_).to_numpy(dtype=float)
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.table_ is None:
            return np.tile(self.prior_, (len(X), 1))
        # a new array, not filled in place: under pandas 3's copy-on-write to_numpy() may
        # return a read-only view of the table
        looked = self._lookup(X).to_numpy(dtype=float)
        missing = np.isnan(looked).any(axis=1)
        return np.where(missing[:, None], self.prior_, looked)
