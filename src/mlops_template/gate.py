"""The quality gate: the pull request's metrics against the base branch's, per metric.

Tolerances are relative and direction-aware (``lower`` or ``higher`` is better), so a
0.05 tolerance on MAE lets it grow by at most 5% before the gate fails. The model must also
keep beating the naive baseline by ``gate.baseline_margin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlops_template.config import GateParams

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
        if self.verdict == "missing":
            return f"{self.name}: missing from the pull request's metrics"
        if self.verdict == "no base":
            return f"{self.name}: {self.current:.4g} (no base value to compare)"
        worse = "higher" if self.direction == "lower" else "lower"
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


def baseline_check(current: dict[str, Any], gate: GateParams) -> MetricCheck | None:
    """Does the model beat the naive baseline by the margin, on the first gated metric?"""
    baseline = current.get("baseline") or {}
    for name, rule in gate.metrics.items():
        if current.get(name) is None or baseline.get(name) is None:
            continue
        ref, now = float(baseline[name]), float(current[name])
        needed = gate.baseline_margin * abs(ref) if ref != 0 else gate.baseline_margin
        good = ref - now >= needed if rule.direction == "lower" else now - ref >= needed
        verdict: Verdict = "improved" if good else "regressed"
        return MetricCheck(
            f"{name} vs naive baseline",
            ref,
            now,
            rule.direction,
            gate.baseline_margin,
            verdict,
            reference="naive baseline",
        )
    return None


def all_checks(
    base: dict[str, Any] | None, current: dict[str, Any], gate: GateParams
) -> list[MetricCheck]:
    """Every check the gate applies: each gated metric vs the base, and the baseline margin."""
    checks = compare(base, current, gate)
    margin = baseline_check(current, gate)
    return [*checks, margin] if margin is not None else checks
