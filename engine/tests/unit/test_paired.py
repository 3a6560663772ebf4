"""The paired bootstrap (paired.py) and the gate's verdicts on it (ci/gate.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlops_engine.ci.gate import Rows, paired_checks
from mlops_engine.config import ConfigError, GateMetric, GateParams, parse_params, read_yaml
from mlops_engine.paired import (
    Comparison,
    Side,
    Truth,
    bootstrap,
    compare_sides,
    counts,
    time_blocks,
)


def test_every_metric_at_unit_weights_is_sklearns():
    rng = np.random.default_rng(0)
    y = rng.normal(10, 3, 300)
    pred = y + rng.normal(0, 1, 300)
    found = bootstrap(
        Truth(y, "regression"), [Side(pred)], {m: Comparison(m) for m in ("mae", "rmse", "r2")}
    )
    assert found["mae"].points[0] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert found["rmse"].points[0] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert found["r2"].points[0] == pytest.approx(skm.r2_score(y, pred))
    classes = np.array(["a", "b"], dtype=object)
    labels = np.where(rng.random(300) < 0.4, "b", "a").astype(object)
    p = np.clip((labels == "b") * 0.3 + rng.random(300) * 0.7, 0, 1)
    p[:20] = 0.5  # ties
    proba = np.column_stack([1 - p, p])
    said = np.where(p > 0.5, "b", "a").astype(object)
    names = ("accuracy", "f1", "roc_auc", "log_loss")
    found = bootstrap(
        Truth(labels, "classification", classes, time_blocks(np.arange(300))),
        [Side(said, proba)],
        {m: Comparison(m) for m in names},
        resamples=100,
    )
    expected = {
        "accuracy": skm.accuracy_score(labels, said),
        "f1": skm.f1_score(labels, said, pos_label="b"),
        "roc_auc": skm.roc_auc_score(labels == "b", p),
        "log_loss": skm.log_loss(labels, proba, labels=classes),
    }
    assert {m: found[m].points[0] for m in names} == pytest.approx(expected)


def test_roc_auc_on_every_resample_is_sklearns_with_those_weights():
    """Each resample's ROC AUC is scikit-learn's with the resample's draw counts as
    ``sample_weight``: binary with tied scores (within and across classes), one-vs-rest
    for three classes, on blocks of rows and on a slice."""
    rng = np.random.default_rng(5)
    n = 240
    classes = np.array(["a", "b", "c"], dtype=object)
    y = rng.choice(classes, n)
    raw = rng.random((n, 3)) + (y[:, None] == classes) * 0.6
    proba = np.round(raw / raw.sum(axis=1, keepdims=True), 2)  # rounding makes ties
    proba[:, 2] = 1 - proba[:, 0] - proba[:, 1]
    units = time_blocks(np.arange(n), 8)
    band = rng.random(n) < 0.4
    said = classes[proba.argmax(axis=1)]
    for labels, cls, p in (
        (np.where(y == "c", "c", "a").astype(object), classes[[0, 2]], proba[:, [0, 2]]),
        (y, classes, proba),
    ):
        truth = Truth(labels, "classification", cls, units)
        comps = {"all": Comparison("roc_auc"), "band": Comparison("roc_auc", band)}
        found = bootstrap(truth, [Side(said, p)], comps, resamples=6, seed=2)
        drawn = np.vstack(list(counts(truth.n_units, 6, seed=2, row_width=n)))
        for key, rows in (("all", slice(None)), ("band", band)):
            for r in range(6):
                w = drawn[r, units][rows]
                if len(cls) == 2:
                    want = skm.roc_auc_score(labels[rows] == cls[1], p[rows, 1], sample_weight=w)
                else:
                    want = np.mean(
                        [
                            skm.roc_auc_score(labels[rows] == c, p[rows, i], sample_weight=w)
                            for i, c in enumerate(cls)
                        ]
                    )
                assert found[key].draws[0, r] == pytest.approx(want, abs=1e-12), (key, r)


def test_resamples_are_seeded_and_draw_n_units_each():
    a = np.vstack(list(counts(50, 30, seed=3)))
    assert a.shape == (30, 50) and (a.sum(axis=1) == 50).all()
    assert np.array_equal(a, np.vstack(list(counts(50, 30, seed=3))))
    assert not np.array_equal(a, np.vstack(list(counts(50, 30, seed=4))))


def test_time_blocks_are_contiguous_in_time_whatever_the_row_order():
    stamps = np.array([5, 1, 4, 2, 3, 0, 7, 6])
    blocks = time_blocks(stamps, 3)
    assert list(blocks[np.argsort(stamps)]) == [0, 0, 0, 1, 1, 1, 2, 2]


def _coverage(n, reps, resamples, seed, ar=0.0, block=None):
    """Share of replications whose 95% interval of MAE(b) - MAE(a) and RMSE(b) - RMSE(a)
    holds the true difference. Errors are Gaussian (optionally AR(1) in time) with sd 1
    and 1.15, correlated 0.6 between the two models: true MAE = sd * sqrt(2 / pi)."""
    rng = np.random.default_rng(seed)
    sd_a, sd_b, rho = 1.0, 1.15, 0.6
    truth_diff = {"mae": (sd_b - sd_a) * np.sqrt(2 / np.pi), "rmse": sd_b - sd_a}
    hits = {"mae": 0, "rmse": 0}
    for _ in range(reps):
        z1, z2 = rng.normal(size=(2, n))
        if ar:
            for z in (z1, z2):
                for i in range(1, n):
                    z[i] = ar * z[i - 1] + np.sqrt(1 - ar * ar) * z[i]
        e_a = sd_a * z1
        e_b = sd_b * (rho * z1 + np.sqrt(1 - rho * rho) * z2)
        y = rng.normal(50, 10, n)
        units = None if block is None else time_blocks(np.arange(n), block)
        found = compare_sides(
            Truth(y, "regression", units=units),
            Side(y - e_a),
            Side(y - e_b),
            {m: Comparison(m) for m in hits},
            resamples=resamples,
            seed=int(rng.integers(1 << 31)),
        )
        for m in hits:
            hits[m] += found[m].low <= truth_diff[m] <= found[m].high
    return {m: h / reps for m, h in hits.items()}


@pytest.mark.parametrize(
    ("n", "ar", "block"),
    [(300, 0.0, None), (600, 0.5, 15)],
    ids=["independent rows", "AR(1) in time"],
)
def test_intervals_cover_the_true_difference_at_the_stated_rate(n, ar, block):
    """200 seeded replications at 95% nominal: coverage within the binomial band
    (3 standard errors: 0.95 +- 0.046). The time-correlated case needs the blocks."""
    coverage = _coverage(n, 200, 250, seed=11, ar=ar, block=block)
    for metric, rate in coverage.items():
        assert 0.904 <= rate <= 0.996, (metric, rate)


def test_row_bootstrap_undercovers_time_correlated_errors():
    """Why the blocks: the same AR(1) errors resampled row by row cover far too rarely."""
    coverage = _coverage(600, 100, 250, seed=11, ar=0.8, block=None)
    assert coverage["mae"] < 0.85


GATE = GateParams(
    metrics={"mae": GateMetric(direction="lower", tolerance=0.05)},
    baseline_margin=0.2,
    resamples=500,
)


def _rows(n, champion_sd, challenger_sd, slice_shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(100, 20, n)
    band = np.where(np.arange(n) % 10 == 0, "small", np.where(np.arange(n) % 2, "a", "b"))
    shared = rng.normal(size=n)
    champion = y + champion_sd * shared
    challenger = y + challenger_sd * (0.8 * shared + 0.6 * rng.normal(size=n))
    challenger = challenger + slice_shift * (band == "a")
    baseline = y + rng.normal(0, 40, n)
    return Rows(
        Truth(y, "regression"),
        Side(champion),
        Side(challenger),
        Side(baseline),
        {"band": band.astype(object)},
    )


def test_verdicts_name_the_regressed_slice_and_report_small_ones():
    rows = _rows(600, 10, 10, slice_shift=15)
    checks = {c.slice or c.name: c for c in paired_checks(rows, GATE, seed=1)}
    assert checks["band=a"].verdict == "regressed" and checks["band=a"].failed
    assert checks["band=small"].verdict in ("too small to tell", "within noise")
    small = paired_checks(_rows(200, 10, 10), GATE, seed=1)
    assert {c.slice: c.verdict for c in small if c.slice}["band=small"] == "too small to tell"
    assert not any(c.outcome == "fail" for c in small), "nothing is shown to regress"
    assert {c.action for c in small if c.failed} == {"needs review"}
    assert not any(c.failed for c in paired_checks(_rows(200, 10, 10), GATE, accepted=True))


def test_the_same_answers_are_unchanged_and_the_floor_is_paired():
    rows = _rows(400, 10, 10)
    same = Rows(rows.truth, rows.challenger, rows.challenger, rows.baseline, rows.slices)
    checks = paired_checks(same, GATE, seed=1)
    assert {c.verdict for c in checks if c.reference == "base"} == {"unchanged"}
    floor = [c for c in checks if c.reference == "naive baseline"]
    assert floor[0].name == "mae vs naive baseline" and floor[0].verdict == "improved"
    useless = Rows(rows.truth, None, rows.baseline, rows.baseline, {})
    checks = paired_checks(useless, GATE, seed=1)
    assert [c.verdict for c in checks if c.failed] == ["regressed"]
    assert checks[0].describe() == "mae: no base to compare with", "the first push"
    assert all(c.describe() for c in checks)


def test_an_absolute_tolerance_is_in_the_metrics_units():
    rows = _rows(2000, 10, 10.6, seed=2)  # MAE about +0.5
    loose = GateParams(
        metrics={"mae": GateMetric(direction="lower", tolerance=2, scale="absolute")}
    )
    tight = GateParams(
        metrics={"mae": GateMetric(direction="lower", tolerance=0.01, scale="absolute")}
    )
    assert not paired_checks(rows, loose, seed=1)[0].failed
    assert paired_checks(rows, tight, seed=1)[0].verdict == "regressed"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metrics": {"mape": {"direction": "lower", "tolerance": 0.1}}}, "gate.metrics.mape"),
        ({"slices": {"min_rows": 1}}, "gate.slices.min_rows"),
        (
            {"metrics": {"mae": {"direction": "lower", "tolerance": 1, "scale": "x"}}},
            "gate.metrics.mae.scale",
        ),
        ({"confidence": 1.5}, "gate.confidence"),
    ],
)
def test_gate_keys_are_typed_with_their_path(root, change, message):
    raw = read_yaml((root / "params.yaml").read_text())
    raw["gate"].update(change)
    with pytest.raises(ConfigError, match=message):
        parse_params(raw)


def test_the_report_shows_champion_to_challenger_with_intervals_and_a_figure():
    from mlops_engine.ci.interval_plot import interval_figure
    from mlops_engine.ci.markdown import ReportInputs, render

    checks = paired_checks(_rows(600, 10, 10, slice_shift=15), GATE, seed=1)
    text = render(
        ReportInputs(
            title="T",
            checks=checks,
            current={},
            base={},
            params_diff=[],
            validation=None,
            base_label="main",
            figures=["reports/pr/intervals.png"],
        )
    )
    mae = checks[0]
    assert f"| mae | {mae.base:.4g} → {mae.current:.4g} | {mae.delta:+.4g} [" in text
    assert "| band=a | 300 |" in text and "❌ regressed |" in text
    assert "| band=small | 60 |" in text
    assert "❌ **Quality gate failed**: mae: " in text and "; mae on band=a (300 rows):" in text
    png = interval_figure(checks)
    assert png.startswith(b"\x89PNG") and png == interval_figure(checks), "same bytes"
