"""The nightly drift check's I/O layer (``ct/monitor.run_monitor``) without a workflow: real
production storage in a temporary directory, the real model and Evidently, typed paths.

The act tests reach it through ``mlops monitor`` in a whole workflow; these pin what it reads,
what it writes and how it fails, in seconds."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from mlops_engine import storage
from mlops_engine.ct.monitor import MonitorOutcome, MonitorPaths, NoProductionData, run_monitor
from mlops_engine.ct.replay import as_traffic
from mlops_engine.pipeline.ingest import ingest
from mlops_engine.pipeline.reference import reference
from mlops_engine.serving.prediction_log import write_batch
from tests.datasets import month_rows
from tests.project import ROOT

pytestmark = pytest.mark.example


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, params, train_test, model):
    """What the nightly job finds: the model and its reference as DVC outputs, params
    pointing at production storage (empty so far)."""
    root = tmp_path_factory.mktemp("ct")
    train_rows, test_rows = train_test
    storage.write_model(model, root / "model.joblib")
    ref = reference(pd.concat([train_rows, test_rows]), model, params.contract)
    storage.write_parquet(ref, root / "reference.parquet")
    serve = params.serve.model_copy(
        update={
            "prediction_log": params.serve.prediction_log.model_copy(
                update={"sink": str(root / "logs")}
            )
        }
    )
    monitor = params.monitor.model_copy(update={"labelled_sink": str(root / "labelled")})
    production = params.model_copy(update={"serve": serve, "monitor": monitor})
    paths = MonitorPaths(
        reference=root / "reference.parquet",
        model=root / "model.joblib",
        dvc_file=ROOT / "dvc.yaml",
    )
    return root, production, paths


def _serve(root, rows, model, contract, labelled: bool = True) -> None:
    logs, truth = as_traffic(rows, model, "a1", contract)
    for sink, frame in [("logs", logs)] + ([("labelled", truth)] if labelled else []):
        for day, part in frame.groupby(frame["logged_at"].dt.date):
            write_batch(str(root / sink), part, at=pd.Timestamp(day))


def test_no_production_data_yet_is_written_as_such(deployed, tmp_path, monkeypatch):
    root, production, paths = deployed
    monkeypatch.chdir(ROOT)  # the committed reports/metrics.json is the model's own
    out = dataclasses.replace(paths, out_dir=tmp_path / "monitor")
    outcome = run_monitor(out, production)
    assert isinstance(outcome, NoProductionData)
    summary = json.loads((tmp_path / "monitor" / "summary.json").read_text())
    assert summary["verdict"] == "no_data" and summary["retrain"] is False, summary
    assert summary["windows"] == [] and str(root / "logs") in summary["reasons"][0]


@pytest.mark.slow  # a real Evidently report and the retraining decision: ~15 CPU-s
def test_a_drifted_month_writes_reports_and_asks_for_retraining(
    deployed, params, model, tmp_path, monkeypatch
):
    """The month after the model's training window is production: in every state the loop
    leaves params.yaml in (the template's window ends with March; a retraining PR's, with
    the month it learned), so this holds on `retrain/auto` too, where pr.yml runs it."""
    root, production, paths = deployed
    whole = params.ingest.model_copy(update={"history_until": None})
    year = ingest(storage.read_table(ROOT / params.ingest.source), whole)
    start = pd.Timestamp(params.split.window.end)
    end = start + pd.DateOffset(months=1)
    month = month_rows(year, str(start), str(end))
    assert len(month) > 500, f"the example data has no month after {start:%Y-%m-%d}"
    _serve(root, month, model, params.contract)
    monkeypatch.chdir(ROOT)
    out = dataclasses.replace(paths, out_dir=tmp_path / "monitor")
    outcome = run_monitor(out, production)
    assert isinstance(outcome, MonitorOutcome)
    assert outcome.now == end, "the day after the last logged row"
    assert outcome.decision.retrain, outcome.decision
    assert outcome.new_labelled_rows == len(month)
    summary = json.loads((tmp_path / "monitor" / "summary.json").read_text())
    assert summary["verdict"] == "drift" and summary["retrain"] is True
    for name in ("drift", "quality"):
        assert (tmp_path / "monitor" / f"{name}.html").stat().st_size > 100_000

    # A corrupted labelled batch is not drift: the check stops naming the column and rule.
    last_days = end - pd.Timedelta(days=3)
    bad = month_rows(year, str(last_days), str(end)).assign(hum=5.0)
    _, truth = as_traffic(bad, model, "a1", params.contract)
    write_batch(str(root / "labelled"), truth, at=end - pd.Timedelta(days=1))
    with pytest.raises(ValueError, match=r"labelled rows in .* break the data contract"):
        run_monitor(out, production)
