"""Continuous training before any production data: after `mlops init` on your own data there
is no demo stream, and until the service logs predictions there is nothing to check. Both are
a normal state of a new project: the nightly run is green and says so."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from mlops_engine.cli import main
from tests.project import ROOT


def _params(tmp: Path) -> Path:
    """This project's params.yaml as `mlops init` leaves it for your own data (no
    ingest.history_until, so no demo stream) and with nothing logged yet."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["ingest"]["history_until"] = None
    params["serve"]["prediction_log"]["sink"] = str(tmp / "production" / "logs")
    params["monitor"]["labelled_sink"] = str(tmp / "production" / "labelled")
    params["stream"]["cursor"] = str(tmp / "production" / "cursor.json")
    path = tmp / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def test_replay_without_a_demo_stream_is_a_green_notice(tmp_path, capsys):
    summary = tmp_path / "summary.md"
    code = main(["--params", str(_params(tmp_path)), "replay", "--summary", str(summary)])
    assert code == 0
    text = summary.read_text()
    assert "Nothing to check yet" in text and "ingest.history_until is not set" in text
    assert not (tmp_path / "production").exists(), "nothing replayed, no cursor"


def test_monitor_without_any_production_logs_is_green_and_does_not_retrain(tmp_path, capsys):
    out, summary = tmp_path / "github_output", tmp_path / "summary.md"
    code = main(
        [
            "--params",
            str(_params(tmp_path)),
            "monitor",
            "--out-dir",
            str(tmp_path / "reports"),
            "--github-output",
            str(out),
            "--summary",
            str(summary),
        ]
    )
    assert code == 0, "no data is not a retrain (3) and not a failure (1)"
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert outputs["retrain"] == "false" and outputs["verdict"] == "no_data"
    assert "no production data yet" in summary.read_text()
    assert "no production data yet" in capsys.readouterr().out
    recorded = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert (recorded["verdict"], recorded["retrain"]) == ("no_data", False)
