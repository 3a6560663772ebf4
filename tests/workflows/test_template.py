"""The template as a new user meets it: copy it, `make init` on a dataset it has never
seen (tests/fixtures/oj.csv.gz, binary classification), then `make run` and `make test`.

Marked `example`: it proves the pristine template, so it skips inside the project it
creates (whose data is no longer the example), which keeps it from recursing.
"""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from tests.project import clone, env
from tests.workflows.act import uv_bin_dir

pytestmark = [pytest.mark.workflows, pytest.mark.slow, pytest.mark.example]


def _make(project, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    run_env = {**env(), "PATH": f"{uv_bin_dir()}{os.pathsep}{os.environ['PATH']}"}
    run_env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        ["make", *args],
        cwd=project,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _ok(proc) -> str:
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return proc.stdout + proc.stderr


def test_a_new_user_brings_a_classification_table_and_everything_passes(tmp_path):
    project = clone(tmp_path / "my-project")
    out = _ok(_make(project, "init", "DATA=tests/fixtures/oj.csv.gz", "TARGET=Purchase"))
    assert "task: classification of 'Purchase'" in out and "Store7" in out
    assert not (project / "data/raw/bikeshare_2011.csv.gz").exists()
    assert (project / "data/examples/bikeshare_2011.csv.gz").exists(), "archived, not lost"
    assert "template: confusion" in (project / "dvc.yaml").read_text(), "plots for the task"

    out = _ok(_make(project, "run"))
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert metrics["f1"] > metrics["baseline"]["f1"] and metrics["roc_auc"] > 0.8
    figures = {p.name for p in (project / "reports/figures").iterdir()}
    assert {"confusion_matrix.png", "roc.png"} <= figures
    assert "Task: classification of 'Purchase'" in out

    _ok(_make(project, "test", "PYTEST_ARGS=--junitxml=junit.xml -p no:cacheprovider"))
    cases = ET.parse(project / "junit.xml").getroot().iter("testcase")
    outcome: dict[str, list[str]] = {}
    for case in cases:
        status = "skipped" if case.find("skipped") is not None else "passed"
        if case.find("failure") is not None or case.find("error") is not None:
            status = "failed"
        outcome.setdefault(case.get("classname", ""), []).append(status)
    for module in ("tests.data.test_project_data", "tests.model.test_project_model"):
        assert outcome.get(module) and set(outcome[module]) == {"passed"}, (module, outcome)
    assert set(outcome["tests.data.test_contract"]) == {"skipped"}, "example-only tests skip"
    assert "failed" not in {s for v in outcome.values() for s in v}
