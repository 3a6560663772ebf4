import pytest

from mlops_engine.config import SplitParams, TimeWindow
from mlops_engine.pipeline.split import split
from tests.frames import tiny_contract, tiny_frame


def test_time_split_has_no_leakage_and_respects_the_window():
    frame = tiny_frame(rows=100).sample(frac=1, random_state=1)  # shuffled input
    params = SplitParams(
        test_size=0.25, window=TimeWindow(start="2020-01-01 10:00", end="2020-01-03 10:00")
    )
    train, test = split(frame, params, tiny_contract(), seed=0)
    assert train["ts"].max() < test["ts"].min()
    assert train["ts"].min() >= frame["ts"].min().replace(hour=10)
    assert test["ts"].max() < tiny_frame(rows=100)["ts"].iloc[58]
    assert len(train) + len(test) == 48
    assert len(test) == 12
    assert train["ts"].is_monotonic_increasing


def test_random_split_is_stratified_and_seeded():
    contract = tiny_contract(task="classification", time=False)
    frame = tiny_frame(rows=200, task="classification").drop(columns="ts")
    params = SplitParams(method="random", test_size=0.3)
    _a_train, a_test = split(frame, params, contract, seed=3)
    _b_train, b_test = split(frame, params, contract, seed=3)
    assert a_test.equals(b_test)
    share = frame["y"].value_counts(normalize=True)
    assert (a_test["y"].value_counts(normalize=True) - share).abs().max() < 0.02


def test_empty_window_fails_clearly():
    params = SplitParams(window=TimeWindow(start="2030-01-01"))
    with pytest.raises(ValueError, match="keeps 0 row"):
        split(tiny_frame(), params, tiny_contract(), seed=0)


def test_the_holdout_is_the_test_periods_newest_share_and_seeded_without_time():
    """split.holdout sets aside the last share of the test period (whole time stamps, so no
    hour is on both sides); without a time axis, a seeded random share; 0: none."""
    from mlops_engine.pipeline.split import set_aside

    params = SplitParams(test_size=0.5, holdout=0.25)
    _train, test = split(tiny_frame(rows=100), params, tiny_contract(), seed=0)
    public, holdout = set_aside(test, params, tiny_contract(), seed=0)
    assert (len(public), len(holdout)) == (37, 13), "a quarter of 50, cut at a time stamp"
    assert public["ts"].max() < holdout["ts"].min(), "the newest rows, none on both sides"
    none = set_aside(test, SplitParams(test_size=0.5), tiny_contract(), seed=0)
    assert none[0].equals(test) and none[1].empty

    contract = tiny_contract(task="classification", time=False)
    frame = tiny_frame(rows=200, task="classification").drop(columns="ts")
    params = SplitParams(method="random", test_size=0.3, holdout=0.2)
    _train, test = split(frame, params, contract, seed=3)
    a = set_aside(test, params, contract, seed=3)
    b = set_aside(test, params, contract, seed=3)
    assert a[1].equals(b[1]) and len(a[1]) == 12 and len(a[0]) == 48
    assert not set(map(tuple, a[0].to_numpy())) & set(map(tuple, a[1].to_numpy()))
