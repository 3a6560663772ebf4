"""Stage ``split``: train/test inside the training window, without leaking the future."""

from __future__ import annotations

import logging
import math

import pandas as pd

from mlops_engine.config import SplitParams
from mlops_engine.contract import Contract

log = logging.getLogger(__name__)


def stratifiable(y: pd.Series, test_size: float) -> bool:
    """Whether a stratified random split of ``y`` can be drawn: every class needs two rows
    (one a side) and the test side a row per class (scikit-learn refuses otherwise)."""
    counts = y.value_counts()
    n_test = math.ceil(len(y) * test_size)
    return bool(counts.min() >= 2 and n_test >= len(counts) and len(y) - n_test >= len(counts))


def select_window(frame: pd.DataFrame, params: SplitParams, contract: Contract) -> pd.DataFrame:
    """Rows inside the configured [start, end) time window (all rows without a time axis)."""
    if contract.time_column is None:
        return frame
    stamp = frame[contract.time_column]
    mask = pd.Series(True, index=frame.index)
    if params.window.start is not None:
        mask &= stamp >= pd.Timestamp(params.window.start)
    if params.window.end is not None:
        mask &= stamp < pd.Timestamp(params.window.end)
    return frame.loc[mask]


def split(
    frame: pd.DataFrame, params: SplitParams, contract: Contract, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time split: the last ``test_size`` of the window is the test set, no shuffling.

    Random split (only for data without a time axis): stratified on the target for
    classification so that rare classes appear on both sides, when that can be drawn (a
    class of a single row cannot be on both sides: then the split is plain random, said in
    the log, and evaluate names the classes the test set lacks).
    """
    window = select_window(frame, params, contract)
    if len(window) < 2:
        raise ValueError(
            f"split.window keeps {len(window)} row(s); widen the window or check the time column"
        )
    if params.method == "time":
        ordered = window.sort_values(contract.time_column, kind="stable")
        cut_time = ordered[contract.time_column].iloc[int(len(ordered) * (1 - params.test_size))]
        train = ordered[ordered[contract.time_column] < cut_time]
        test = ordered[ordered[contract.time_column] >= cut_time]
    else:
        from sklearn.model_selection import train_test_split

        stratify = None
        if params.stratify and contract.task == "classification":
            if stratifiable(window[contract.target], params.test_size):
                stratify = window[contract.target]
            else:
                rare = window[contract.target].value_counts()
                log.warning(
                    "split: not stratified: class %r has %d row(s) (a stratified split needs "
                    "2 per class and a test row per class)",
                    rare.idxmin(),
                    rare.min(),
                )
        train, test = train_test_split(
            window, test_size=params.test_size, random_state=seed, shuffle=True, stratify=stratify
        )
    if train.empty or test.empty:
        raise ValueError(f"split produced an empty side (train={len(train)}, test={len(test)})")
    return train.reset_index(drop=True), test.reset_index(drop=True)


def set_aside(
    test: pd.DataFrame, params: SplitParams, contract: Contract, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The test rows as (public, holdout): ``split.holdout`` of them set aside.

    The public rows are what ``evaluate``, the model card and every pull-request report
    score and print. The holdout is scored only by the anchor check (ci/anchor.py), which
    shows its outcome, never a figure: each report that prints figures on the same rows
    lets the next change be tuned to them (adaptive overfitting), and the holdout is what
    that cannot reach. Time split: the last share of the test period (the newest rows, cut
    at a time stamp as ``split`` cuts the test period, so no hour is on both sides); random
    split: a seeded random share, stratified by class as ``split`` is. With ``holdout`` 0
    the holdout is empty.
    """
    if params.holdout == 0 or len(test) < 2:
        return test, test.iloc[:0]
    if params.method == "time":
        ordered = test.sort_values(contract.time_column, kind="stable")
        stamps = ordered[contract.time_column]
        cut_time = stamps.iloc[min(len(ordered) - 1, int(len(ordered) * (1 - params.holdout)))]
        public, holdout = ordered[stamps < cut_time], ordered[stamps >= cut_time]
    else:
        from sklearn.model_selection import train_test_split

        y = test[contract.target]
        stratify = (
            y
            if params.stratify
            and contract.task == "classification"
            and stratifiable(y, params.holdout)
            else None
        )
        public, holdout = train_test_split(
            test, test_size=params.holdout, random_state=seed, shuffle=True, stratify=stratify
        )
    if public.empty:
        raise ValueError(
            f"split.holdout {params.holdout} leaves no public test rows of {len(test)}: lower it"
        )
    return public.reset_index(drop=True), holdout.reset_index(drop=True)
