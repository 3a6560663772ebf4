"""The quality gate: the pull request's metrics against the base branch's, per metric.

Tolerances are relative and direction-aware (``lower`` or ``higher`` is better), so a
0.05 tolerance on MAE lets it grow by at most 5% before the gate fails. The model must also
keep beating the naive baseline by ``gate.baseline_margin`` on a proper scoring rule
(always checked) and be no worse than it on any gated metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlops_template.config import GateParams

HIGHER_IS_BETTER = frozenset({"accuracy", "f1", "roc_auc", "r2"})

Verdict = Literal["improved", "unchanged", "within tolerance", "regressed", "no base", "missing"]


@dataclass(frozen=True)
class MetricCheck:
    name: str
    base: float | None
    current: float | None
    direction: Literal["lower", "higher"]
    tolerance: float
    verdict: Verdict
    reference: str = "base"

    @property
    def delta(self) -> float | None:
        if self.base is None or self.current is None:
            return None
        return self.current - self.base

    @property
    def failed(self) -> bool:
        return self.verdict in ("regressed", "missing")

    def describe(self) -> str:
        if self.verdict == "missing" and self.reference != "base":
            return f"{self.name}: missing from the model's or the {self.reference}'s metrics"
        if self.verdict == "missing":
            return f"{self.name}: missing from the pull request's metrics"
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
