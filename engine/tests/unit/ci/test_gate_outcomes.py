"""The gate's three outcomes and what each does (ci/gate.py, issue 35): pass, fail,
inconclusive (needs review until the label, a warning, or a failure, per check kind);
small slices; NaN intervals; undefined resamples; the resamples' own seed; the label."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_engine.ci.gate import Rows, _paired_verdict, paired_checks
from mlops_engine.ci.markdown import ReportInputs, gate_summary, render
from mlops_engine.config import (
    GateMetric,
    GateParams,
    InconclusiveParams,
    SliceGate,
    load_params,
)
from mlops_engine.paired import Side, Truth, circular_counts, simultaneous

MAE = {"mae": GateMetric(direction="lower", tolerance=0.05)}


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [
        (1.2, 3.0, "regressed"),  # better end beyond the tolerance (1)
        (0.2, 0.9, "within tolerance"),  # worse, but shown within it
        (-0.5, 0.5, "within noise"),
        (-2.0, -0.1, "improved"),
        (-0.5, 1.5, "inconclusive"),  # holds both zero and the tolerance
        (0.5, 1.5, "inconclusive"),
        (float("nan"), float("nan"), "undefined"),
    ],
)
def test_a_check_passes_only_when_shown_within_the_tolerance(low, high, verdict):
    assert _paired_verdict(low, high, 1.0, identical=False) == verdict


def _rows(n=400, shift=0.0, where=None, seed=0, small=None):
    rng = np.random.default_rng(seed)
    y = rng.normal(100, 20, n)
    shared = rng.normal(size=n)
    champion = y + 10 * shared
    challenger = y + 10 * (0.8 * shared + 0.6 * rng.normal(size=n))
    if where is not None:
        challenger = y + (challenger - y) * np.where(where, shift, 1.0)
    band = np.where(np.arange(n) % 2, "a", "b").astype(object)
    if small is not None:
        band[small] = "small"
    return Rows(
        Truth(y, "regression"),
        Side(champion),
        Side(challenger),
        Side(y + rng.normal(0, 40, n)),
        {"band": band},
    )


def test_what_an_inconclusive_check_does_is_the_setting_per_kind():
    rows = _rows(300)  # 300 rows cannot resolve 5%: the mae check is inconclusive
    verdicts = {}
    for metrics, slices in (("needs-review", "warn"), ("warn", "fail"), ("fail", "warn")):
        gate = GateParams(
            metrics=MAE,
            resamples=300,
            inconclusive=InconclusiveParams(metrics=metrics, slices=slices),
        )
        checks = paired_checks(rows, gate)
        mae = checks[0]
        assert mae.outcome == "inconclusive", mae.describe()
        verdicts[metrics] = (mae.failed, mae.action)
        accepted = paired_checks(rows, gate, accepted=True)[0]
        if metrics == "needs-review":
            assert (accepted.failed, accepted.action) == (False, "accepted by label")
        slice_checks = [c for c in checks if c.slice and c.outcome == "inconclusive"]
        assert slice_checks and all(c.failed == (slices == "fail") for c in slice_checks)
    assert verdicts == {
        "needs-review": (True, "needs review"),
        "warn": (False, "warning"),
        "fail": (True, "fails"),
    }


def test_a_small_slice_with_a_clear_regression_fails_whatever_its_size():
    """Issue 35: a 17-row slice with twice the error was "too small to tell", a pass."""
    small = np.zeros(600, dtype=bool)
    small[::35] = True  # 18 rows, under min_rows 30
    rows = _rows(600, shift=3.0, where=small, small=small)
    gate = GateParams(metrics=MAE, slices=SliceGate(min_rows=30), resamples=500)
    found = {c.slice: c for c in paired_checks(rows, gate) if c.slice}
    assert found["band=small"].rows < 30
    assert found["band=small"].verdict == "regressed" and found["band=small"].failed
    # the same slice without a regression: too small to tell (inconclusive), never a pass
    quiet = {c.slice: c for c in paired_checks(_rows(600, small=small), gate) if c.slice}
    assert quiet["band=small"].verdict == "too small to tell"


def test_a_wide_interval_is_too_small_to_tell_only_when_it_decides_nothing():
    rows = _rows(400)
    wide = GateParams(metrics=MAE, slices=SliceGate(tolerance=0.02, max_width=2), resamples=300)
    verdicts = {c.slice: c.verdict for c in paired_checks(rows, wide) if c.slice}
    assert set(verdicts.values()) <= {"too small to tell", "within noise", "within tolerance"}
    assert "too small to tell" in verdicts.values()
    text = gate_summary(paired_checks(rows, wide), "gate:accept")
    assert "Too small to tell: mae on band=" in text


def test_a_gated_metric_without_an_interval_fails():
    """log loss of a champion that gives no probabilities: NaN on every resample. It
    counted as "within noise" (a pass); the floor already failed on NaN."""
    rng = np.random.default_rng(1)
    classes = np.array(["a", "b"], dtype=object)
    y = rng.choice(classes, 300)
    p = np.clip((y == "b") * 0.4 + rng.random(300) * 0.6, 0.01, 0.99)
    said = np.where(p > 0.5, "b", "a").astype(object)
    proba = np.column_stack([1 - p, p])
    rows = Rows(
        Truth(y, "classification", classes),
        Side(said, None),
        Side(said, proba),
        Side(np.full(300, "a", dtype=object), np.full((300, 2), 0.5)),
        {},
    )
    gate = GateParams(metrics={"log_loss": GateMetric(direction="lower", tolerance=0.05)})
    check = paired_checks(rows, gate)[0]
    assert check.name == "log_loss" and check.verdict == "undefined" and check.failed


def test_resamples_where_a_slice_is_undefined_are_counted_and_shown():
    small = np.zeros(400, dtype=bool)
    small[[5, 200, 390]] = True  # three rows: many resamples draw none of them
    rows = _rows(400, small=small)
    gate = GateParams(metrics=MAE, resamples=400)
    check = next(c for c in paired_checks(rows, gate) if c.slice == "band=small")
    assert 0 < check.undefined < 400
    assert f"undefined on {check.undefined} resamples" in check.describe()
    text = render(ReportInputs("T", paired_checks(rows, gate), {}, {}, [], None, base_label="main"))
    assert f"undefined on {check.undefined:,} resamples" in text


def test_the_resamples_are_drawn_with_the_gates_own_seed():
    """gate.seed, not the training seed: paired_checks takes no training seed, and the same
    gate.seed draws the same intervals on every run."""
    rows = _rows(300)
    a = paired_checks(rows, GateParams(metrics=MAE, seed=5, resamples=200))[0]
    b = paired_checks(rows, GateParams(metrics=MAE, seed=5, resamples=200))[0]
    c = paired_checks(rows, GateParams(metrics=MAE, seed=6, resamples=200))[0]
    assert (a.low, a.high) == (b.low, b.high) != (c.low, c.high)
    with pytest.raises(TypeError):
        paired_checks(rows, GateParams(metrics=MAE), 42)  # the old training-seed argument


def test_the_template_sets_the_gate_seed_and_the_inconclusive_defaults(root):
    gate = load_params(root / "params.yaml").gate
    assert gate.seed == 0 and gate.accept_label == "gate:accept"
    assert (gate.inconclusive.metrics, gate.inconclusive.slices) == ("needs-review",) * 2
    assert "r2" not in gate.metrics, "redundant with rmse on the same rows (docs/ci.md)"


def test_simultaneous_intervals_cost_nothing_for_checks_that_move_together():
    rng = np.random.default_rng(0)
    d = rng.normal(size=2000)
    (one,) = simultaneous([d], 0.95)
    same = simultaneous([d, 2 * d, d + 1], 0.95)
    assert same[0] == pytest.approx(one)
    independent = simultaneous([rng.normal(size=2000) for _ in range(10)], 0.95)
    assert all(hi - lo > (one[1] - one[0]) * 1.2 for lo, hi in independent)


def test_circular_blocks_count_each_unit_once_per_block_covering_it():
    n, block = 23, 5
    drawn = np.vstack(list(circular_counts(n, block, 7, seed=3)))
    rng = np.random.default_rng(3)
    starts = rng.integers(0, n, size=(7, -(-n // block)), dtype=np.int64)
    want = np.zeros((7, n))
    for r, row in enumerate(starts):
        for s in row:
            want[r, (s + np.arange(block)) % n] += 1
    assert np.array_equal(drawn, want)


def test_the_label_and_the_cd_override_reach_the_gate(root, monkeypatch):
    import argparse

    from mlops_engine.commands.pull_request import _gate_args, accepted, gate_params

    params = load_params(root / "params.yaml")
    monkeypatch.setenv("PR_LABELS", "bug,gate:accept")
    monkeypatch.setenv("GATE_INCONCLUSIVE", "warn")
    parser = argparse.ArgumentParser()
    _gate_args(parser)
    a = parser.parse_args(["--base-ref", "main"])
    assert accepted(a.labels, params) and not accepted("gate:accepted,x", params)
    changed = gate_params(a, params).gate.inconclusive
    assert (changed.metrics, changed.slices, changed.too_small) == ("warn",) * 3
