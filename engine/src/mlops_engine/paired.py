"""Paired bootstrap: how much a metric moved between two models scored on the same rows,
with a confidence interval, overall and per slice.

A point difference says nothing about noise: on a test set of a few hundred rows a change
of the seed alone moves the example's MAE by several percent, and on a large test set a
small regression is certain (the figures: docs/performance.md, "Figures behind the gate").
Resampling the *rows* (both models on the same resampled rows, hence "paired") gives the
distribution of the difference itself: the shared part of the two models' errors (hard
rows, a noisy week) cancels, which makes the interval far narrower than two independent
intervals would.

How it is computed, and why it is fast:

- **Units.** With a random split the rows are independent and each row is a unit. With a
  split by time, neighbouring hours share weather and events, so resampling single rows
  would understate the noise: rows are sorted by the time column and resampled in blocks
  of consecutive rows. The block length comes from the data (``auto_block_length``:
  Politis and White's rule on the paired per-row loss differences, at least a day of rows,
  ``rows_per_day``) unless ``gate.block_length`` sets it. Up to ``MAX_UNITS`` rows the
  blocks are circular (``circular_counts``: a block may start at any row, so 17 day-long
  blocks on 414 hourly rows still give smooth resamples); beyond, contiguous
  non-overlapping blocks (``time_blocks``) are resampled, far cheaper and many anyway.
- **Counts, not copies.** A resample is a vector of counts (how often each unit was drawn),
  ``C`` with one row per resample. Every metric here except ROC AUC is a function of a few
  sums over rows (MAE: sum |e| and the row count; RMSE: sum e^2; R^2: sum e^2, sum y,
  sum y^2; log loss, accuracy; f1: true/false positives and false negatives), so the sums of
  every resample are one matrix product ``C @ U`` where ``U`` holds those per-row
  statistics summed per unit; slices only mask rows out of ``U``. ROC AUC is not a sum: each
  model's scores are sorted once per class (a slice keeps that order's rows), and each
  resample's AUC is one
  cumulative sum of the negatives' weights in that order and one gather-and-dot over the
  positives (``_auc_prepped``), O(rows) per resample with no sort.
- **Large test sets.** Independent rows beyond ``MAX_UNITS`` (20,000) are resampled in
  20,000 groups of consecutive rows; a time split at 1M rows has 10,000 blocks anyway.
- **Percentile interval** of the difference at ``confidence`` (two-sided), so each side of
  the interval errs with probability (1 - confidence) / 2; ``simultaneous`` widens the
  intervals of several differences on the same resamples so that this holds for all of
  them at once, and stretches them by Student's t over the normal quantile when the rows
  hold few independent blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from mlops_engine.metric_defs import NEEDS_PROBA

_CHUNK_CELLS = 4_000_000  # resamples x units per chunk (~32 MB of float64)
MAX_UNITS = 20_000  # independent rows beyond this are resampled in groups


@dataclass(frozen=True)
class Side:
    """One model's answers on the test rows: regression values, or classification labels
    with class probabilities (columns in ``classes`` order)."""

    predicted: np.ndarray
    proba: np.ndarray | None = None


@dataclass(frozen=True)
class Truth:
    """The test rows' true values and what the resampling needs to know about them."""

    y: np.ndarray
    task: str
    classes: np.ndarray | None = None
    units: np.ndarray | None = None  # unit (block) id of each row; None: each row its own
    time: np.ndarray | None = None  # each row's time stamp (time split): blocks from the data
    block: int | None = None  # circular blocks of this many units (units: rows in time order)

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def n_units(self) -> int:
        return self.n if self.units is None else int(self.units.max()) + 1


def time_blocks(order_key: np.ndarray, block_length: int | None = None) -> np.ndarray:
    """Block id per row: rows sorted by ``order_key`` (the time column), cut into contiguous
    blocks of ``block_length`` rows (default ``ceil(n ** (1/3))``)."""
    n = len(order_key)
    length = block_length or max(1, math.ceil(n ** (1 / 3)))
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(order_key, kind="stable")] = np.arange(n)
    return rank // length


def rows_per_day(stamps: np.ndarray) -> int:
    """How many rows a day of ``stamps`` holds (1 for daily or coarser data, or stamps that
    are not times): the least block length of a time split, so that a block keeps a whole
    daily cycle (the example's hourly rows: 24)."""
    stamps = np.asarray(stamps)
    if len(stamps) < 2 or not np.issubdtype(stamps.dtype, np.datetime64):
        return 1
    steps = np.diff(np.sort(stamps.astype("datetime64[s]")).astype(np.int64))
    steps = steps[steps > 0]
    if not len(steps):
        return 1
    return max(1, math.ceil(86_400 / float(np.median(steps))))


def auto_block_length(series: np.ndarray, least: int = 1) -> int:
    """Block length for a block bootstrap of ``series`` (values in time order): Politis and
    White's (2004) automatic rule for the circular/moving block bootstrap, with Patton,
    Politis and White's (2009) correction, at least ``least`` rows and at most a third of
    them.

    The autocorrelations are estimated up to the first lag after which ``K_n`` =
    max(5, sqrt(log10 n)) in a row are insignificant (|rho| < 2 sqrt(log10 n / n)),
    ``m``; a flat-top kernel over lags up to ``2m`` then estimates the long-run variance
    ``g`` and ``G`` = sum |k| R(k), and the block length minimising the variance
    estimator's mean squared error is (2 G^2 / (4/3 g^2))^(1/3) n^(1/3)."""
    x = np.asarray(series, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    cap = max(1, n // 3)
    if n < 8 or not np.ptp(x) > 0:
        return min(max(1, least), cap)
    x = x - x.mean()
    k_n = max(5, math.ceil(math.sqrt(math.log10(n))))
    m_max = min(n - 1, math.ceil(math.sqrt(n)) + k_n)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), size)[: m_max + 1] / n
    rho = acov / acov[0]
    bound = 2 * math.sqrt(math.log10(n) / n)
    small = np.abs(rho[1:]) < bound  # small[j]: lag j + 1
    m_hat = m_max
    for m in range(0, m_max - k_n + 1):
        if small[m : m + k_n].all():
            m_hat = m
            break
    big_m = min(2 * max(m_hat, 1), m_max)
    lags = np.arange(-big_m, big_m + 1)
    t = np.abs(lags) / big_m
    flat_top = np.where(t <= 0.5, 1.0, np.where(t <= 1, 2 * (1 - t), 0.0))
    r = acov[np.abs(lags)]
    g = float(np.sum(flat_top * r))
    big_g = float(np.sum(flat_top * np.abs(lags) * r))
    if g <= 0:
        return min(max(1, least), cap)
    b = (2 * big_g**2 / (4 / 3 * g**2)) ** (1 / 3) * n ** (1 / 3)
    return int(min(max(math.ceil(b), least, 1), cap))


def counts(n_units: int, resamples: int, seed: int, row_width: int = 0) -> Iterator[np.ndarray]:
    """Bootstrap draw counts per unit, ``(chunk, n_units)`` at a time (seeded): each
    resample draws ``n_units`` units with replacement. ``row_width``: ROC AUC builds
    ``(chunk, rows)`` arrays from each chunk, so the chunk is sized for those too."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, _CHUNK_CELLS // max(n_units, row_width, 1)))
    done = 0
    while done < resamples:
        k = min(chunk, resamples - done)
        # 32-bit draws: several times faster to generate than 64-bit ones at 1M units
        draws = rng.integers(0, n_units, size=(k, n_units), dtype=np.int32)
        flat = (draws + np.arange(k, dtype=np.int64)[:, None] * n_units).ravel()
        yield np.bincount(flat, minlength=k * n_units).reshape(k, n_units).astype(np.float64)
        done += k


def circular_counts(
    n_units: int, block: int, resamples: int, seed: int, row_width: int = 0
) -> Iterator[np.ndarray]:
    """Draw counts per unit for a circular block bootstrap (Politis and Romano 1992): each
    resample draws ceil(n / block) starting units with replacement and takes ``block``
    consecutive units from each, wrapping round; a unit's count is the number of drawn
    blocks covering it (a circular moving sum of the starts' counts). Unlike non-overlapping
    blocks, every one of the n block positions can be drawn: with few blocks (a day's blocks
    on 414 hourly rows are 17) the resamples are far less coarse."""
    starts = math.ceil(n_units / block)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, _CHUNK_CELLS // max(n_units, row_width, 1)))
    done = 0
    while done < resamples:
        k = min(chunk, resamples - done)
        draws = rng.integers(0, n_units, size=(k, starts), dtype=np.int64)
        flat = (draws + np.arange(k, dtype=np.int64)[:, None] * n_units).ravel()
        first = np.bincount(flat, minlength=k * n_units).reshape(k, n_units)
        wrapped = np.concatenate([first[:, n_units - block + 1 :], first], axis=1)
        total = np.cumsum(wrapped, axis=1)
        covered = total[:, block - 1 :].copy()
        covered[:, 1:] -= total[:, :-block] if block > 1 else total[:, :-1]
        yield covered[:, :n_units].astype(np.float64)
        done += k


# --- metrics as functions of per-row sums --------------------------------------------


Reducer = Callable[[np.ndarray], np.ndarray]


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def held_classes(truth: Truth) -> list:
    """The labels the multiclass f1 and ROC AUC average over, given explicitly: the classes
    the rows hold (a time split's test window may lack a rare one; averaging in a class no
    row has would score both models 0 on it, as scikit-learn's labels= would), in
    ``truth.classes`` order. Two classes: both, whatever the rows hold."""
    classes = list(truth.classes)
    if len(classes) == 2:
        return classes
    held = set(np.asarray(truth.y, dtype=object).tolist())
    return [c for c in classes if c in held]


def _true_proba(truth: Truth, side: Side) -> np.ndarray:
    unknown = set(np.asarray(truth.y, dtype=object).tolist()) - set(truth.classes)
    if unknown:
        raise ValueError(
            f"gate: class(es) {sorted(map(str, unknown))} of the test rows have no probability "
            "column: build Truth.classes with metrics.class_labels and align each side's "
            "probabilities to them (metrics.aligned_proba)"
        )
    index = np.searchsorted(truth.classes, truth.y, sorter=np.argsort(truth.classes))
    order = np.argsort(truth.classes)[index]
    return side.proba[np.arange(truth.n), order]


def additive(metric: str, truth: Truth, side: Side) -> tuple[np.ndarray, Reducer]:
    """Per-row statistics (n x k) whose column sums determine ``metric``, and the function
    of those sums (any leading shape) giving the metric."""
    one = np.ones(truth.n)
    if truth.task == "regression":
        y = truth.y.astype(float)
        e = y - side.predicted.astype(float)
        if metric == "mae":
            return np.column_stack([one, np.abs(e)]), lambda s: _safe_div(s[..., 1], s[..., 0])
        if metric == "rmse":
            return np.column_stack([one, e * e]), lambda s: np.sqrt(_safe_div(s[..., 1], s[..., 0]))
        if metric == "r2":

            def r2(s: np.ndarray) -> np.ndarray:
                total = s[..., 3] - _safe_div(s[..., 2] ** 2, s[..., 0])
                return 1 - _safe_div(s[..., 1], total)

            return np.column_stack([one, e * e, y, y * y]), r2
        raise ValueError(f"gate: no paired bootstrap for regression metric '{metric}'")
    if metric == "accuracy":
        right = (np.asarray(side.predicted, dtype=object) == truth.y).astype(float)
        return np.column_stack([one, right]), lambda s: _safe_div(s[..., 1], s[..., 0])
    if metric == "log_loss":
        if side.proba is None:
            raise ValueError("gate: log_loss needs class probabilities")
        loss = -np.log(np.clip(_true_proba(truth, side), 1e-15, 1))
        return np.column_stack([one, loss]), lambda s: _safe_div(s[..., 1], s[..., 0])
    if metric == "f1":
        classes = held_classes(truth)
        predicted = np.asarray(side.predicted, dtype=object)
        targets = classes[-1:] if len(truth.classes) == 2 else classes
        cols = []
        for c in targets:
            t, p = truth.y == c, predicted == c
            cols += [(t & p).astype(float), (~t & p).astype(float), (t & ~p).astype(float)]

        def f1(s: np.ndarray) -> np.ndarray:
            per = []
            for i in range(len(targets)):
                tp, fp, fn = s[..., 3 * i], s[..., 3 * i + 1], s[..., 3 * i + 2]
                per.append(np.nan_to_num(_safe_div(2 * tp, 2 * tp + fp + fn)))
            return np.mean(per, axis=0)

        return np.column_stack(cols), f1
    raise ValueError(f"gate: no paired bootstrap for classification metric '{metric}'")


@dataclass(frozen=True)
class AucPrep:
    """One model's scores for one class, in the form every resample's ROC AUC is computed
    from (built once per model, class and slice, not per resample): the scores sorted once,
    the negatives' units in that order, and for each positive its unit and how many
    negatives rank strictly below it (``lo``) and at or below it (``hi``: ties count half)."""

    negative_units: np.ndarray
    positive_units: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    tied: np.ndarray  # positives tied with some negative (hi > lo)


def _auc_prep(
    score: np.ndarray, positive: np.ndarray, units: np.ndarray, order: np.ndarray | None = None
) -> AucPrep:
    """``order``: the rows to use, sorted by score (default: all rows, sorted here)."""
    order = np.argsort(score, kind="stable") if order is None else order
    pos = positive[order]
    negative_scores = score[order[~pos]]
    positive_scores = score[order[pos]]
    lo = np.searchsorted(negative_scores, positive_scores, side="left")
    hi = np.searchsorted(negative_scores, positive_scores, side="right")
    return AucPrep(units[order[~pos]], units[order[pos]], lo, hi, np.flatnonzero(hi > lo))


def _auc_prepped(prep: AucPrep, unit_counts: np.ndarray) -> np.ndarray:
    """ROC AUC on each resample (a row of ``unit_counts``: how often each unit was drawn).

    Each row weighs as often as its unit was drawn. With the negatives' weights summed
    cumulatively in score order (``below``), the weighted count of (positive, negative)
    pairs ranked right is one gather and one dot product per positive: O(rows) per resample
    with no sort per resample (the sort-per-model form it replaced gathered and reduced row
    weights per tie group; the two timed: docs/performance.md, "Figures behind the gate")."""
    k = unit_counts.shape[0]
    below = np.zeros((k, len(prep.negative_units) + 1))
    np.cumsum(np.take(unit_counts, prep.negative_units, axis=1), axis=1, out=below[:, 1:])
    wp = np.take(unit_counts, prep.positive_units, axis=1)
    right = np.einsum("ij,ij->i", wp, np.take(below, prep.lo, axis=1))
    if len(prep.tied):
        tied = prep.tied
        half = np.take(below, prep.hi[tied], axis=1) - np.take(below, prep.lo[tied], axis=1)
        right += 0.5 * np.einsum("ij,ij->i", wp[:, tied], half)
    return _safe_div(right, wp.sum(axis=1) * below[:, -1])


def _auc_preps(
    truth: Truth, side: Side, units: np.ndarray, masks: Mapping[int, np.ndarray | None]
) -> dict[int, list[AucPrep]]:
    """Every class's prep (the positive class only for two) per mask: one sort per class,
    which each mask filters (a subset of sorted rows is still sorted)."""
    classes = list(truth.classes)
    held = held_classes(truth)
    targets = (
        [(1, classes[1])]
        if len(classes) == 2
        else [(i, c) for i, c in enumerate(classes) if c in held]
    )
    out: dict[int, list[AucPrep]] = {tag: [] for tag in masks}
    for i, c in targets:
        score, positive = side.proba[:, i], truth.y == c
        order = np.argsort(score, kind="stable")
        for tag, mask in masks.items():
            kept = order if mask is None else order[np.asarray(mask, dtype=bool)[order]]
            out[tag].append(_auc_prep(score, positive, units, kept))
    return out


def auc_on_counts(preps: list[AucPrep], unit_counts: np.ndarray) -> np.ndarray:
    """ROC AUC (binary; one-vs-rest macro average for more classes) on each resample. A
    resample (or slice) without a row of some class averages the classes it has; NaN
    when none can be scored."""
    if not preps:
        return np.full(len(unit_counts), np.nan)
    each = np.stack([_auc_prepped(prep, unit_counts) for prep in preps])
    scored = np.isfinite(each)
    total = np.where(scored, each, 0).sum(axis=0)
    return _safe_div(total, scored.sum(axis=0).astype(float))


# --- the comparison -------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """``after - before`` of one metric on one set of rows, with its bootstrap interval."""

    metric: str
    rows: int
    before: float
    after: float
    low: float
    high: float
    undefined: int = 0  # resamples on which the metric was undefined (e.g. one class drawn)
    spread: float = math.nan  # standard deviation of the resampled differences

    @property
    def difference(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class Comparison:
    """What to compare: a metric on a subset of rows (``mask``: None for all rows)."""

    metric: str
    mask: np.ndarray | None = None


@dataclass(frozen=True)
class Draws:
    """One metric of each side on all rows (``points``) and on every resample (``draws``,
    one row per side, the same resamples for every side: paired)."""

    rows: int
    points: np.ndarray
    draws: np.ndarray


def bootstrap(
    truth: Truth,
    sides: list[Side],
    comparisons: Mapping[str, Comparison],
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Draws]:
    """Every named metric of every side on the same seeded resamples of the rows' units."""
    if truth.units is None and truth.n > MAX_UNITS:
        # Independent rows, grouped into MAX_UNITS groups of consecutive rows: the groups are
        # independent too, so resampling them estimates the same variance at a cost bounded by
        # MAX_UNITS whatever the rows (timed: docs/performance.md, "Figures behind the gate").
        truth = Truth(truth.y, truth.task, truth.classes, np.arange(truth.n) * MAX_UNITS // truth.n)
    units = np.arange(truth.n) if truth.units is None else truth.units
    m = truth.n_units
    # Per-row statistic columns, each distinct one kept once (the row count, y and y^2
    # repeat for every side and metric, |e| for every metric of a side): the product below
    # costs units x distinct columns. `mapping` sends each plan's column to its distinct one.
    distinct: list[np.ndarray] = []
    seen: dict[int, list[int]] = {}
    mapping: list[int] = []
    plans: dict[str, list[tuple[int, int, Reducer]]] = {}
    auc: dict[str, Comparison] = {}

    def keep(column: np.ndarray) -> None:
        if truth.units is not None:  # sums per block, straight away
            column = np.bincount(units, weights=column, minlength=m)
        same = seen.setdefault(hash(column.tobytes()), [])
        match = next((u for u in same if np.array_equal(distinct[u], column)), None)
        if match is None:
            match = len(distinct)
            distinct.append(column)
            same.append(match)
        mapping.append(match)

    for key, comp in comparisons.items():
        if comp.metric == "roc_auc":
            auc[key] = comp
            continue
        plans[key] = []
        for side in sides:
            if side.proba is None and comp.metric in NEEDS_PROBA:  # labels only: NaN
                probe = Side(side.predicted, np.full((truth.n, len(truth.classes)), 0.5))
                stats, reduce = additive(comp.metric, truth, probe)
                stats = np.full_like(stats, np.nan)
            else:
                stats, reduce = additive(comp.metric, truth, side)
            plans[key].append((len(mapping), stats.shape[1], reduce))
            for i in range(stats.shape[1]):
                column = stats[:, i]
                keep(column if comp.mask is None else column * comp.mask)
    per_unit = np.column_stack(distinct) if distinct else np.zeros((m, 0))
    index = np.asarray(mapping, dtype=np.int64)
    full = per_unit.sum(axis=0)[index]

    def values(sums: np.ndarray, span: tuple[int, int, Reducer]) -> np.ndarray:
        start, size, reduce = span
        return reduce(sums[..., start : start + size])

    # ROC AUC: one prep per side, class and distinct mask (e.g. all rows: computed once)
    masks: dict[int, np.ndarray | None] = {}
    tags = {}
    for key, comp in auc.items():
        tags[key] = 0 if comp.mask is None else id(comp.mask)
        masks[tags[key]] = comp.mask
    preps = [
        None if not auc or side.proba is None else _auc_preps(truth, side, units, masks)
        for side in sides
    ]

    def aucs(tag: int, unit_counts: np.ndarray) -> np.ndarray:
        nan = np.full(len(unit_counts), np.nan)
        return np.stack(
            [nan if prep is None else auc_on_counts(prep[tag], unit_counts) for prep in preps]
        )

    chunks: dict[str, list[np.ndarray]] = {key: [] for key in comparisons}
    drawn = (
        counts(m, resamples, seed, truth.n if auc else 0)
        if truth.block is None
        else circular_counts(m, truth.block, resamples, seed, truth.n if auc else 0)
    )
    for c in drawn:
        sums = (c @ per_unit)[:, index]
        for key, spans in plans.items():
            chunks[key].append(np.stack([values(sums, span) for span in spans]))
        done = {tag: aucs(tag, c) for tag in masks}
        for key, tag in tags.items():
            chunks[key].append(done[tag])
    out: dict[str, Draws] = {}
    for key, comp in comparisons.items():
        if key in plans:
            points = np.array([float(values(full, span)) for span in plans[key]])
        else:
            points = aucs(tags[key], np.ones((1, m)))[:, 0]
        rows = truth.n if comp.mask is None else int(np.count_nonzero(comp.mask))
        out[key] = Draws(rows, points, np.concatenate(chunks[key], axis=1))
    return out


def percentile(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The two-sided percentile interval of the finite ``values`` (NaN when there are none:
    e.g. a slice no resample reached)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return math.nan, math.nan
    alpha = (1 - confidence) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return float(low), float(high)


def simultaneous(
    differences: list[np.ndarray],
    confidence: float,
    points: list[float] | None = None,
    units: int | None = None,
) -> list[tuple[float, float]]:
    """Percentile intervals of several differences drawn on the same resamples, widened
    together so that, with probability ``confidence``, every one of them holds its true
    value (each side errs for some interval with at most (1 - confidence) / 2).

    A max-statistic on ranks: each difference's resamples are ranked (as shares in (0, 1));
    the lowest rank over the differences on a resample is the statistic for the low
    bounds, the highest for the high ones. Each interval is then cut at the quantiles of
    its own resamples that those statistics' (1 - confidence) / 2 and (1 + confidence) / 2
    quantiles name. Differences that move together (rmse and r2 on the same rows) cost
    nothing extra; independent ones cost what Bonferroni would. NaN resamples (a metric
    undefined there) are left out of that difference's ranks and interval.

    With ``points`` (each difference on all rows) and ``units`` (how many independent
    blocks the rows hold), each side of an interval is stretched about its point by
    t_{units-1} / z at its tail level: a bootstrap over few blocks (17 days of hourly rows)
    does not know how uncertain its own spread is, and its far tails undercover as a
    normal quantile used in place of Student's t would."""
    alpha = (1 - confidence) / 2
    if len(differences) <= 1:
        bounds = [percentile(d, confidence) for d in differences]
        return _stretch(bounds, points, units, alpha, 1 - alpha)
    levels = rank_levels(differences, confidence)
    if levels is None:
        return [(math.nan, math.nan) for _ in differences]
    low_rank, high_rank = levels
    out = []
    for d in differences:
        finite = d[np.isfinite(d)]
        if not len(finite):
            out.append((math.nan, math.nan))
            continue
        low, high = np.quantile(finite, [low_rank, high_rank])
        out.append((float(low), float(high)))
    return _stretch(out, points, units, low_rank, high_rank)


def rank_levels(differences: list[np.ndarray], confidence: float) -> tuple[float, float] | None:
    """The quantile levels (low, high) at which ``simultaneous`` cuts every difference's
    resamples: each side's tail is the low level, and 1 - the high one (None: no resample
    has a finite difference). One difference: the plain (1 -+ confidence) / 2."""
    alpha = (1 - confidence) / 2
    if len(differences) <= 1:
        return alpha, 1 - alpha
    ranks = []
    for d in differences:
        finite = np.isfinite(d)
        r = np.full(len(d), np.nan)
        if finite.any():
            order = np.argsort(d[finite], kind="stable")
            share = np.empty(int(finite.sum()))
            share[order] = (np.arange(len(order)) + 0.5) / len(order)
            r[finite] = share
        ranks.append(r)
    table = np.vstack(ranks)
    usable = np.isfinite(table).any(axis=0)
    if not usable.any():
        return None
    with np.errstate(invalid="ignore"):
        low_rank = float(np.quantile(np.nanmin(table[:, usable], axis=0), alpha))
        high_rank = float(np.quantile(np.nanmax(table[:, usable], axis=0), 1 - alpha))
    return min(low_rank, alpha), max(high_rank, 1 - alpha)


def _stretch(
    bounds: list[tuple[float, float]],
    points: list[float] | None,
    units: int | None,
    low_rank: float,
    high_rank: float,
) -> list[tuple[float, float]]:
    if points is None or units is None or units < 3:
        return bounds
    from statistics import NormalDist

    from scipy.special import stdtrit  # scipy.stats costs seconds to import; this does not

    def factor(tail: float) -> float:
        tail = min(max(tail, 1e-9), 0.5 - 1e-9)
        return float(stdtrit(units - 1, 1 - tail)) / NormalDist().inv_cdf(1 - tail)

    f_low, f_high = factor(low_rank), factor(1 - high_rank)
    return [
        (p - (p - lo) * f_low, p + (hi - p) * f_high)
        for (lo, hi), p in zip(bounds, points, strict=True)
    ]


def compare_sides(
    truth: Truth,
    before: Side,
    after: Side,
    comparisons: Mapping[str, Comparison],
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Interval]:
    """Paired bootstrap of ``after - before`` for every named comparison."""
    found = bootstrap(truth, [before, after], comparisons, resamples=resamples, seed=seed)
    out: dict[str, Interval] = {}
    for key, d in found.items():
        low, high = percentile(d.draws[1] - d.draws[0], confidence)
        out[key] = Interval(
            comparisons[key].metric, d.rows, float(d.points[0]), float(d.points[1]), low, high
        )
    return out
