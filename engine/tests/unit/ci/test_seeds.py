"""Training randomness in the gate (ci/seeds.py): when the candidate is trained on other
seeds, what the intervals become, and what the report says when it is not."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import stdtrit

from mlops_engine.ci import seeds
from mlops_engine.ci.champion import side_of
from mlops_engine.ci.gate import Rows, paired_checks
from mlops_engine.config import (
    GateMetric,
    GateParams,
    Params,
    SeedGate,
    TrainParams,
    load_params,
)
from mlops_engine.paired import Side, Truth
from mlops_engine.pipeline.train import train
from tests.conftest import ROOT
from tests.frames import tiny_contract, tiny_frame


def test_the_extra_seeds_are_fixed_and_never_the_training_seed():
    first = seeds.extra_seeds(42, 0, 3)
    assert first == seeds.extra_seeds(42, 0, 3), "a re-run trains the same seeds"
    assert len(first) == 2 and 42 not in first
    assert seeds.extra_seeds(7, 0, 3) != first, "a seed-only change draws other ones"
    assert seeds.extra_seeds(42, 0, 1) == ()


def test_no_spread_leaves_the_interval_as_it_was():
    assert seeds.widen(1.0, (0.2, 2.5), (0.002, 0.997), 17, 0.0, 3) == (0.2, 2.5)


def test_the_seed_term_is_added_with_welch_satterthwaite_degrees_of_freedom():
    """Rows' side: half-width 2 at tail 0.025 with 16 degrees of freedom (17 blocks); seed
    variance 1 from 3 models (2 df). The sum's df by Welch-Satterthwaite, and the
    half-width its t quantile times the combined standard error."""
    se = 2 / stdtrit(16, 0.975)
    nu = (se**2 + 1) ** 2 / (se**4 / 16 + 1 / 2)
    half = stdtrit(nu, 0.975) * math.sqrt(se**2 + 1)
    low, high = seeds.widen(0.0, (-2.0, 2.0), (0.025, 0.975), 17, 1.0, 3)
    assert low == pytest.approx(-half) and high == pytest.approx(half)
    assert 2 < nu < 16 and half > math.sqrt(2**2 + stdtrit(16, 0.975) ** 2)
    # the seed's term alone: Student's t with k - 1 = 2 df, not the normal quantile
    assert seeds.widen(0.0, (0.0, 0.0), (0.025, 0.975), None, 1.0, 3)[1] == pytest.approx(
        stdtrit(2, 0.975)
    )


def _rows(n=400, seed=0):
    """A challenger whose every error is 5% larger than the champion's: shown worse on
    these rows, and shown within a 50% tolerance."""
    rng = np.random.default_rng(seed)
    y = rng.normal(100, 20, n)
    champion = y + 10 * rng.normal(size=n)
    return Rows(
        Truth(y, "regression"),
        Side(champion),
        Side(y + 1.05 * (champion - y)),
        Side(y + rng.normal(0, 40, n)),
        {},
    )


GATE = GateParams(
    metrics={"mae": GateMetric(direction="lower", tolerance=0.5)}, baseline_margin=0.1
)


def test_improved_or_regressed_is_claimed_only_beyond_what_another_seed_could_do():
    """The same challenger (MAE +5%), once alone and once with two other seeds' models
    whose MAE are +2% and +8%: the rows alone show it worse ("within tolerance"); with the
    seeds' spread counted it is no longer shown either way ("within noise")."""
    rows = _rows()
    alone = paired_checks(rows, GATE)[0]
    assert alone.verdict == "within tolerance", alone.describe()
    y, champion = rows.truth.y, rows.champion.predicted
    others = tuple(Side(y + f * (champion - y)) for f in (1.02, 1.08))
    counted = paired_checks(replace(rows, seed_sides=others), GATE)[0]
    assert counted.low < 0 < alone.low < alone.high < counted.high, (
        alone.describe(),
        counted.describe(),
    )
    assert counted.verdict == "within noise", counted.describe()
    assert counted.detectable > alone.detectable
    # the floor is about the model that ships: not widened
    floor = [c.interval_text() for c in paired_checks(rows, GATE) if c.reference != "base"]
    again = paired_checks(replace(rows, seed_sides=others), GATE)
    assert floor == [c.interval_text() for c in again if c.reference != "base"]


def _params(**train) -> Params:
    from mlops_engine.config import load_params

    base = load_params(ROOT / "params.yaml")
    return base.model_copy(
        update={
            "contract": tiny_contract(),
            "train": TrainParams(**train),
            "gate": base.gate.model_copy(update={"seeds": SeedGate(count=3, max_train_seconds=30)}),
        }
    )


def _candidate(params: Params):
    frame = tiny_frame(300)
    train_rows, test = frame.iloc[:200], frame.iloc[200:]
    model = train(train_rows, params.train, params.contract, params.seed)
    return train_rows, test, side_of(model, test, params.contract)


def test_the_candidate_is_trained_on_the_other_seeds_and_counted():
    params = _params(estimator="hist_gradient_boosting", n_threads=1)
    train_rows, test, mine = _candidate(params)
    runs = seeds.train_seeds(train_rows, test, params, mine)
    assert runs.status == "counted" and len(runs.sides) == 2
    assert runs.seeds == seeds.extra_seeds(params.seed, params.gate.seed, 3)
    assert "Seed noise counted" in runs.note() and str(runs.seeds[0]) in runs.note()


def test_a_model_that_does_not_depend_on_its_seed_is_said_so():
    params = _params(estimator="linear")
    train_rows, test, mine = _candidate(params)
    runs = seeds.train_seeds(train_rows, test, params, mine)
    assert runs.status == "deterministic" and runs.sides == ()
    assert "Seed noise is not counted: the candidate does not depend on its" in runs.note()


def test_a_training_over_the_limit_is_stopped_there_and_not_counted():
    """The limit stops the training itself (SIGALRM), so a slow model costs the gate at
    most the limit: 3,000 forest trees take ~10 s here, the gate gives up at 0.2 s."""
    params = _params(estimator="random_forest", hyperparams={"n_estimators": 3000}, n_threads=1)
    params = params.model_copy(
        update={
            "gate": params.gate.model_copy(
                update={"seeds": SeedGate(count=3, max_train_seconds=0.2)}
            )
        }
    )
    frame = tiny_frame(300)
    mine = Side(np.zeros(100))
    start = time.perf_counter()
    runs = seeds.train_seeds(frame.iloc[:200], frame.iloc[200:], params, mine)
    assert time.perf_counter() - start < 5, "the limit stopped it (untimed: ~10 s)"
    assert runs.status == "too slow" and runs.sides == ()
    assert "Seed noise is not counted: one training of the candidate took over 0.2 s" in (
        runs.note()
    )


def test_nothing_is_trained_without_a_base_or_a_change(tmp_path):
    rows = _rows()
    params = _params()
    lock = tmp_path / "dvc.lock"  # never read: nothing to train
    same = replace(rows, challenger=rows.champion)
    assert seeds.for_rows(same, params, lock)[1].status == "unchanged"
    assert seeds.for_rows(replace(rows, champion=None), params, lock)[1].status == "no base"
    off = params.model_copy(
        update={"gate": params.gate.model_copy(update={"seeds": SeedGate(count=1)})}
    )
    runs = seeds.for_rows(rows, off, lock)[1]
    assert runs.status == "off" and "`gate.seeds.count: 1`" in runs.note()


def test_the_template_counts_three_seeds_within_a_minute(root):
    rule = load_params(root / "params.yaml").gate.seeds
    assert (rule.count, rule.max_train_seconds) == (3, 60)
