"""reports/model_card.md is the committed model's card: generated, and true to that model."""

from __future__ import annotations

import re

import pytest
import yaml

from mlops_engine import metric_defs, storage
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


def test_the_stage_renders_the_committed_card_and_a_projects_template_rewords_it(
    model, train_test, params, tmp_path, monkeypatch
):
    """The stage's command, as dvc.yaml runs it, on the committed model's inputs laid out in a
    project folder: with the engine's template the card is byte for byte the committed one;
    with the project's templates/model_card.md.j2 it is that template's (the stage lists the
    folder in its deps, tests/repo/test_stage_deps.py)."""
    import shlex
    import shutil

    from mlops_engine.cli import main
    from mlops_engine.pipeline.split import set_aside

    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["model_card"]
    argv = shlex.split(stage["cmd"].replace("${ingest.source}", params.ingest.source))[1:]
    args = dict(zip(argv[1::2], argv[2::2], strict=True))
    storage.write_model(model, tmp_path / args["--model"])
    storage.write_parquet(train_test[0], tmp_path / args["--train"])
    test, _ = set_aside(train_test[1], params.split, params.contract, params.seed)  # as split
    storage.write_parquet(test, tmp_path / args["--test"])
    for committed in ("--source", "--metrics", "--slices", "--importance"):
        (tmp_path / args[committed]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / args[committed], tmp_path / args[committed])
    monkeypatch.chdir(tmp_path)
    command = ["--params", str(ROOT / "params.yaml"), *argv]
    assert main(command) == 0
    assert (tmp_path / args["--out"]).read_bytes() == CARD.read_bytes(), "the engine's wording"
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "model_card.md.j2").write_text(
        "# {{ params.serve.model_name }} for the ops team\n"
        "{% for name, value, low, high in intervals %}{{ name }}: {{ value | num }}\n{% endfor %}"
    )
    assert main(command) == 0
    text = (tmp_path / args["--out"]).read_text()
    first = metric_defs.names(params.contract.task)[0]  # the card's first metric: mae, accuracy
    assert text.startswith(f"{GENERATED}\n# {params.serve.model_name} for the ops team\n{first}: ")
    (tmp_path / "templates" / "model_card.md.j2").write_text("{{ model_nmae }}\n")
    assert main(command) == 1, "an unknown variable fails the stage (the message names it)"
