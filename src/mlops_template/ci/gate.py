"""The quality gate: the pull request's model against the base branch's (the champion).

The gate proper is ``paired_checks``: both models' answers on the same test rows, each
gated metric's difference with a paired-bootstrap confidence interval (ci/paired.py),
overall, per slice of ``evaluate.slices`` and per class of a classification target. With
``worse`` the difference signed so that positive is a regression and ``tolerance`` the
smallest regression that matters (relative to the champion's value, or absolute in the
metric's units, ``gate.metrics.<name>.scale``):

- **regressed** (fails): the interval's better bound is still worse than the tolerance,
  i.e. a regression larger than the tolerance is shown with confidence (one-sided error
  rate (1 - confidence) / 2 for a change that regresses by exactly the tolerance);
- **within tolerance**: worse with confidence, but not shown to be worse than the tolerance;
- **within noise**: the interval holds zero: no change shown either way;
- **improved**: better with confidence; **unchanged**: the same answers on every row;
- **too small to tell** (slices only): fewer than ``gate.slices.min_rows`` test rows (the
  bootstrap is not trusted there, whatever it shows), or an interval wider than
  ``gate.slices.max_width`` tolerances without a regression shown. It is reported as such,
  never as a pass of that slice.

The floor over the naive baseline gets the same treatment: the model fails when its
improvement over the baseline's answers on the same rows is shown, with confidence, to be
smaller than ``gate.baseline_margin`` (proper scoring rule), or below zero (gated metrics).

The point checks further down (``compare``, ``baseline_checks``) judge committed metrics
without the rows; the model tests use them on the metrics files.

Point tolerances are relative and direction-aware (``lower`` or ``higher`` is better), so a
0.05 tolerance on MAE lets it grow by at most 5% before the gate fails. The model must also
keep beating the naive baseline by ``gate.baseline_margin`` on a proper scoring rule
(always checked) and be no worse than it on any gated metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mlops_template.ci import paired
from mlops_template.config import GateParams, SliceGate

HIGHER_IS_BETTER = frozenset({"accuracy", "f1", "roc_auc", "r2"})

Verdict = Literal[
    "improved",
    "unchanged",
    "within tolerance",
    "within noise",
    "too small to tell",
    "regressed",
    "no base",
    "missing",
]


@dataclass(frozen=True)
class MetricCheck:
    name: str
    base: float | None
    current: float | None
    direction: Literal["lower", "higher"]
    tolerance: float
    verdict: Verdict
    reference: str = "base"
    low: float | None = None  # paired interval of current - base (None: point check)
    high: float | None = None
    rows: int | None = None
    scale: str = "relative"
    slice: str | None = None  # "hr_band=night", "class=MM": a slice's check

    @property
    def allowed(self) -> float | None:
        """The tolerance in the metric's units."""
        if self.scale == "absolute" or self.base is None:
            return self.tolerance
        return self.tolerance * abs(self.base) if self.base != 0 else self.tolerance

    def interval_text(self) -> str:
        if self.low is None or self.high is None or math.isnan(self.low):
            return ""
        return f"[{self.low:+.4g}, {self.high:+.4g}]"

    def tolerance_text(self) -> str:
        if self.scale == "absolute":
            return f"{self.tolerance:.4g}"
        return f"{self.tolerance:.0%}"

    @property
    def delta(self) -> float | None:
        if self.base is None or self.current is None:
            return None
        return self.current - self.base

    @property
    def failed(self) -> bool:
        return self.verdict in ("regressed", "missing")

    def describe(self) -> str:
        if self.low is not None:
            return self._describe_paired()
        if self.verdict == "missing" and self.reference != "base":
            return f"{self.name}: missing from the model's or the {self.reference}'s metrics"
        if self.verdict == "missing":
            return f"{self.name}: missing from the pull request's metrics"
        if self.verdict == "no base" and self.current is None:  # the paired gate: no champion
            return f"{self.name}: no base to compare with"
        if self.verdict == "no base":
            return f"{self.name}: {self.current:.4g} (no base value to compare)"
        worse = "higher" if self.direction == "lower" else "lower"
        if self.reference != "base" and self.tolerance == 0:
            return (
                f"{self.name}: model {self.current:.4g}, {self.reference} {self.base:.4g} "
                f"({self.verdict}; must not be worse)"
            )
        if self.reference != "base":
            return (
                f"{self.name}: model {self.current:.4g}, {self.reference} {self.base:.4g} "
                f"({self.verdict}; must be {self.tolerance:.0%} better)"
            )
        return (
            f"{self.name}: {self.base:.4g} -> {self.current:.4g} ({self.verdict}; "
            f"{worse} is worse, tolerance {self.tolerance:.0%})"
        )

    def _describe_paired(self) -> str:
        where = f" on {self.slice} ({self.rows:,} rows)" if self.slice else ""
        if self.reference != "base":
            need = "not worse" if self.tolerance == 0 else f"{self.tolerance_text()} better"
            return (
                f"{self.name}{where}: model {self.current:.4g}, {self.reference} "
                f"{self.base:.4g}, difference {self.delta:+.4g} {self.interval_text()} "
                f"({self.verdict}; must be {need})"
            )
        return (
            f"{self.name}{where}: {self.base:.4g} -> {self.current:.4g}, difference "
            f"{self.delta:+.4g} {self.interval_text()} ({self.verdict}; tolerance "
            f"{self.tolerance_text()} = {self.allowed:.4g})"
        )


def _verdict(base: float, current: float, direction: str, tolerance: float) -> Verdict:
    worsening = current - base if direction == "lower" else base - current
    if worsening == 0:
        return "unchanged"
    if worsening < 0:
        return "improved"
    allowed = tolerance * abs(base) if base != 0 else tolerance
    return "within tolerance" if worsening <= allowed else "regressed"


def compare(
    base: dict[str, Any] | None, current: dict[str, Any], gate: GateParams
) -> list[MetricCheck]:
    """One check per gated metric, plus the margin over the naive baseline."""
    checks: list[MetricCheck] = []
    for name, rule in gate.metrics.items():
        now = current.get(name)
        before = (base or {}).get(name)
        if now is None:
            verdict: Verdict = "missing"
        elif before is None:
            verdict = "no base"
        else:
            verdict = _verdict(float(before), float(now), rule.direction, rule.tolerance)
        checks.append(MetricCheck(name, before, now, rule.direction, rule.tolerance, verdict))
    return checks


def proper_metric(current: dict[str, Any], gate: GateParams) -> str:
    """The proper scoring rule the baseline margin is judged on: ``gate.baseline_metric``,
    or log loss for classification and MAE for regression (``auto``)."""
    if gate.baseline_metric != "auto":
        return gate.baseline_metric
    return "log_loss" if "log_loss" in current or "accuracy" in current else "mae"


def _versus_baseline(name: str, ref: float, now: float, direction: str, margin: float) -> bool:
    needed = margin * abs(ref) if ref != 0 else margin
    return ref - now >= needed if direction == "lower" else now - ref >= needed


def baseline_checks(current: dict[str, Any], gate: GateParams) -> list[MetricCheck]:
    """The floor under every model, which no choice of gated metrics can make vacuous.

    1. The proper scoring rule (log loss / MAE) must beat the naive baseline by
       ``gate.baseline_margin``, whether or not it is gated: a booster with f1 0.13 against
       the baseline's 0 passed the old first-metric check while its log loss (0.305) was
       worse than the class prior's (0.227).
    2. No gated metric may be worse than the baseline's (margin 0).
    A metric the model or the baseline lacks fails the first check ("missing").
    """
    baseline = current.get("baseline") or {}
    proper = proper_metric(current, gate)
    direction = "higher" if proper in HIGHER_IS_BETTER else "lower"
    checks: list[MetricCheck] = []
    if current.get(proper) is None or baseline.get(proper) is None:
        checks.append(
            MetricCheck(
                f"{proper} vs naive baseline",
                baseline.get(proper),
                current.get(proper),
                direction,
                gate.baseline_margin,
                "missing",
                reference="naive baseline",
            )
        )
    else:
        ref, now = float(baseline[proper]), float(current[proper])
        good = _versus_baseline(proper, ref, now, direction, gate.baseline_margin)
        checks.append(
            MetricCheck(
                f"{proper} vs naive baseline",
                ref,
                now,
                direction,
                gate.baseline_margin,
                "improved" if good else "regressed",
                reference="naive baseline",
            )
        )
    for name, rule in gate.metrics.items():
        if name == proper or current.get(name) is None or baseline.get(name) is None:
            continue
        ref, now = float(baseline[name]), float(current[name])
        worse = now > ref if rule.direction == "lower" else now < ref
        verdict: Verdict = "regressed" if worse else ("unchanged" if now == ref else "improved")
        checks.append(
            MetricCheck(
                f"{name} vs naive baseline",
                ref,
                now,
                rule.direction,
                0.0,
                verdict,
                reference="naive baseline",
            )
        )
    return checks


def baseline_check(current: dict[str, Any], gate: GateParams) -> MetricCheck:
    """The first failing baseline check, else the margin check on the proper scoring rule."""
    checks = baseline_checks(current, gate)
    return next((c for c in checks if c.failed), checks[0])


def all_checks(
    base: dict[str, Any] | None, current: dict[str, Any], gate: GateParams
) -> list[MetricCheck]:
    """Every check the gate applies: each gated metric vs the base, and the baseline floor."""
    return [*compare(base, current, gate), *baseline_checks(current, gate)]


# --- the paired gate ------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """What the paired gate compares: the test rows' truth, the champion's answers (None:
    no base), the challenger's and the naive baseline's, and each slice's label per row."""

    truth: paired.Truth
    champion: paired.Side | None
    challenger: paired.Side
    baseline: paired.Side
    slices: dict[str, np.ndarray]


def _paired_verdict(
    worse_low: float, worse_high: float, allowed: float, identical: bool
) -> Verdict:
    if identical:
        return "unchanged"
    if worse_low > allowed:
        return "regressed"
    if worse_high < 0:
        return "improved"
    if worse_low > 0:
        return "within tolerance"
    return "within noise"


def _worse(direction: str, interval: paired.Interval) -> tuple[float, float]:
    """The interval of the regression (positive: worse), from ``after - before``."""
    if direction == "lower":
        return interval.low, interval.high
    return -interval.high, -interval.low


def slice_metric(rows: Rows, gate: GateParams) -> str:
    if gate.slices.metric != "auto":
        return gate.slices.metric
    task = rows.truth.task
    proper = gate.baseline_metric
    if proper == "auto":
        return "log_loss" if task == "classification" else "mae"
    return proper


def _slice_masks(rows: Rows) -> dict[str, np.ndarray]:
    masks: dict[str, np.ndarray] = {}
    for name, labels in rows.slices.items():
        for label in sorted(set(labels.tolist()), key=str):
            masks[f"{name}={label}"] = labels == label
    if rows.truth.task == "classification" and rows.truth.classes is not None:
        held = set(np.asarray(rows.truth.y, dtype=object).tolist())
        for c in rows.truth.classes:
            if c in held:  # a class the test rows lack has no slice to judge (the report says)
                masks[f"class={c}"] = rows.truth.y == c
    return masks


def _paired_check(
    interval: paired.Interval,
    direction: str,
    tolerance: float,
    scale: str,
    identical: bool,
    slice_key: str | None = None,
) -> tuple[MetricCheck, float, float]:
    """The check of one interval with its verdict, and the interval signed so that positive
    is worse (low, high): a slice's verdict is refined from those."""
    check = MetricCheck(
        interval.metric,
        interval.before,
        interval.after,
        direction,
        tolerance,
        "within noise",
        low=interval.low,
        high=interval.high,
        rows=interval.rows,
        scale=scale,
        slice=slice_key,
    )
    lo, hi = _worse(direction, interval)
    verdict = _paired_verdict(lo, hi, check.allowed or 0.0, identical)
    return _replace(check, verdict), lo, hi


def _slice_check(
    key: str, interval: paired.Interval, rule: SliceGate, identical: bool
) -> MetricCheck:
    direction = "higher" if interval.metric in HIGHER_IS_BETTER else "lower"
    check, lo, hi = _paired_check(interval, direction, rule.tolerance, rule.scale, identical, key)
    allowed = check.allowed or 0.0
    verdict = check.verdict
    small = (
        interval.rows < rule.min_rows
        or math.isnan(lo)
        or (hi - lo) > rule.max_width * max(allowed, 1e-12)
    )
    if small and verdict != "regressed" and not identical:
        verdict = "too small to tell"
    if interval.rows < rule.min_rows and not identical:
        verdict = "too small to tell"  # too few rows for the bootstrap to be trusted
    return _replace(check, verdict)


def _replace(check: MetricCheck, verdict: Verdict) -> MetricCheck:
    from dataclasses import replace

    return replace(check, verdict=verdict)


def paired_checks(rows: Rows, gate: GateParams, seed: int) -> list[MetricCheck]:
    """Every check of the gate on the rows (see the module docstring): gated metrics and
    slices against the champion (when there is one), the floor against the naive baseline.
    One bootstrap serves them all: the same resamples for the three models."""
    proper = _floor_metric(rows, gate)
    floor_names = [proper, *(n for n in gate.metrics if n != proper)]
    if rows.baseline.proba is None:  # labels only: no probability metric for the baseline
        floor_names = [n for n in floor_names if n not in paired.NEEDS_PROBA]
    comparisons = {f"floor:{n}": paired.Comparison(n) for n in floor_names}
    masks: dict[str, np.ndarray] = {}
    sides = [rows.baseline, rows.challenger]
    if rows.champion is not None:
        sides.append(rows.champion)
        comparisons.update({name: paired.Comparison(name) for name in gate.metrics})
        metric = slice_metric(rows, gate)
        masks = _slice_masks(rows)
        comparisons.update({k: paired.Comparison(metric, m) for k, m in masks.items()})
    found = paired.bootstrap(rows.truth, sides, comparisons, resamples=gate.resamples, seed=seed)

    def interval(key: str, before: int, after: int) -> paired.Interval:
        d = found[key]
        low, high = paired.percentile(d.draws[after] - d.draws[before], gate.confidence)
        points = d.points
        return paired.Interval(
            comparisons[key].metric, d.rows, float(points[before]), float(points[after]), low, high
        )

    checks: list[MetricCheck] = []
    if rows.champion is not None:
        identical = _same_answers(rows.champion, rows.challenger)
        for name, rule in gate.metrics.items():
            found_interval = interval(name, 2, 1)
            checks.append(
                _paired_check(
                    found_interval, rule.direction, rule.tolerance, rule.scale, identical
                )[0]
            )
        for key in masks:
            checks.append(_slice_check(key, interval(key, 2, 1), gate.slices, identical))
    else:
        checks += [
            MetricCheck(name, None, None, rule.direction, rule.tolerance, "no base")
            for name, rule in gate.metrics.items()
        ]
    floor = {n: interval(f"floor:{n}", 0, 1) for n in floor_names}
    return [*checks, *floor_checks(floor, proper, gate)]


def _same_answers(a: paired.Side, b: paired.Side) -> bool:
    same = np.array_equal(np.asarray(a.predicted), np.asarray(b.predicted))
    if a.proba is not None or b.proba is not None:
        same = same and a.proba is not None and b.proba is not None
        same = same and np.array_equal(a.proba, b.proba)
    return bool(same)


def _floor_metric(rows: Rows, gate: GateParams) -> str:
    proper = gate.baseline_metric
    if proper == "auto":
        proper = "log_loss" if rows.truth.task == "classification" else "mae"
    if rows.truth.task == "classification" and rows.baseline.proba is None:
        proper = "accuracy" if proper == "log_loss" else proper  # a class the baseline never saw
    return proper


def floor_checks(
    found: dict[str, paired.Interval], proper: str, gate: GateParams
) -> list[MetricCheck]:
    """The floor: the model against the naive baseline's answers on the same rows. Fails
    when the improvement on the proper scoring rule is shown to fall short of
    ``gate.baseline_margin`` (relative to the baseline's value), or a gated metric is shown
    to be worse than the baseline's."""
    checks = []
    for name, interval in found.items():
        direction = "higher" if name in HIGHER_IS_BETTER else "lower"
        margin = gate.baseline_margin if name == proper else 0.0
        lo, hi = _worse(direction, interval)  # positive: the model is worse than the baseline
        need = margin * abs(interval.before) if interval.before != 0 else margin
        # improvement = -worse: fail when even its best bound (-lo) falls short of `need`
        if math.isnan(lo) or -lo < need:
            verdict: Verdict = "regressed"
        elif -hi >= need:
            verdict = "improved"
        else:
            verdict = "within noise"
        checks.append(
            MetricCheck(
                f"{name} vs naive baseline",
                interval.before,
                interval.after,
                direction,
                margin,
                verdict,
                reference="naive baseline",
                low=interval.low,
                high=interval.high,
                rows=interval.rows,
            )
        )
    return checks
