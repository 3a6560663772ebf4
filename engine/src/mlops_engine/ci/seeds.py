"""Training randomness in the gate: the candidate trained on several seeds (issue 35).

The paired intervals (ci/paired.py) count the noise of the test rows for two fixed models.
A pull request's claim is about a *change*, and the candidate model is one draw of its
training randomness (the seed drives the early-stopping holdout, the CV folds of a random
split and the booster), as is the champion: on the example's window with half of it held
out (1,034 test rows), 14 of 30 seed-only pull requests claimed "improved" or "regressed"
somewhere on the rows' noise alone, 2 of 30 with three seeds counted (docs/ci.md). So,
where training is cheap enough:

- **Several seeds.** The candidate is trained again on ``gate.seeds.count - 1`` other
  seeds (``extra_seeds``: fixed, derived from ``gate.seed`` and the training seed, so a
  re-run trains the same ones), on the same training rows with the same params, by the
  train stage's own function; in memory only (their answers are cached in
  ``reports/pr/seeds/`` for the report and the gate of one run): ``dvc.lock``'s outputs
  never change.
- **The time limit** is ``gate.seeds.max_train_seconds``, measured on the first extra
  seed's training, which is stopped there (SIGALRM, checked between the fit's Python
  steps): a model that takes longer costs the gate at most that much, and is not counted.
- **The spread.** Per check (metric or slice), the sample variance of the candidate's
  metric over its k models on the test rows (``seed_variance``). The difference shown (the
  committed candidate against the champion) holds one seed's luck on each side, so its seed
  variance is twice that (the champion's spread taken equal to the candidate's: exactly so
  for a seed-only change). On fixed rows that variance also holds the rows' noise of one
  seed's model against another's, so it overstates the seed's own a little; subtracting
  that part (a method-of-moments random-effects estimate, from the resamples' covariance)
  was tried and undercovered: with three seeds it is often 0, and 6 of 30 seed-only pairs
  claimed a change against 2 of 30 with the plain variance (docs/ci.md).
- **The rule** (``widen``). Each side of a check's interval is widened to
  ``t(nu, tail) * sqrt(se^2 + v_seed)``: ``se`` is that side's rows-only standard error
  (its half-width over the t quantile at its tail level, the level ``paired.simultaneous``
  set for the whole family), ``v_seed`` the seed variance and ``nu`` the Welch-Satterthwaite
  degrees of freedom of the sum (Satterthwaite 1946; Welch 1947): ``units - 1`` for the rows
  (as ``paired._stretch``), ``k - 1`` for the seeds. With few seeds ``nu`` is small where
  the seed term dominates, so the interval is honest about how little three seeds say about
  their spread; with no spread it is the rows-only interval unchanged. "Improved" and
  "regressed" are then claimed only when they survive it. Counting both sources of
  variance, rather than the test rows' alone, is what Bouthillier et al. (2021, "Accounting
  for Variance in Machine Learning Benchmarks", MLSys) recommend for comparing learning
  pipelines.

Otherwise (``count: 1``, training over the limit, or a model whose answers do not depend
on its seed) the note says that seed noise is not counted. The floor against the naive
baseline is about the model that ships, not the change: it is not widened.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

from mlops_engine.outputs import load_yaml
from mlops_engine.paired import Side

log = logging.getLogger(__name__)
CACHE = Path("reports/pr/seeds")  # gitignored; the gate and the report of one run share it
_CACHE_VERSION = 1
Status = Literal["counted", "off", "too slow", "deterministic", "no base", "unchanged"]


def extra_seeds(training_seed: int, gate_seed: int, count: int) -> tuple[int, ...]:
    """``count - 1`` training seeds other than ``training_seed``, fixed by (``gate.seed``,
    the training seed): a re-run trains the same ones, and a seed-only change draws others."""
    state = np.random.SeedSequence([gate_seed, training_seed]).generate_state(4 * count + 4)
    out: list[int] = []
    for value in (int(v) % 1_000_000 for v in state):  # short enough to read in a report
        if len(out) >= count - 1:
            break
        if value != training_seed and value not in out:
            out.append(value)
    return tuple(out)


@dataclass(frozen=True)
class SeedRuns:
    """What the gate did about training randomness: ``sides`` are the candidate's answers
    on the test rows under ``seeds`` (the extra ones), each trained in ``seconds``."""

    status: Status
    seeds: tuple[int, ...] = ()
    sides: tuple[Side, ...] = ()
    seconds: tuple[float, ...] = ()
    limit: float = 0.0
    training_seed: int | None = None

    @property
    def counted(self) -> bool:
        return self.status == "counted"

    def note(self) -> str | None:
        """One sentence for the report and the gate's log (None: nothing to say)."""
        if self.status in ("no base", "unchanged"):
            return None
        noise = (
            "the intervals count the noise of the test rows only, and the training seed "
            "alone can move the metrics about as much (docs/ci.md)"
        )
        if self.status == "off":
            return f"Seed noise is not counted (`gate.seeds.count: 1`): {noise}."
        if self.status == "too slow":
            return (
                f"Seed noise is not counted: one training of the candidate took over "
                f"{self.limit:g} s (`gate.seeds.max_train_seconds`), so it was not trained on "
                f"other seeds; {noise}."
            )
        seeds = ", ".join(str(s) for s in self.seeds)
        if self.status == "deterministic":
            return (
                f"Seed noise is not counted: the candidate does not depend on its training "
                f"seed (seeds {seeds} gave the answers of seed {self.training_seed} on every "
                "test row), so there is none to count."
            )
        took = ", ".join(f"{s:.1f}" for s in self.seconds)
        return (
            f"Seed noise counted: the candidate was also trained on seeds {seeds} (same "
            f"data and params, {took} s; `gate.seeds`), and every interval against the base "
            "is widened by the spread between its seeds, so a change is called improved or "
            "regressed only beyond what a different seed could do (docs/ci.md)."
        )


class _TooSlow(Exception):
    pass


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise ``_TooSlow`` in the main thread after ``seconds`` (where SIGALRM exists)."""
    main = threading.current_thread() is threading.main_thread()
    if not hasattr(signal, "setitimer") or not main:
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def train_seeds(
    train_rows: Any,
    test: Any,
    params: Any,
    challenger: Side,
    labels: Any = None,
) -> SeedRuns:
    """The candidate trained on the extra seeds, answering on ``test``; stops at the first
    training over ``gate.seeds.max_train_seconds``."""
    from mlops_engine.ci.champion import side_of
    from mlops_engine.pipeline.train import train

    rule = params.gate.seeds
    seeds = extra_seeds(params.seed, params.gate.seed, rule.count)
    if not seeds:
        return SeedRuns("off", training_seed=params.seed)
    sides: list[Side] = []
    seconds: list[float] = []
    for seed in seeds:
        start = time.perf_counter()
        try:
            with _deadline(rule.max_train_seconds):
                model = train(train_rows, params.train, params.contract, seed)
        except _TooSlow:
            model = None
        took = time.perf_counter() - start
        if model is None or took > rule.max_train_seconds:
            log.warning(
                "gate: training on seed %d stopped after %.1f s, over gate.seeds."
                "max_train_seconds (%g): seed noise is not counted",
                seed,
                took,
                rule.max_train_seconds,
            )
            return SeedRuns("too slow", seeds, limit=rule.max_train_seconds)
        log.info("gate: the candidate trained on seed %d in %.1f s", seed, took)
        sides.append(side_of(model, test, params.contract, labels))
        seconds.append(took)
    from mlops_engine.ci.gate import same_answers

    status: Status = (
        "deterministic" if all(same_answers(challenger, s) for s in sides) else "counted"
    )
    return SeedRuns(
        status,
        seeds,
        tuple(sides) if status == "counted" else (),
        tuple(seconds),
        rule.max_train_seconds,
        params.seed,
    )


def for_rows(rows: Any, params: Any, lock: Path) -> tuple[Any, SeedRuns]:
    """``rows`` with the candidate's answers under the extra seeds (``Rows.seed_sides``)
    when they are counted, and what was done. Trains nothing when there is no champion, the
    answers equal the champion's, or ``gate.seeds.count`` is 1; reads this revision's
    training and test rows from ``dvc.lock``'s outputs, as ``champion.gate_rows`` does."""
    from mlops_engine import storage
    from mlops_engine.ci.champion import pick_out, stage_outs
    from mlops_engine.ci.gate import same_answers

    if rows.champion is None:
        return rows, SeedRuns("no base")
    if same_answers(rows.champion, rows.challenger):
        return rows, SeedRuns("unchanged")
    if params.gate.seeds.count <= 1:
        return rows, SeedRuns("off", training_seed=params.seed)
    ours = load_yaml(lock.read_text()) or {}
    split_outs = stage_outs(ours, "split")
    train_out, test_out = pick_out(split_outs, "train"), pick_out(split_outs, "test")
    if train_out is None or test_out is None:
        raise ValueError(f"{lock}: cannot tell the training and test splits apart")
    key = hashlib.md5(
        json.dumps(
            [
                _CACHE_VERSION,
                ours.get("stages", {}).get("train"),
                test_out,
                params.seed,
                params.gate.seed,
                params.gate.seeds.model_dump(mode="json"),
                params.train.model_dump(mode="json"),
            ],
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()
    cached = CACHE / f"{key}.pkl"
    if cached.exists():
        runs = pickle.loads(cached.read_bytes())
        log.info("gate: the candidate's extra seeds from %s", cached)
    else:
        runs = train_seeds(
            storage.read_parquet(train_out[0]),
            storage.read_parquet(test_out[0]),
            params,
            rows.challenger,
            rows.truth.classes,
        )
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(pickle.dumps(runs))
    return replace(rows, seed_sides=runs.sides), runs


# --- the rule -------------------------------------------------------------------------


def seed_variance(points: np.ndarray) -> float:
    """The seed variance of a difference between the committed candidate and the champion,
    from ``points``, the k candidate models' metric on the same rows: twice their sample
    variance (one seed's luck on each side, the champion's spread taken equal to the
    candidate's; 0 when a point is undefined)."""
    points = np.asarray(points, dtype=float)
    if len(points) < 2 or not np.isfinite(points).all():
        return 0.0
    return 2 * float(np.var(points, ddof=1))


def _quantile(df: float | None, tail: float) -> float:
    tail = min(max(tail, 1e-9), 0.5 - 1e-9)
    if df is None or not math.isfinite(df):
        return NormalDist().inv_cdf(1 - tail)
    from scipy.special import stdtrit

    return float(stdtrit(df, 1 - tail))


def _side(half: float, tail: float, rows_df: float | None, v_seed: float, seed_df: int) -> float:
    se2 = (half / _quantile(rows_df, tail)) ** 2
    total = se2 + v_seed
    denominator = (se2**2 / rows_df if rows_df else 0.0) + v_seed**2 / seed_df
    df = total**2 / denominator if denominator > 0 else None
    return _quantile(df, tail) * math.sqrt(total)


def widen(
    point: float,
    bounds: tuple[float, float],
    levels: tuple[float, float],
    units: int | None,
    v_seed: float,
    seeds: int,
) -> tuple[float, float]:
    """``bounds`` (about ``point``) widened by the seed variance ``v_seed`` of the
    difference, estimated from ``seeds`` models (module docstring). ``levels``: the quantile
    levels ``paired.rank_levels`` cut the resamples at; ``units``: the independent blocks
    the rows hold (the rows' degrees of freedom are ``units - 1`` from 3 on, as
    ``paired._stretch``)."""
    low, high = bounds
    if v_seed <= 0 or seeds < 2 or math.isnan(low) or math.isnan(high):
        return bounds
    rows_df = units - 1 if units is not None and units >= 3 else None
    low_tail, high_tail = levels[0], 1 - levels[1]
    return (
        point - _side(max(point - low, 0.0), low_tail, rows_df, v_seed, seeds - 1),
        point + _side(max(high - point, 0.0), high_tail, rows_df, v_seed, seeds - 1),
    )
