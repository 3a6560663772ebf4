"""Stage ``train``: a seeded scikit-learn ``Pipeline`` (preprocessing + estimator).

Preprocessing lives inside the pipeline, so the service applies exactly what training
applied and there is no training/serving skew.

With ``train.estimator: auto`` the estimator is chosen among ``train.candidates`` (a
regularised linear model and HistGradientBoosting with early stopping) by cross-validation
on the training rows only: ``TimeSeriesSplit`` on time-sorted rows when the contract has a
time column (a fold never trains on its own future), stratified/shuffled K-fold otherwise.
Candidates are scored with the task's proper scoring rule, the loss the model is fitted for:

- classification: log loss (it rewards calibrated probabilities, which accuracy and f1 at
  a fixed threshold do not: an overfitted booster can have a high accuracy and a log loss
  worse than the class prior's; docs/performance.md, "Model choices");
- regression of a non-negative integer target (``loss: auto`` -> Poisson): mean Poisson
  deviance, the strictly proper score for a count's expected value: a squared-error model
  may predict a negative count, a Poisson one never does (docs/performance.md, "Model choices");
- other regression: mean squared error, strictly proper for the mean the model predicts
  (MAE would reward the median instead).

With ``train.blend`` the two best candidates' out-of-fold predictions are also averaged
with a weight chosen on the same folds (``mlops_engine.pipeline.blend``); the blend replaces the
winner only when it scores strictly better. The winner is refitted on all training rows.
The candidates, their CV scores, the blend and the winner travel with the model
(``model_selection_``) into ``reports/metrics.json`` and the PR report. For an imbalanced
binary target the decision threshold is chosen on the same out-of-fold probabilities
(maximum f1), not left at 0.5.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, PoissonRegressor, Ridge
from sklearn.metrics import log_loss, mean_poisson_deviance, mean_squared_error
from sklearn.model_selection import (
    FixedThresholdClassifier,
    KFold,
    StratifiedKFold,
    TimeSeriesSplit,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from mlops_engine import project
from mlops_engine.config import TrainParams
from mlops_engine.contract import Contract
from mlops_engine.pipeline import blend as blending
from mlops_engine.pipeline import features
from mlops_engine.pipeline.blend import OutOfFold
from mlops_engine.pipeline.metrics import aligned_proba

log = logging.getLogger(__name__)

# Early stopping holds out 10% of the rows; below this many rows that is too few to judge.
MIN_ROWS_FOR_EARLY_STOPPING = 100
# Tune the threshold when the rarer class is below this share of the training rows.
IMBALANCED_SHARE = 0.25

_HGB = {
    # A ceiling: early stopping (10 rounds without improvement on a seeded 10% holdout)
    # decides. 15 leaves and l2 1.0 won a small grid on the bundled data (docs/performance.md,
    # "Model choices"); fixed rounds without early stopping overfit small tables.
    "early_stopping": True,
    "max_iter": 500,
    "learning_rate": 0.1,
    "max_leaf_nodes": 15,
    "l2_regularization": 1.0,
    "n_iter_no_change": 10,
    "validation_fraction": 0.1,
}
ESTIMATORS: dict[tuple[str, str], tuple[type, dict[str, Any]]] = {
    ("hist_gradient_boosting", "squared_error"): (HistGradientBoostingRegressor, _HGB),
    ("hist_gradient_boosting", "poisson"): (
        HistGradientBoostingRegressor,
        {**_HGB, "loss": "poisson"},
    ),
    ("hist_gradient_boosting", "classification"): (HistGradientBoostingClassifier, _HGB),
    ("random_forest", "squared_error"): (RandomForestRegressor, {"n_jobs": 1}),
    ("random_forest", "poisson"): (RandomForestRegressor, {"n_jobs": 1, "criterion": "poisson"}),
    ("random_forest", "classification"): (RandomForestClassifier, {"n_jobs": 1}),
    ("linear", "squared_error"): (Ridge, {"alpha": 1.0}),
    # newton-cholesky: lbfgs stopped at 1000 iterations unconverged on star98's 20
    # collinear columns (ConvergenceWarning in `make run`, slow CV fits); Newton steps
    # converge in a few, to the same solution where lbfgs did (docs/performance.md,
    # "Model choices")
    ("linear", "poisson"): (
        PoissonRegressor,
        {"alpha": 0.01, "max_iter": 1000, "solver": "newton-cholesky"},
    ),
    ("linear", "classification"): (LogisticRegression, {"C": 1.0, "max_iter": 2000}),
}


def estimators() -> dict[tuple[str, str], tuple[type, dict[str, Any]]]:
    """The engine's families with the project's ``ESTIMATORS`` over them."""
    return {**ESTIMATORS, **(project.hook("ESTIMATORS") or {})}


def check_families(params: TrainParams, loss: str, names: list[str] | None = None) -> None:
    """Every estimator params.yaml names exists for ``loss``, or an error naming the known
    ones (before any fitting: a typo must not cost a cross-validation first)."""
    families = estimators()
    if names is None:
        names = [params.estimator] if params.estimator != "auto" else list(params.candidates)
    for name in names:
        if (name, loss) not in families:
            known = sorted({n for n, _ in families})
            supported = sorted(n for n, fitted in families if fitted == loss)
            raise ValueError(
                f"train: unknown estimator {name!r} for the {loss} loss: one of {supported} "
                f"(all families: {known}); add one in the project's model.py"
            )


def loss_for(params: TrainParams, contract: Contract) -> str:
    """``classification``, or the regression loss: Poisson for a non-negative integer target."""
    if contract.task == "classification":
        return "classification"
    if params.loss != "auto":
        return params.loss
    spec = contract.columns[contract.target]
    counts = spec.dtype == "int" and spec.min is not None and spec.min >= 0
    return "poisson" if counts else "squared_error"


def build_estimator(
    params: TrainParams, task: str, seed: int, name: str | None = None, loss: str | None = None
) -> Any:
    """The estimator ``name`` (default: the pinned one) for ``loss``; ``train.hyperparams``
    apply to the pinned estimator, or under ``auto`` to hist_gradient_boosting."""
    name = name or (params.estimator if params.estimator != "auto" else "hist_gradient_boosting")
    loss = loss or ("classification" if task == "classification" else "squared_error")
    check_families(params, loss, [name])
    cls, defaults = estimators()[(name, loss)]
    tuned = params.estimator == name or (
        params.estimator == "auto" and name == "hist_gradient_boosting"
    )
    kwargs = {**defaults, **(params.hyperparams if tuned else {})}
    if "random_state" in cls().get_params():
        kwargs.setdefault("random_state", seed)
    try:
        return cls(**kwargs)
    except TypeError as err:
        valid = sorted(cls().get_params())
        raise ValueError(
            f"train.hyperparams for {cls.__name__}: {err}; valid keys: {valid}"
        ) from None


def build_pipeline(
    params: TrainParams,
    contract: Contract,
    seed: int,
    name: str | None = None,
    loss: str | None = None,
) -> Pipeline:
    name = name or (params.estimator if params.estimator != "auto" else "hist_gradient_boosting")
    numeric = [SimpleImputer(strategy="median")]
    if name == "linear":
        numeric.append(StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            max_categories=params.max_categories,
            sparse_output=False,
        ),
    )
    derived = features.resolve(contract.derived, contract.features)
    preprocess = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(*numeric),
                contract.numeric_features + [d.name for d in derived if d.kind == "numeric"],
            ),
            (
                "categorical",
                categorical,
                contract.categorical_features
                + [d.name for d in derived if d.kind == "categorical"],
            ),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    loss = loss or loss_for(params, contract)
    estimator = build_estimator(params, contract.task, seed, name, loss)
    steps = [("preprocess", preprocess), ("model", estimator)]
    if derived:  # only then: without derived features the model's bytes stay as they were
        steps.insert(0, ("features", features.DeriveFeatures(tuple(d.name for d in derived))))
    return Pipeline(steps)


def _small_data(pipeline: Pipeline, n_rows: int) -> Pipeline:
    """Early stopping's 10% holdout is meaningless on a few dozen rows: fit all rounds."""
    model = pipeline.named_steps["model"]
    if n_rows < MIN_ROWS_FOR_EARLY_STOPPING and model.get_params().get("early_stopping") is True:
        pipeline.set_params(model__early_stopping=False)
    return pipeline


def scoring_rule(contract: Contract, loss: str) -> str:
    if contract.task == "classification":
        return "log_loss"
    return "poisson_deviance" if loss == "poisson" else "mean_squared_error"


def _score(rule: str, y: Any, predicted: np.ndarray, classes: np.ndarray) -> float:
    if rule == "log_loss":
        return float(log_loss(y, np.clip(predicted, 1e-15, 1), labels=classes))
    if rule == "poisson_deviance":
        return float(mean_poisson_deviance(y, np.clip(predicted, 1e-9, None)))
    return float(mean_squared_error(y, predicted))


def cv_name(frame: pd.DataFrame, contract: Contract, n_folds: int) -> str:
    if contract.time_column is not None:
        return f"TimeSeriesSplit({n_folds})"
    y = frame[contract.target]
    if contract.task == "classification" and y.value_counts().min() >= n_folds:
        return f"StratifiedKFold({n_folds})"
    return f"KFold({n_folds})"


def _folds(frame: pd.DataFrame, contract: Contract, n_folds: int, seed: int) -> list[Any]:
    """Train/validation index pairs; time-ordered when the contract has a time axis."""
    kind = cv_name(frame, contract, n_folds).split("(")[0]
    if kind == "TimeSeriesSplit":
        return list(TimeSeriesSplit(n_splits=n_folds).split(frame))
    if kind == "StratifiedKFold":
        y = frame[contract.target]
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(frame, y))
    return list(KFold(n_folds, shuffle=True, random_state=seed).split(frame))


def _proba(model: Any, X: pd.DataFrame, classes: np.ndarray) -> np.ndarray:
    """predict_proba with a column per class of the whole training set (a time fold may
    lack a class: it gets probability 0, then clipped)."""
    return aligned_proba(model.predict_proba(X), model.classes_, classes)


def cross_validate(
    frame: pd.DataFrame,
    params: TrainParams,
    contract: Contract,
    seed: int,
    loss: str,
) -> tuple[dict[str, float | None], dict[str, OutOfFold]]:
    """Mean CV score per candidate (None when it failed on a fold) and each candidate's
    out-of-fold predictions."""
    rule = scoring_rule(contract, loss)
    ordered = frame
    if contract.time_column is not None:
        ordered = frame.sort_values(contract.time_column, kind="stable").reset_index(drop=True)
    X, y = ordered[contract.features], ordered[contract.target]
    classes = np.unique(y.to_numpy())
    folds = _folds(ordered, contract, params.cv_folds, seed)
    pipelines = {n: build_pipeline(params, contract, seed, n, loss) for n in params.candidates}
    scores: dict[str, float | None] = {}
    oof: dict[str, OutOfFold] = {}
    for name, pipeline in pipelines.items():
        fold_scores, rows, preds, fold_ids = [], [], [], []
        try:
            for k, (fit_idx, val_idx) in enumerate(folds):
                model = _small_data(clone(pipeline), len(fit_idx))
                model.fit(X.iloc[fit_idx], y.iloc[fit_idx])
                if contract.task == "classification":
                    if y.iloc[fit_idx].nunique() < 2:
                        continue  # an early time fold with one class: nothing to score
                    predicted = _proba(model, X.iloc[val_idx], classes)
                else:
                    predicted = model.predict(X.iloc[val_idx])
                fold_scores.append(_score(rule, y.iloc[val_idx], predicted, classes))
                rows.append(val_idx)
                preds.append(predicted)
                fold_ids.append(np.full(len(val_idx), k))
        except (ValueError, ArithmeticError) as err:
            log.warning("train: candidate %s failed in cross-validation: %s", name, err)
            scores[name] = None
            continue
        if not fold_scores:
            scores[name] = None
            continue
        scores[name] = round(float(np.mean(fold_scores)), 6)
        at = np.concatenate(rows)
        oof[name] = OutOfFold(at, y.to_numpy()[at], np.concatenate(preds), np.concatenate(fold_ids))
    return scores, oof


def _best_f1_threshold(positive: np.ndarray, proba: np.ndarray) -> float:
    """The probability cut that maximises f1 of the positive class on held-out rows."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, cuts = precision_recall_curve(positive, proba)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return round(float(cuts[int(np.argmax(f1))]), 6)


def _threshold(
    params: TrainParams,
    frame: pd.DataFrame,
    contract: Contract,
    oof: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[float | None, str]:
    """(threshold, how it was chosen) for a binary target; (None, ...) otherwise.
    ``oof``: the chosen model's out-of-fold (true labels, probabilities)."""
    y = frame[contract.target]
    classes = np.unique(y.to_numpy())  # the order of model.classes_: the last is "positive"
    if contract.task != "classification" or len(classes) != 2:
        return None, "not binary"
    if params.threshold != "auto":
        return float(params.threshold), "train.threshold"
    share = float(y.value_counts(normalize=True).min())
    if share >= IMBALANCED_SHARE or oof is None:
        why = "classes balanced" if share >= IMBALANCED_SHARE else "no out-of-fold predictions"
        return 0.5, f"0.5 ({why})"
    truth, proba = oof
    positive = truth == classes[-1]
    if positive.all() or not positive.any():
        return 0.5, "0.5 (one class in the out-of-fold rows)"
    cut = _best_f1_threshold(positive, proba[:, 1])
    return cut, f"max f1 of '{classes[-1]}' on out-of-fold predictions (rarer class {share:.1%})"


def train(frame: pd.DataFrame, params: TrainParams, contract: Contract, seed: int) -> Pipeline:
    """Fit the pipeline on ``frame``; same data, params and seed give the same model bytes."""
    if frame.empty:
        raise ValueError("train: the training set is empty")
    if contract.task == "classification" and frame[contract.target].nunique() < 2:
        raise ValueError("train: classification needs at least two classes in the training set")
    loss = loss_for(params, contract)
    check_families(params, loss)
    with threadpool_limits(limits=params.n_threads, user_api="openmp"):
        scores: dict[str, float | None] = {}
        oof: dict[str, OutOfFold] = {}
        blend: blending.Blend | None = None
        if params.estimator == "auto":
            scores, oof = cross_validate(frame, params, contract, seed, loss)
            ranked = [(s, n) for n, s in scores.items() if s is not None]
            if not ranked:
                raise ValueError(
                    "train: every candidate failed in cross-validation (see the warnings); "
                    "pin one with train.estimator"
                )
            winner = min(ranked)[1]
            if params.blend:
                classes = np.unique(frame[contract.target].to_numpy())
                rule = scoring_rule(contract, loss)
                blend = blending.choose(scores, oof, lambda y, p: _score(rule, y, p, classes))
        else:
            winner = params.estimator
            if contract.task == "classification" and params.threshold == "auto":
                _, oof = cross_validate(
                    frame, params.model_copy(update={"candidates": (winner,)}), contract, seed, loss
                )
        if blend is not None and blend.chosen:
            members = {
                name: _small_data(build_pipeline(params, contract, seed, name, loss), len(frame))
                for name in blend.members
            }
            pipeline = Pipeline([("model", blending.estimator(blend, members, contract.task))])
            first, second = (oof[name] for name in blend.members)
            mixed = blend.weights[0] * first.predictions + blend.weights[1] * second.predictions
            chosen_oof: tuple[np.ndarray, np.ndarray] | None = (first.y, mixed)
            winner = "blend"
        else:
            pipeline = _small_data(build_pipeline(params, contract, seed, winner, loss), len(frame))
            chosen = oof.get(winner)
            chosen_oof = (chosen.y, chosen.predictions) if chosen is not None else None
        threshold, how = _threshold(params, frame, contract, chosen_oof)
        if threshold is not None and threshold != 0.5:
            positive = np.unique(frame[contract.target].to_numpy())[-1]
            pipeline.steps[-1] = (
                "model",
                FixedThresholdClassifier(
                    pipeline.steps[-1][1],
                    threshold=threshold,
                    pos_label=positive,
                    response_method="predict_proba",
                ),
            )
        fitted = pipeline.fit(frame[contract.features], frame[contract.target])
    fitted.model_selection_ = {
        "winner": winner,
        "loss": loss,
        "scoring": scoring_rule(contract, loss),
        "cv": cv_name(frame, contract, params.cv_folds)
        if scores
        else "none (train.estimator pinned)",
        "cv_scores": scores,
        "blend": blend.record() if blend is not None else None,
        "threshold": threshold,
        "threshold_rule": how,
    }
    return fitted
