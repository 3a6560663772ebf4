"""The quality gate: the pull request's model against the base branch's (the champion).

The gate proper is ``paired_checks``: both models' answers on the same test rows, each
gated metric's difference with a paired-bootstrap confidence interval (paired.py),
overall, per slice of ``evaluate.slices`` and per class of a classification target. With
``worse`` the difference signed so that positive is a regression and ``tolerance`` the
smallest regression that matters (relative to the champion's value, or absolute in the
metric's units, ``gate.metrics.<name>.scale``), each check has one of three outcomes:

- **pass**: the interval's worse end is within the tolerance, i.e. the data show the
  change is no worse than the tolerance: **improved** (better with confidence), **within
  noise** (the interval holds zero), **within tolerance** (worse, but shown within it), or
  **unchanged** (the same answers on every row);
- **fail**: **regressed**, the interval's better end is beyond the tolerance (a
  regression larger than the tolerance shown with confidence), whatever the size of the
  slice; or **undefined**, no interval at all (the metric undefined on every resample);
- **inconclusive**: neither; for a slice, **too small to tell** when it has under
  ``gate.slices.min_rows`` rows or its interval is wider than ``gate.slices.max_width``
  tolerances. What an inconclusive check does is ``gate.inconclusive.metrics`` /
  ``.slices`` / ``.too_small``: ``needs-review`` (fails, "needs review", until the pull
  request carries ``gate.accept_label``, passed as ``accepted``), ``warn`` (passes with a
  warning) or ``fail``.

At a regression of exactly the tolerance each wrong call (fail, pass) has probability at
most (1 - confidence) / 2, and that holds for the whole family of checks at once: the
intervals are simultaneous over every metric, slice and floor check, drawn on the same
resamples (``paired.simultaneous``, a max-statistic on ranks), so adding slices or setting
tolerances to 0 does not multiply false fails. The resamples are seeded with
``gate.seed`` (never the training seed: a re-run draws the same ones); with a time split
they are circular blocks whose length comes from the data (``block_length``).

The floor over the naive baseline gets the same intervals: the model fails when its
improvement over the baseline's answers on the same rows is shown, with confidence, to be
smaller than ``gate.baseline_margin`` (proper scoring rule), or below zero (gated metrics),
or when there is no interval.

The point checks further down (``compare``, ``baseline_checks``) judge committed metrics
without the rows; the model tests use them on the metrics files, and the report falls back
to them when the rows cannot be compared. Point tolerances are relative and
direction-aware (``lower`` or ``higher`` is better), so a 0.05 tolerance on MAE lets it grow
by at most 5% before that check fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from mlops_engine import metric_defs, paired
from mlops_engine.config import GateParams, SliceGate

Verdict = Literal[
    "improved",
    "unchanged",
    "within tolerance",
    "within noise",
    "inconclusive",
    "too small to tell",
    "regressed",
    "undefined",
    "no base",
    "missing",
]
Outcome = Literal["pass", "fail", "inconclusive"]
FAILS: frozenset[str] = frozenset({"regressed", "missing", "undefined"})
INCONCLUSIVE: frozenset[str] = frozenset({"inconclusive", "too small to tell"})
Z_POWER = 0.8416  # the standard normal's 80% quantile: "detectable" = failed 80% of the time


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
    on_inconclusive: str = "fail"  # gate.inconclusive.<kind>: needs-review | warn | fail
    accepted: bool = False  # the pull request carries gate.accept_label
    undefined: int = 0  # resamples on which the metric was undefined (left out)
    detectable: float | None = None  # the regression these rows fail 80% of the time

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
    def outcome(self) -> Outcome:
        """pass: shown no worse than the tolerance (or no base to compare with); fail:
        shown worse, or no interval at all; inconclusive: neither."""
        if self.verdict in FAILS:
            return "fail"
        return "inconclusive" if self.verdict in INCONCLUSIVE else "pass"

    @property
    def failed(self) -> bool:
        if self.outcome == "inconclusive":
            return self.on_inconclusive == "fail" or (
                self.on_inconclusive == "needs-review" and not self.accepted
            )
        return self.outcome == "fail"

    @property
    def action(self) -> str:
        """What an inconclusive check does here ('' for the others)."""
        if self.outcome != "inconclusive":
            return ""
        if self.on_inconclusive == "needs-review":
            return "accepted by label" if self.accepted else "needs review"
        return "warning" if self.on_inconclusive == "warn" else "fails"

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
        verdict = f"{self.verdict}, {self.action}" if self.action else self.verdict
        extra = ""
        if self.detectable is not None and math.isfinite(self.detectable):
            extra += f", detectable {self.detectable:.4g}"
        if self.undefined:
            extra += f", undefined on {self.undefined} resamples"
        return (
            f"{self.name}{where}: {self.base:.4g} -> {self.current:.4g}, difference "
            f"{self.delta:+.4g} {self.interval_text()} ({verdict}; tolerance "
            f"{self.tolerance_text()} = {self.allowed:.4g}{extra})"
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
        direction = metric_defs.direction(name)
        if now is None:
            verdict: Verdict = "missing"
        elif before is None:
            verdict = "no base"
        else:
            verdict = _verdict(float(before), float(now), direction, rule.tolerance)
        checks.append(MetricCheck(name, before, now, direction, rule.tolerance, verdict))
    return checks


def proper_metric(current: dict[str, Any], gate: GateParams) -> str:
    """The proper scoring rule the baseline margin is judged on: ``gate.baseline_metric``,
    or log loss for classification and MAE for regression (``auto``)."""
    if gate.baseline_metric != "auto":
        return gate.baseline_metric
    return metric_defs.proper(metric_defs.task_of(current) or "regression")


def _versus_baseline(name: str, ref: float, now: float, direction: str, margin: float) -> bool:
    needed = margin * abs(ref) if ref != 0 else margin
    return ref - now >= needed if direction == "lower" else now - ref >= needed


def baseline_checks(current: dict[str, Any], gate: GateParams) -> list[MetricCheck]:
    """The floor under every model, which no choice of gated metrics can make vacuous.

    1. The proper scoring rule (log loss / MAE) must beat the naive baseline by
       ``gate.baseline_margin``, whether or not it is gated: a model can beat the baseline
       on f1 while its log loss is worse than the class prior's (the booster that did:
       docs/performance.md, "Model choices").
    2. No gated metric may be worse than the baseline's (margin 0).
    A metric the model or the baseline lacks fails the first check ("missing").
    """
    baseline = current.get("baseline") or {}
    proper = proper_metric(current, gate)
    direction = metric_defs.direction(proper)
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
    for name in gate.metrics:
        if name == proper or current.get(name) is None or baseline.get(name) is None:
            continue
        ref, now = float(baseline[name]), float(current[name])
        direction = metric_defs.direction(name)
        worse = now > ref if direction == "lower" else now < ref
        verdict: Verdict = "regressed" if worse else ("unchanged" if now == ref else "improved")
        checks.append(
            MetricCheck(
                f"{name} vs naive baseline",
                ref,
                now,
                direction,
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
    seed_sides: tuple[paired.Side, ...] = ()  # the candidate under other seeds (ci/seeds.py)


def _paired_verdict(
    worse_low: float, worse_high: float, allowed: float, identical: bool
) -> Verdict:
    """pass (improved, within noise, within tolerance) when the interval's worse bound is
    within the tolerance; regressed when its better bound is beyond it; else inconclusive.
    No interval (NaN: undefined on every resample) is never a pass."""
    if identical:
        return "unchanged"
    if math.isnan(worse_low) or math.isnan(worse_high):
        return "undefined"
    if worse_low > allowed:
        return "regressed"
    if worse_high > allowed:
        return "inconclusive"
    if worse_high < 0:
        return "improved"
    return "within tolerance" if worse_low > 0 else "within noise"


def _worse(direction: str, interval: paired.Interval) -> tuple[float, float]:
    """The interval of the regression (positive: worse), from ``after - before``."""
    if direction == "lower":
        return interval.low, interval.high
    return -interval.high, -interval.low


def slice_metric(rows: Rows, gate: GateParams) -> str:
    if gate.slices.metric != "auto":
        return gate.slices.metric
    proper = gate.baseline_metric
    return metric_defs.proper(rows.truth.task) if proper == "auto" else proper


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
    on_inconclusive: str = "fail",
    accepted: bool = False,
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
        on_inconclusive=on_inconclusive,
        accepted=accepted,
        undefined=interval.undefined,
    )
    lo, hi = _worse(direction, interval)
    allowed = check.allowed or 0.0
    verdict = _paired_verdict(lo, hi, allowed, identical)
    # the regression that fails 80% of the time: the tolerance, plus how far the better
    # bound lies below the point, plus 0.84 standard deviations of the resampled difference
    worse = interval.difference if direction == "lower" else -interval.difference
    detectable = allowed + (worse - lo) + Z_POWER * interval.spread
    return replace(check, verdict=verdict, detectable=detectable), lo, hi


def _slice_check(
    key: str,
    interval: paired.Interval,
    rule: SliceGate,
    identical: bool,
    gate: GateParams,
    accepted: bool,
) -> MetricCheck:
    """A slice's check: like a gated metric's (a regression shown beyond the tolerance
    fails whatever the slice's size), except that an inconclusive interval is "too small to
    tell" when the slice has under ``min_rows`` rows or the interval is wider than
    ``max_width`` tolerances; with under ``min_rows`` rows a pass is not trusted either."""
    direction = metric_defs.direction(interval.metric)
    check, lo, hi = _paired_check(
        interval,
        direction,
        rule.tolerance,
        rule.scale,
        identical,
        key,
        gate.inconclusive.slices,
        accepted,
    )
    allowed = check.allowed or 0.0
    verdict = check.verdict
    if verdict in ("unchanged", "regressed"):
        return check
    wide = math.isnan(lo) or (hi - lo) > rule.max_width * max(allowed, 1e-12)
    if interval.rows < rule.min_rows or (verdict in ("inconclusive", "undefined") and wide):
        small = gate.inconclusive.too_small
        return replace(check, verdict="too small to tell", on_inconclusive=small)
    return check


def _loss_series(rows: Rows, metric: str, before: paired.Side, after: paired.Side) -> np.ndarray:
    """Per-row loss of ``after`` minus ``before`` on ``metric``'s additive statistic (|e|,
    e^2, log loss, a wrong answer), in time order: what the block length is chosen from."""
    if not metric_defs.metric(metric).per_row_loss:
        metric = metric_defs.proper(rows.truth.task)
    if metric in metric_defs.NEEDS_PROBA and (before.proba is None or after.proba is None):
        metric = metric_defs.proper(rows.truth.task, proba=False)
    a = paired.additive(metric, rows.truth, after)[0][:, 1]
    b = paired.additive(metric, rows.truth, before)[0][:, 1]
    return (a - b)[np.argsort(rows.truth.time, kind="stable")]


def block_length(rows: Rows, gate: GateParams, proper: str) -> int | None:
    """The test rows per resampled block (None: rows are independent): ``gate.block_length``
    when set, else Politis-White on the paired per-row loss differences of the proper
    scoring rule (challenger vs champion, else vs the naive baseline), at least a day of
    rows (paired.py ``auto_block_length``)."""
    if rows.truth.time is None:
        return None
    if gate.block_length is not None:
        return gate.block_length
    before = rows.champion if rows.champion is not None else rows.baseline
    series = _loss_series(rows, proper, before, rows.challenger)
    return paired.auto_block_length(series, paired.rows_per_day(rows.truth.time))


def paired_checks(
    rows: Rows, gate: GateParams, *, accepted: bool = False, seed: int | None = None
) -> list[MetricCheck]:
    """Every check of the gate on the rows (see the module docstring): gated metrics and
    slices against the champion (when there is one), the floor against the naive baseline.
    One bootstrap serves them all: the same resamples for the three models, seeded with
    ``gate.seed`` (``seed`` overrides it, for simulations), and the intervals are
    simultaneous over every check (``paired.simultaneous``). ``accepted``: the pull request
    carries ``gate.accept_label``."""
    proper = _floor_metric(rows, gate)
    truth = rows.truth
    length = block_length(rows, gate, proper)
    if length is not None and truth.n <= paired.MAX_UNITS:  # circular blocks of rows
        truth = replace(truth, units=paired.time_blocks(truth.time, 1), block=length)
    elif length is not None:  # many blocks anyway: at most MAX_UNITS non-overlapping ones
        length = max(length, math.ceil(truth.n / paired.MAX_UNITS))
        truth = replace(truth, units=paired.time_blocks(truth.time, length))
    floor_names = [proper, *(n for n in gate.metrics if n != proper)]
    if rows.baseline.proba is None:  # labels only: no probability metric for the baseline
        floor_names = [n for n in floor_names if n not in metric_defs.NEEDS_PROBA]
    comparisons = {f"floor:{n}": paired.Comparison(n) for n in floor_names}
    masks: dict[str, np.ndarray] = {}
    sides = [rows.baseline, rows.challenger]
    if rows.champion is not None:
        sides.append(rows.champion)
        sides.extend(rows.seed_sides)  # 3, 4, ...: the candidate under other training seeds
        comparisons.update({name: paired.Comparison(name) for name in gate.metrics})
        metric = slice_metric(rows, gate)
        masks = _slice_masks(rows)
        comparisons.update({k: paired.Comparison(metric, m) for k, m in masks.items()})
    found = paired.bootstrap(
        truth,
        sides,
        comparisons,
        resamples=gate.resamples,
        seed=gate.seed if seed is None else seed,
    )
    pairs = {k: (0, 1) if k.startswith("floor:") else (2, 1) for k in comparisons}
    diffs = {k: found[k].draws[a] - found[k].draws[b] for k, (b, a) in pairs.items()}
    points = [float(found[k].points[a] - found[k].points[b]) for k, (b, a) in pairs.items()]
    units = truth.n_units if truth.block is None else math.ceil(truth.n / truth.block)
    if truth.units is None and truth.n > paired.MAX_UNITS:
        units = paired.MAX_UNITS
    found_bounds = paired.simultaneous(list(diffs.values()), gate.confidence, points, units)
    bounds = dict(zip(diffs, found_bounds, strict=True))
    at = dict(zip(diffs, points, strict=True))
    seed_var = _seed_noise(rows, gate, found, diffs, at, bounds, units)

    def interval(key: str) -> paired.Interval:
        d, (before, after), (low, high) = found[key], pairs[key], bounds[key]
        finite = diffs[key][np.isfinite(diffs[key])]
        return paired.Interval(
            comparisons[key].metric,
            d.rows,
            float(d.points[before]),
            float(d.points[after]),
            low,
            high,
            undefined=int(len(diffs[key]) - len(finite)),
            spread=math.sqrt(float(np.var(finite)) + seed_var.get(key, 0.0))
            if len(finite) > 1
            else math.nan,
        )

    checks: list[MetricCheck] = []
    if rows.champion is not None:
        identical = same_answers(rows.champion, rows.challenger)
        for name, rule in gate.metrics.items():
            checks.append(
                _paired_check(
                    interval(name),
                    metric_defs.direction(name),
                    rule.tolerance,
                    rule.scale,
                    identical,
                    on_inconclusive=gate.inconclusive.metrics,
                    accepted=accepted,
                )[0]
            )
        for key in masks:
            checks.append(_slice_check(key, interval(key), gate.slices, identical, gate, accepted))
    else:
        checks += [
            MetricCheck(name, None, None, metric_defs.direction(name), rule.tolerance, "no base")
            for name, rule in gate.metrics.items()
        ]
    floor = {n: interval(f"floor:{n}") for n in floor_names}
    return [*checks, *floor_checks(floor, proper, gate)]


def _seed_noise(
    rows: Rows,
    gate: GateParams,
    found: dict[str, paired.Draws],
    diffs: dict[str, np.ndarray],
    points: dict[str, float],
    bounds: dict[str, tuple[float, float]],
    units: int,
) -> dict[str, float]:
    """With the candidate under other seeds (``rows.seed_sides``), each check against the
    champion widened in ``bounds`` by the spread between seeds (ci/seeds.py); returns the
    seed variance added to each. The floor is about the model that ships: left as it is."""
    if rows.champion is None or not rows.seed_sides:
        return {}
    from mlops_engine.ci import seeds

    levels = paired.rank_levels(list(diffs.values()), gate.confidence)
    candidates = [1, *range(3, 3 + len(rows.seed_sides))]
    added: dict[str, float] = {}
    for key in bounds:
        if key.startswith("floor:") or levels is None:
            continue
        added[key] = seeds.seed_variance(found[key].points[candidates])
        bounds[key] = seeds.widen(
            points[key], bounds[key], levels, units, added[key], len(candidates)
        )
    return added


def same_answers(a: paired.Side, b: paired.Side) -> bool:
    """Both sides give identical answers (labels, and probabilities when either has them)."""
    same = np.array_equal(np.asarray(a.predicted), np.asarray(b.predicted))
    if a.proba is not None or b.proba is not None:
        same = same and a.proba is not None and b.proba is not None
        same = same and np.array_equal(a.proba, b.proba)
    return bool(same)


def _floor_metric(rows: Rows, gate: GateParams) -> str:
    proper = gate.baseline_metric
    if proper == "auto":
        proper = metric_defs.proper(rows.truth.task)
    if rows.baseline.proba is None and proper in metric_defs.NEEDS_PROBA:
        proper = metric_defs.proper(rows.truth.task, proba=False)  # labels only (unseen class)
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
        direction = metric_defs.direction(name)
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
                undefined=interval.undefined,
            )
        )
    return checks


# --- the fixed anchor (ci/anchor.py gathers its rows) -------------------------------------


def anchor_metric(rows: Rows, gate: GateParams) -> str:
    """The metric the anchor is judged on: ``gate.anchor.metric``, or the proper scoring
    rule (``auto``: log loss for classification, MAE for regression)."""
    if gate.anchor.metric != "auto":
        return gate.anchor.metric
    return _floor_metric(rows, gate)


def anchor_check(
    rows: Rows, gate: GateParams, *, accepted: bool = False, seed: int | None = None
) -> MetricCheck:
    """The candidate (``rows.challenger``) against the anchor (``rows.champion``: the
    released model's answers on the same rows, the holdout) under the cumulative budget
    ``gate.anchor.budget``: the paired interval of one metric, seeded with ``gate.seed``,
    blocks from the data as for the base, and the same three outcomes. A chain of changes
    each within its tolerance against its own base fails here once their sum is shown to
    exceed the budget. Its inconclusive outcome does ``gate.anchor.inconclusive``."""
    if rows.champion is None:
        raise ValueError("the anchor check needs the anchor's answers (rows.champion)")
    metric = anchor_metric(rows, gate)
    truth = rows.truth
    length = block_length(rows, gate, metric)
    if length is not None and truth.n <= paired.MAX_UNITS:
        truth = replace(truth, units=paired.time_blocks(truth.time, 1), block=length)
    elif length is not None:
        length = max(length, math.ceil(truth.n / paired.MAX_UNITS))
        truth = replace(truth, units=paired.time_blocks(truth.time, length))
    found = paired.bootstrap(
        truth,
        [rows.champion, rows.challenger],
        {metric: paired.Comparison(metric)},
        resamples=gate.resamples,
        seed=gate.seed if seed is None else seed,
    )[metric]
    diff = found.draws[1] - found.draws[0]
    point = float(found.points[1] - found.points[0])
    units = truth.n_units if truth.block is None else math.ceil(truth.n / truth.block)
    if truth.units is None and truth.n > paired.MAX_UNITS:
        units = paired.MAX_UNITS
    ((low, high),) = paired.simultaneous([diff], gate.confidence, [point], units)
    finite = diff[np.isfinite(diff)]
    interval = paired.Interval(
        metric,
        found.rows,
        float(found.points[0]),
        float(found.points[1]),
        low,
        high,
        undefined=int(len(diff) - len(finite)),
        spread=float(np.std(finite)) if len(finite) > 1 else math.nan,
    )
    rule = gate.anchor
    direction = metric_defs.direction(metric)
    check, _, _ = _paired_check(
        interval,
        direction,
        rule.budget,
        rule.scale,
        same_answers(rows.champion, rows.challenger),
        on_inconclusive=rule.inconclusive,
        accepted=accepted,
    )
    return replace(check, name=f"{metric} vs anchor", reference="anchor")
