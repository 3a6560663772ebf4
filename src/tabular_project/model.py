"""The model families ``train`` may choose from, beyond the engine's own.

The engine ships ``linear``, ``hist_gradient_boosting`` and ``random_forest`` for each loss
(``mlops_engine.pipeline.train.ESTIMATORS``); tune them with ``train.hyperparams`` in
params.yaml. Add a family here as ``(name, loss): (scikit-learn class, default arguments)``
for each loss it supports (``squared_error``, ``poisson``, ``classification``), then name it
as ``train.estimator`` or in ``train.candidates``. A ``random_state`` argument, if the class
has one, is set from params.yaml ``seed``. The ``train`` stage depends on this package
(dvc.yaml), so ``make run`` retrains when it changes.
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

ESTIMATORS: dict[tuple[str, str], tuple[type, dict[str, Any]]] = {
    # An example (not used unless params.yaml names it): randomised trees.
    ("extra_trees", "squared_error"): (ExtraTreesRegressor, {"n_jobs": 1, "min_samples_leaf": 2}),
    ("extra_trees", "poisson"): (
        ExtraTreesRegressor,
        {"n_jobs": 1, "min_samples_leaf": 2, "criterion": "poisson"},
    ),
    ("extra_trees", "classification"): (ExtraTreesClassifier, {"n_jobs": 1, "min_samples_leaf": 2}),
}
