"""Stage ``train``: a seeded scikit-learn ``Pipeline`` (preprocessing + estimator).

Preprocessing lives inside the pipeline, so the service applies exactly what training
applied and there is no training/serving skew.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from mlops_template.config import TrainParams
from mlops_template.contract import Contract

_ESTIMATORS: dict[tuple[str, str], tuple[type, dict[str, Any]]] = {
    ("hist_gradient_boosting", "regression"): (
        HistGradientBoostingRegressor,
        {"early_stopping": False},
    ),
    ("hist_gradient_boosting", "classification"): (
        HistGradientBoostingClassifier,
        {"early_stopping": False},
    ),
    ("random_forest", "regression"): (RandomForestRegressor, {"n_jobs": 1}),
    ("random_forest", "classification"): (RandomForestClassifier, {"n_jobs": 1}),
    ("linear", "regression"): (Ridge, {}),
    ("linear", "classification"): (LogisticRegression, {"max_iter": 2000}),
}


def build_estimator(params: TrainParams, task: str, seed: int) -> Any:
    cls, defaults = _ESTIMATORS[(params.estimator, task)]
    kwargs = {**defaults, **params.hyperparams}
    if "random_state" in cls().get_params():
        kwargs.setdefault("random_state", seed)
    try:
        return cls(**kwargs)
    except TypeError as err:
        valid = sorted(cls().get_params())
        raise ValueError(
            f"train.hyperparams for {cls.__name__}: {err}; valid keys: {valid}"
        ) from None


def build_pipeline(params: TrainParams, contract: Contract, seed: int) -> Pipeline:
    numeric = [SimpleImputer(strategy="median")]
    if params.estimator == "linear":
        numeric.append(StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            max_categories=params.max_categories,
            sparse_output=False,
        ),
    )
    preprocess = ColumnTransformer(
        [
            ("numeric", make_pipeline(*numeric), contract.numeric_features),
            ("categorical", categorical, contract.categorical_features),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    return Pipeline(
        [("preprocess", preprocess), ("model", build_estimator(params, contract.task, seed))]
    )


def train(frame: pd.DataFrame, params: TrainParams, contract: Contract, seed: int) -> Pipeline:
    """Fit the pipeline on ``frame``; same data, params and seed give the same model bytes."""
    if frame.empty:
        raise ValueError("train: the training set is empty")
    if contract.task == "classification" and frame[contract.target].nunique() < 2:
        raise ValueError("train: classification needs at least two classes in the training set")
    pipeline = build_pipeline(params, contract, seed)
    with threadpool_limits(limits=params.n_threads, user_api="openmp"):
        return pipeline.fit(frame[contract.features], frame[contract.target])
