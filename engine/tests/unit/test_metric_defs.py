"""One metric registry (mlops_engine/metric_defs.py): every metric the pipeline emits is
in it, params.yaml's metric names are validated against it, and no other module defines a
metric's direction or its task's list of metrics a second time."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlops_engine import metric_defs
from mlops_engine.config import ConfigError, parse_params
from mlops_engine.pipeline.metrics import classification_metrics, regression_metrics
from tests.project import ROOT

SOURCES = [ROOT / "engine" / "src" / "mlops_engine", ROOT / "src"]
REGISTRY_FILE = ROOT / "engine" / "src" / "mlops_engine" / "metric_defs.py"


def test_every_metric_the_pipeline_computes_is_registered_for_its_task():
    y = np.array([1.0, 2.0, 4.0, 3.0])
    assert set(regression_metrics(y, y + 0.5)) == set(metric_defs.names("regression"))
    labels = np.array(["a", "b", "b", "a"], dtype=object)
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4]])
    found = classification_metrics(labels, labels, proba, np.array(["a", "b"], dtype=object))
    assert set(found) == set(metric_defs.names("classification"))
    assert set(metric_defs.REGISTRY) == set(metric_defs.names("regression")) | set(
        metric_defs.names("classification")
    )


def test_the_registry_answers_what_the_reports_and_the_gate_ask():
    assert metric_defs.direction("mae") == "lower"
    assert metric_defs.direction("roc_auc") == "higher"
    assert metric_defs.arrow(metric_defs.direction("log_loss")) == "↓"
    assert metric_defs.proper("classification") == "log_loss"
    assert metric_defs.proper("classification", proba=False) == "accuracy"
    assert metric_defs.task_of({"mae": 1.0, "baseline": {}}) == "regression"
    assert metric_defs.task_of({"accuracy": 1.0}) == "classification"
    with pytest.raises(metric_defs.UnknownMetric, match=r"unknown metric 'mape' \(one of mae"):
        metric_defs.direction("mape")


def _second_definitions(path: Path) -> list[str]:
    """Collection literals of two or more registry metric names (a task's list, a
    direction's set), dict literals with a literal ``direction``, and HIGHER/LOWER_IS_BETTER
    names: each a second definition of what the registry holds."""
    known = set(metric_defs.REGISTRY)
    wrong = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Set | ast.Tuple | ast.List):
            named = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if sum(1 for v in named if isinstance(v, str) and v in known) >= 2:
                wrong.append(f"{path}:{node.lineno} lists metrics {named}")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                literal = isinstance(value, ast.Constant)  # not the registry's answer
                if literal and isinstance(key, ast.Constant) and key.value == "direction":
                    wrong.append(f"{path}:{node.lineno} writes a direction")
        elif isinstance(node, ast.Name) and node.id in ("HIGHER_IS_BETTER", "LOWER_IS_BETTER"):
            wrong.append(f"{path}:{node.lineno} names {node.id}")
    return wrong


def test_no_module_defines_a_metric_a_second_time():
    wrong = []
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            if path != REGISTRY_FILE:
                wrong += _second_definitions(path)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "code",
    [
        'HIGHER_IS_BETTER = frozenset({"accuracy", "f1"})',
        'names = ["mae", "rmse", "r2"]',
        'gate = {"mae": {"direction": "lower", "tolerance": 0.05}}',
        'if metric not in ("mae", "rmse", "log_loss"): pass',
    ],
)
def test_the_check_sees_a_second_definition(tmp_path, code):
    """The rule above can fail: each shape it removed is found."""
    module = tmp_path / "m.py"
    module.write_text(code + "\n")
    assert _second_definitions(module)


@pytest.fixture
def raw():
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_a_direction_that_contradicts_the_registry_is_an_error(raw):
    raw["gate"]["metrics"]["mae"]["direction"] = "higher"
    with pytest.raises(ConfigError, match=r"gate\.metrics\.mae\.direction: lower is better"):
        parse_params(raw)
    del raw["gate"]["metrics"]["mae"]["direction"]  # left out: the registry's
    assert parse_params(raw).gate.metrics["mae"].direction is None


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("gate", "slices", "metric"), "accuracy"),
        (("gate", "anchor", "metric"), "log_loss"),
        (("monitor", "quality", "metric"), "f1"),
    ],
)
def test_a_metric_name_of_another_task_is_an_error(raw, where, value):
    section = raw
    for key in where[:-1]:
        section = section.setdefault(key, {})
    section[where[-1]] = value
    with pytest.raises(ConfigError, match=rf"{'.'.join(where)}: {value} is not a regression"):
        parse_params(raw)
