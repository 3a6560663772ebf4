"""The real DVC pipeline on throwaway copies of the project (slow)."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
import yaml

from tests.project import (
    BIN,
    ROOT,
    clone,
    dvc,
    lock_outs,
    missing_cache_objects,
    run,
    seed_reproduction,
    use_cache,
)

pytestmark = [pytest.mark.slow, pytest.mark.example]

STAGES = list(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])  # in pipeline order


@pytest.fixture(scope="session")
def reproduced(dvc_seed):
    """A fresh clone reproduced once, with its committed reports deleted first so that every
    stage really runs and every output, figures included, is compared with the committed
    dvc.lock: the run's DVC seed (tests/project.py seed_cache), made once per test run
    whichever worker needs it first. Tests below only read it or copy its cache."""
    return seed_reproduction(dvc_seed)


def test_fresh_clone_reproduces_the_committed_lock(reproduced):
    project, said = reproduced
    for stage in STAGES:
        assert f"Running stage '{stage}'" in said
    assert (project / "dvc.lock").read_text() == (ROOT / "dvc.lock").read_text(), (
        "dvc.lock differs from the committed one: the pipeline is not reproducible, "
        "or dvc.lock was not committed after a change (run `make run` and commit dvc.lock)"
    )
    assert missing_cache_objects(project) == []


def test_second_repro_does_nothing_and_says_so(reproduced):
    project, _ = reproduced
    before = (project / "dvc.lock").read_text()
    result = dvc(project, "repro")
    assert "Data and pipelines are up to date." in result.stdout
    assert "Running stage" not in result.stdout
    assert (project / "dvc.lock").read_text() == before


def test_metrics_and_plots_commands_work(reproduced, tmp_path):
    project, _ = reproduced
    shown = json.loads(dvc(project, "metrics", "show", "--json").stdout)
    metrics = shown[""]["data"]["reports/metrics.json"]["data"]
    assert metrics["mae"] < metrics["baseline"]["mae"]
    dvc(project, "plots", "show", "-o", str(tmp_path / "plots_html"))
    html = (tmp_path / "plots_html" / "index.html").read_text()
    assert "predicted_vs_actual" in html and "feature_importance.png" in html


def test_changing_one_param_reruns_only_the_stages_that_read_it(dvc_seed, tmp_path):
    """A param only evaluate reads: evaluate and the card (which shows the importances) run,
    training is restored. A training param reruns train and what follows it: the README
    walk's `dvc exp run -S train.hyperparams.learning_rate=0.05` (pipeline.md) checks that
    on the same commit (tests/docs/test_walkthroughs.py)."""
    project = clone(tmp_path / "exp")
    # Start from the reproduced clone's cache so unchanged stages are restored, not rerun.
    use_cache(project, dvc_seed, tmp_path / "cache")
    dvc(project, "checkout")
    result = dvc(project, "exp", "run", "-S", "evaluate.importance_repeats=3")
    ran = {s for s in STAGES if f"Running stage '{s}'" in result.stdout}
    assert ran == {"evaluate", "model_card"}, result.stdout
    header, *rows = csv.reader(io.StringIO(dvc(project, "exp", "show", "--csv").stdout))
    (column,) = [i for i, name in enumerate(header) if name.endswith("importance_repeats")]
    assert {row[column] for row in rows} == {"3", "5"}, "the experiment next to main"


@pytest.mark.example
def test_bad_data_stops_at_validate_and_the_last_good_model_is_recoverable(dvc_seed, tmp_path):
    project = clone(tmp_path / "bad")
    use_cache(project, dvc_seed, tmp_path / "cache")
    dvc(project, "checkout")
    good = lock_outs(project)
    raw_path = project / "data/raw/bikeshare_2011.csv.gz"
    raw = pd.read_csv(raw_path)
    raw.loc[10, "weathersit"] = "tornado"
    raw.drop(columns=["hum"]).to_csv(raw_path, index=False)
    result = dvc(project, "repro", check=False)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "column 'weathersit' failed rule 'allowed_categories'" in log
    assert "column 'hum' failed rule 'required_column'" in log
    for stage in ("split", "train", "evaluate"):
        assert f"Running stage '{stage}'" not in log
    report = json.loads((project / "reports/validation.json").read_text())
    assert report["valid"] is False
    # Stages before the failure may be locked (ingest did succeed); nothing after it moves.
    after = lock_outs(project)
    assert {k: v for k, v in after.items() if "interim" not in k} == {
        k: v for k, v in good.items() if "interim" not in k
    }
    assert missing_cache_objects(project) == []
    assert (project / "models/model.joblib").exists(), "the last good model is still in place"
    # README: the last good artifacts come back from the cache.
    run(project, "git", "checkout", "--", "data/raw", "reports", "dvc.lock")
    dvc(project, "checkout", "--force")
    assert "up to date" in dvc(project, "status").stdout


# Multiclass here, through `mlops init` on a table the template has never seen (it replaced
# a hand-written wine contract: same cost, one `dvc repro`). A binary table goes through
# every stage (ROC figure, thresholds, f1 and ROC AUC over the baseline) in the guide's
# walkthrough and the after-init loop, both on tests/fixtures/oj.csv.gz. Many more shapes
# run through the stage cores in-process: tests/model/test_init_property.py.
def test_classification_pipeline_end_to_end(tmp_path, monkeypatch):
    """Daily rows with a five-class label whose rare class ('snow') occurs only in the
    first winters, rows repeated exactly but for their date, an identifier, missing
    values: init says the last 20% by time holds no 'snow', `dvc repro` completes, and
    the summary and the model card say which class the figures leave out (evaluate
    stopped on it: 'y_true and y_prob contain different number of classes: 4 vs 5')."""
    from tests.stranger import Stranger, stranger_table

    project = clone(tmp_path / "stranger")
    data = tmp_path / "weather.csv"
    spec = Stranger(rows=400, rare_seasonal=True, duplicates=6, identifier=True, missing=0.1)
    stranger_table(spec).to_csv(data, index=False)
    init = run(project, str(BIN / "mlops"), "init", "--data", str(data), "--target", "y")
    assert "the test set holds no row of class(es) snow" in init.stdout, init.stdout
    assert "stratified" not in init.stdout
    dvc(project, "repro")
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert {"accuracy", "f1", "roc_auc", "log_loss"} <= set(metrics)
    assert metrics["test_classes"] == {"absent": ["snow"], "not_trained": []}
    assert metrics["accuracy"] > metrics["baseline"]["accuracy"]
    figures = {p.name for p in (project / "reports/figures").iterdir()}
    assert "confusion_matrix.png" in figures and "roc.png" not in figures
    summary = run(project, str(BIN / "mlops"), "summary").stdout
    assert "classification of 'y'" in summary and "accuracy" in summary
    assert "Classes: the test set holds no row of class(es) snow" in summary
    card = (project / "reports/model_card.md").read_text()
    assert "- Classes: the test set holds no row of class(es) snow" in card
    # The paired gate on these DVC outputs, its champion the same model file: every side
    # has a column per declared class, f1 is evaluate's, no slice for the absent class.
    from pathlib import Path

    from mlops_engine.ci.champion import Base, gate_rows
    from mlops_engine.ci.gate import paired_checks
    from mlops_engine.config import load_params

    monkeypatch.chdir(project)
    params = load_params("params.yaml")
    base = Base("model", {}, "the same model", Path("models/model.joblib"))
    rows = gate_rows("HEAD", base, params, Path("dvc.lock"), None)
    assert list(rows.truth.classes) == ["high", "low", "mid", "peak", "snow"]
    assert rows.challenger.proba.shape == rows.baseline.proba.shape == (len(rows.truth.y), 5)
    checks = paired_checks(rows, params.gate)
    f1 = next(c for c in checks if c.name == "f1" and c.slice is None)
    assert f1.current == pytest.approx(metrics["f1"], abs=1e-6)
    assert "class=snow" not in {c.slice for c in checks} and not any(c.failed for c in checks)
