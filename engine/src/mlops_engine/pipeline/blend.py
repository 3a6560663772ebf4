"""A cross-validated blend of the two best candidates: their weighted average prediction.

The candidates' out-of-fold predictions already exist after model choice, so a blend costs
no extra cross-validation fit: ``w * best + (1 - w) * second`` is scored on the same folds
with the same proper scoring rule for ``w`` in 0.1 .. 0.9, and replaces the single winner
only when its mean fold score is strictly lower. Averaging probabilities (classification)
or expected values (regression, Poisson included) never leaves the loss's domain, and since
log loss, Poisson deviance and squared error are convex, the blend of two models scores at
most the weighted mean of their scores; it gains where the two make different mistakes.
Where no interior weight beats the winner, the model is the single winner, unchanged (what
it gained and where, on the benchmark tables, ``python -m benchmarks.models --seeds 5``:
docs/performance.md, "Model choices").

The weight is chosen on the same out-of-fold rows that score it (one parameter on a grid of
nine values: a small optimism, noted in the report, not a nested cross-validation). The final
model refits both members on all training rows inside scikit-learn's ``VotingClassifier``
(soft voting) or ``VotingRegressor`` with these weights: plain scikit-learn objects that the
service, the registry and joblib handle like any estimator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

WEIGHTS = tuple(round(i / 10, 1) for i in range(9, 0, -1))  # of the best candidate: 0.9 .. 0.1


@dataclass(frozen=True)
class OutOfFold:
    """A candidate's predictions on the validation rows of every scored fold, in fold order:
    ``rows`` index the (time-ordered) training frame, ``fold`` says which fold a row was in."""

    rows: np.ndarray
    y: np.ndarray
    predictions: np.ndarray
    fold: np.ndarray


@dataclass(frozen=True)
class Blend:
    members: tuple[str, str]
    weights: tuple[float, float]
    cv_score: float
    chosen: bool

    def describe(self) -> str:
        (a, b), (wa, wb) = self.members, self.weights
        return f"{wa:g} {a} + {wb:g} {b}"

    def record(self) -> dict[str, Any]:
        return {
            "members": list(self.members),
            "weights": list(self.weights),
            "cv_score": round(self.cv_score, 6),
            "chosen": self.chosen,
        }


def fold_mean(score: Any, oof: OutOfFold, predictions: np.ndarray) -> float:
    """Mean over folds of ``score(y, predictions)``: how each candidate's CV score is made."""
    return float(
        np.mean(
            [score(oof.y[oof.fold == f], predictions[oof.fold == f]) for f in np.unique(oof.fold)]
        )
    )


def choose(scores: dict[str, float | None], oof: dict[str, OutOfFold], score: Any) -> Blend | None:
    """The best blend of the two best-scoring candidates, or None when fewer than two were
    scored on the same rows. ``chosen`` when it beats the best candidate's own fold mean."""
    ranked = sorted((s, n) for n, s in scores.items() if s is not None and n in oof)
    if len(ranked) < 2:
        return None
    (_, a), (_, b) = ranked[:2]
    first, second = oof[a], oof[b]
    if not np.array_equal(first.rows, second.rows):
        return None
    alone = fold_mean(score, first, first.predictions)
    best: tuple[float, float] | None = None
    for w in WEIGHTS:  # ties keep the larger weight of the better candidate
        mixed = w * first.predictions + (1 - w) * second.predictions
        value = fold_mean(score, first, mixed)
        if best is None or value < best[0]:
            best = (value, w)
    assert best is not None
    value, w = best
    return Blend((a, b), (w, round(1 - w, 1)), value, chosen=value < alone)


def estimator(blend: Blend, pipelines: dict[str, Any], task: str) -> Any:
    """The unfitted blend: each member's whole pipeline (its own preprocessing) weighted."""
    from sklearn.ensemble import VotingClassifier, VotingRegressor

    members = [(name, pipelines[name]) for name in blend.members]
    if task == "classification":
        return VotingClassifier(members, voting="soft", weights=list(blend.weights))
    return VotingRegressor(members, weights=list(blend.weights))
