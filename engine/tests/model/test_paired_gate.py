"""The paired gate tells a regression from noise, on real models (issue 25's must-shows).

Each case trains the models in-process on one split and compares them with both gates: the
point gate (``compare``: fixed relative tolerances on the aggregate, what the gate was) and
the paired gate (``paired_checks``: a bootstrap interval per metric and per slice). Each
case is one the point gate gets wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlops_engine import storage
from mlops_engine.ci.champion import side_of
from mlops_engine.ci.gate import Rows, compare, paired_checks
from mlops_engine.config import Params, parse_params, read_yaml
from mlops_engine.onboarding.infer_contract import infer, params_changes
from mlops_engine.paired import Side, Truth, time_blocks
from mlops_engine.pipeline.baseline import GroupMeanBaseline
from mlops_engine.pipeline.evaluate import score, slice_labels
from mlops_engine.pipeline.ingest import ingest
from mlops_engine.pipeline.split import split
from mlops_engine.pipeline.train import train
from mlops_engine.pipeline.validate import validate
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def rows_for(params: Params, train_rows, test, champion, challenger) -> Rows:
    """What ``champion.gate_rows`` gathers from a workspace, from in-memory models."""
    c = params.contract
    y = test[c.target].to_numpy()
    classes = None if c.task == "regression" else np.asarray(challenger.classes_)
    units = stamps = None
    if params.split.method == "time":
        stamps = test[c.time_column].to_numpy()
        units = time_blocks(stamps, params.gate.block_length)
    truth = Truth(y if classes is None else y.astype(object), c.task, classes, units, stamps)
    naive = GroupMeanBaseline(params.evaluate.baseline.group_by, c.task).fit(
        train_rows[c.features], train_rows[c.target]
    )
    X = test[c.features]
    if c.task == "regression":
        baseline = Side(np.round(naive.predict(X), 4))
    else:
        order = [list(naive.classes_).index(k) for k in classes]
        baseline = Side(naive.predict(X), naive.predict_proba(X)[:, order])
    slices = {s.name: slice_labels(test, s).to_numpy() for s in params.evaluate.slices}
    return Rows(truth, side_of(champion, test, c), side_of(challenger, test, c), baseline, slices)


def point_failures(params: Params, test, champion, challenger) -> list[str]:
    before = score(champion, test, params.contract)
    after = score(challenger, test, params.contract)
    return [c.name for c in compare(before, after, params.gate) if c.failed]


def paired_failures(params: Params, rows: Rows) -> list[str]:
    """The checks shown to regress (inconclusive ones need review: not counted here)."""
    return [c.slice or c.name for c in paired_checks(rows, params.gate) if c.outcome == "fail"]


# The scenarios pin the template as shipped (its params.yaml at this commit), not the
# project's current params: a PR that tunes the model or a retraining PR that moves the
# window must not change what these tests measure (pr.yml runs them on every state).
TEMPLATE = ROOT / "engine" / "tests" / "fixtures" / "template_params.yaml"


@pytest.fixture(scope="module")
def example():
    params = parse_params(read_yaml(TEMPLATE.read_text()))
    frame = ingest(storage.read_table(ROOT / params.ingest.source), params.ingest)
    data = validate(frame, params.contract).frame
    train_rows, test = split(data, params.split, params.contract, params.seed)
    return params, train_rows, test, train(train_rows, params.train, params.contract, 42)


@pytest.mark.example
def test_a_seed_only_change_passes_the_paired_gate_and_failed_the_point_gate(example):
    """Issue 25: seed 42 -> 7 moves the example's MAE 19.74 -> 21.05 (+6.6%)."""
    params, train_rows, test, champion = example
    challenger = train(train_rows, params.train, params.contract, 7)
    assert point_failures(params, test, champion, challenger) == ["mae", "rmse", "r2"]
    rows = rows_for(params, train_rows, test, champion, challenger)
    checks = paired_checks(rows, params.gate)
    mae = next(c for c in checks if c.name == "mae" and c.slice is None)
    assert (round(mae.base, 2), round(mae.current, 2)) == (19.74, 21.05)
    assert mae.low <= mae.allowed, "the interval cannot show a regression beyond 5%"
    assert [c.describe() for c in checks if c.outcome == "fail"] == []
    # nor within 5% on 414 rows (detectable: ~13%): a person decides (docs/ci.md)
    assert mae.outcome == "inconclusive" and mae.action == "needs review"
    accepted = paired_checks(rows, params.gate, accepted=True)
    assert [c.describe() for c in accepted if c.failed] == []


def _degraded(rows: Rows, factor: float, where=None) -> Rows:
    """The challenger with each row's error (on ``where``'s rows) ``factor`` times larger."""
    y = rows.truth.y.astype(float)
    scale = np.where(True if where is None else where, factor, 1.0)
    worse = Side(np.round(y - scale * (y - rows.challenger.predicted), 4))
    return Rows(rows.truth, rows.champion, worse, rows.baseline, rows.slices)


@pytest.mark.example
@pytest.mark.parametrize("seed", [7, 11, 23])
def test_a_clear_regression_never_passes_without_the_label(example, seed):
    """Issue 35: a seed-only challenger made 10% worse on every row, or 30% worse on the
    72 rows of the late hours only, fails or needs review; it never passes unless a
    maintainer adds the label."""
    params, train_rows, test, champion = example
    rows = rows_for(
        params, train_rows, test, champion, train(train_rows, params.train, params.contract, seed)
    )
    late = rows.slices["hr_band"] == "late"
    for worse in (_degraded(rows, 1.10), _degraded(rows, 1.30, late)):
        checks = paired_checks(worse, params.gate)
        assert any(c.failed for c in checks), [c.describe() for c in checks]
        assert any(c.outcome != "pass" for c in checks if c.slice == "hr_band=late" or not c.slice)


@pytest.mark.example
def test_a_change_that_degrades_one_hour_band_fails_naming_it(example):
    """90% of the training rows of the 'late' hours (20-24 h) lost (which ones: generator
    seed 5): overall MAE 19.74 -> 20.27 (+2.7%) passes the point gate's 5%, while the late
    hours' MAE grows 14.21 -> 19.37 (+36%) and the paired gate fails naming them."""
    params, train_rows, test, champion = example
    band = slice_labels(train_rows, params.evaluate.slices[0]).to_numpy()
    keep = (band != "late") | (np.random.default_rng(5).random(len(train_rows)) < 0.1)
    challenger = train(train_rows[keep], params.train, params.contract, 42)
    assert point_failures(params, test, champion, challenger) == []
    rows = rows_for(params, train_rows, test, champion, challenger)
    assert paired_failures(params, rows) == ["hr_band=late"]


@pytest.fixture(scope="module")
def oj():
    """A table made with `mlops init`: tests/fixtures/oj.csv.gz (1,070 rows, target
    Purchase), params.yaml rewritten as init rewrites it; 214 test rows."""
    source = ROOT / "engine" / "tests" / "fixtures" / "oj.csv.gz"
    frame = storage.read_table(source)
    raw = read_yaml(TEMPLATE.read_text())
    changes = params_changes(infer(frame, "Purchase"), str(source), "Purchase", None, "oj", 1070)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = raw
        for key in parents:
            node = node[key]
        node[leaf] = value
    params = parse_params(raw)
    data = validate(ingest(frame, params.ingest), params.contract).frame
    train_rows, test = split(data, params.split, params.contract, params.seed)
    return params, train_rows, test, train(train_rows, params.train, params.contract, 42)


def test_a_seed_only_change_passes_on_an_init_table(oj):
    params, train_rows, test, champion = oj
    challenger = train(train_rows, params.train, params.contract, 7)
    rows = rows_for(params, train_rows, test, champion, challenger)
    checks = paired_checks(rows, params.gate)
    assert [c.describe() for c in checks if c.outcome == "fail"] == []
    classes = {c.slice for c in checks if c.slice and c.slice.startswith("class=")}
    assert classes == {"class=CH", "class=MM"}, "each class is a slice of its own"


def test_a_noise_level_change_on_a_small_test_set_passes(oj):
    """`train.blend: false` on the init table: f1 0.7949 -> 0.7771 (-2.2%) fails the point
    gate.s 2%; on 214 rows that is two answers, and the paired interval reaches zero."""
    params, train_rows, test, champion = oj
    no_blend = params.train.model_copy(update={"blend": False})
    challenger = train(train_rows, no_blend, params.contract, 42)
    assert point_failures(params, test, champion, challenger) == ["f1"]
    rows = rows_for(params, train_rows, test, champion, challenger)
    checks = paired_checks(rows, params.gate)
    assert [c.describe() for c in checks if c.outcome == "fail"] == []
    f1 = next(c for c in checks if c.name == "f1" and c.slice is None)
    assert f1.low < 0 <= f1.high and f1.verdict in ("within noise", "inconclusive")
