"""reports/model_card.md is the committed model's card: generated, and true to that model."""

from __future__ import annotations

import re

import pytest
import yaml

from mlops_engine import storage
from mlops_engine.pipeline.model_card import GENERATED, CardInputs, render
from mlops_engine.storage import md5_of
from tests.project import ROOT

CARD = ROOT / "reports" / "model_card.md"


def _lock_out(stage: str, word: str) -> tuple[str, str]:
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())
    (found,) = [o for o in lock["stages"][stage]["outs"] if word in o["path"]]
    return found["path"], found["md5"]


def test_the_committed_card_describes_the_committed_model(params):
    text = CARD.read_text()
    assert text.startswith(GENERATED), "generated, never hand-edited"
    model_path, model_md5 = _lock_out("train", "model")
    assert f"| {model_path} | `{model_md5}` |" in text, "lineage: the model in dvc.lock"
    _, test_md5 = _lock_out("split", "test")
    assert f"`{test_md5}`" in text
    metrics = storage.read_json(ROOT / "reports" / "metrics.json")
    for name in params.gate.metrics:
        row = re.search(rf"^\| {name} \| ([^|]+) \| \[", text, re.M)
        assert row and float(row.group(1)) == pytest.approx(metrics[name], rel=1e-3), name
    assert f"Test rows: {metrics['n_test']:,}" in text
    assert f"Training rows: {metrics['n_train']:,}" in text
    if params.model_card.intended_use:
        assert params.model_card.intended_use.strip() in text


def test_the_card_is_rendered_from_the_model_it_describes(model, train_test, params, tmp_path):
    """In-process: the card's intervals hold its own point metrics, and the params' own
    words or the placeholder are there."""
    path = tmp_path / "model.joblib"
    storage.write_model(model, path)
    inputs = CardInputs(params, model, *train_test, {}, {}, [], {"m": md5_of(path)})
    text = render(inputs)
    assert text == render(inputs), "deterministic"
    for row in re.finditer(r"^\| (\w+) \| ([-\d.e]+) \| \[([-\d.e]+), ([-\d.e]+)\] \|", text, re.M):
        value, low, high = (float(row.group(i)) for i in (2, 3, 4))
        assert low <= value <= high, row.group(0)
    blank = params.model_copy(
        update={"model_card": params.model_card.model_copy(update={"intended_use": None})}
    )
    assert "Not written yet" in render(CardInputs(blank, model, *train_test, {}, {}, [], {}))


def test_the_cards_intervals_and_gate_wording_are_the_gates(model, train_test, params):
    """The card draws its intervals as the gate does (docs/ci.md): seeded with gate.seed, not
    the training seed (changing `seed` alone redraws nothing), blocks from the data; and
    it describes the gate's three outcomes, not the old one-sided rule."""
    from mlops_engine.pipeline.model_card import metric_intervals

    inputs = CardInputs(params, model, *train_test, {}, {}, [], {})
    reseeded = params.model_copy(update={"seed": params.seed + 1})
    assert metric_intervals(inputs) == metric_intervals(
        CardInputs(reseeded, model, *train_test, {}, {}, [], {})
    ), "the training seed does not draw the card's resamples"
    gate = params.gate.model_copy(update={"seed": params.gate.seed + 1})
    other = params.model_copy(update={"gate": gate})
    assert metric_intervals(inputs) != metric_intervals(
        CardInputs(other, model, *train_test, {}, {}, [], {})
    ), "gate.seed does"
    text = render(inputs)
    assert f"seeded with gate.seed {params.gate.seed}" in text
    assert "fails when shown beyond it, and is otherwise inconclusive" in text
    if params.split.method == "time" and params.gate.block_length is None:
        assert "their length from the data (Politis-White, at least a day)" in text
