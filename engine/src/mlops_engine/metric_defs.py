"""The one registry of the task metrics: the task each belongs to, which way is better, how
the reports mark that, whether it needs class probabilities, whether it has a per-row loss,
and each task's proper scoring rule.

Everything else asks here: the pipeline computes these metrics (pipeline/metrics.py), the
paired bootstrap and the gate judge them (paired.py, ci/gate.py), ``params.yaml``'s metric
names are validated against them (config.py), the reports print their arrows (ci/), the
retraining policy and the challenger read their directions (ct/), and ``mlops init`` writes
the gate's settings from them (onboarding/). A direction defined twice can disagree (the
gate once judged a metric higher-is-better that the summary printed as lower-is-better);
engine/tests/unit/test_metric_defs.py fails when a second definition appears.

A direction written in ``params.yaml`` (``gate.metrics.<name>.direction``) is documentation
for the team: config rejects one that contradicts this registry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Task = Literal["regression", "classification"]
Direction = Literal["lower", "higher"]


@dataclass(frozen=True)
class MetricDef:
    name: str
    task: Task
    direction: Direction
    needs_proba: bool = False
    """Computed from class probabilities: undefined for a side that gives labels only."""
    per_row_loss: bool = False
    """The mean of a per-row statistic (|e|, e^2, -log p, a wrong answer): what the block
    length of a time split is chosen from (ci/gate.py ``block_length``)."""


# the order is the order of the model card's metrics table and of config's error messages
REGISTRY = MappingProxyType(
    {
        m.name: m
        for m in (
            MetricDef("mae", "regression", "lower", per_row_loss=True),
            MetricDef("rmse", "regression", "lower", per_row_loss=True),
            MetricDef("r2", "regression", "higher"),
            MetricDef("accuracy", "classification", "higher", per_row_loss=True),
            MetricDef("f1", "classification", "higher"),
            MetricDef("log_loss", "classification", "lower", needs_proba=True, per_row_loss=True),
            MetricDef("roc_auc", "classification", "higher", needs_proba=True),
        )
    }
)

PROPER: MappingProxyType[str, str] = MappingProxyType(
    {"regression": "mae", "classification": "log_loss"}
)
"""Each task's proper scoring rule (MAE stands in for regression): the floor against the
naive baseline, the slices' and the anchor's metric under ``auto``."""
WITHOUT_PROBA: MappingProxyType[str, str] = MappingProxyType(
    {"regression": "mae", "classification": "accuracy"}
)
"""Its stand-in when a side gives labels only (a naive baseline that never saw a class)."""

NEEDS_PROBA = frozenset(n for n, m in REGISTRY.items() if m.needs_proba)
ARROWS: MappingProxyType[str, str] = MappingProxyType({"lower": "↓", "higher": "↑"})


class UnknownMetric(KeyError):
    """A metric name the registry does not hold."""

    def __str__(self) -> str:
        return str(self.args[0])


def metric(name: str) -> MetricDef:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownMetric(f"unknown metric {name!r} (one of {', '.join(REGISTRY)})") from None


def direction(name: str) -> Direction:
    """``lower`` or ``higher``: which way ``name`` is better."""
    return metric(name).direction


def lower_is_better(name: str) -> bool:
    return metric(name).direction == "lower"


def arrow(direction: str) -> str:
    """How the reports mark a direction: ↓ (lower is better) or ↑."""
    return ARROWS[direction]


def names(task: str) -> tuple[str, ...]:
    """The task's metrics, in registry order."""
    return tuple(n for n, m in REGISTRY.items() if m.task == task)


def proper(task: str, *, proba: bool = True) -> str:
    """The task's proper scoring rule: log loss for classification, MAE for regression;
    without probabilities (``proba=False``) accuracy stands in for log loss."""
    return PROPER[task] if proba else WITHOUT_PROBA[task]


def task_of(found: Iterable[str]) -> Task | None:
    """The task whose metrics ``found`` (a metrics file's keys) holds; None when neither."""
    tasks = {REGISTRY[n].task for n in found if n in REGISTRY}
    if "classification" in tasks:
        return "classification"
    return "regression" if tasks else None
