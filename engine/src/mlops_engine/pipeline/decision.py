"""The class a classifier decides from its probabilities, as its own ``predict`` would.

The service computes ``predict_proba`` once per batch and derives the class from it (a
second pass through the pipeline would pay its fixed per-call cost again: docs/performance.md,
"Why the service is shaped as it is"). The highest probability is
the class only at the default threshold: for an imbalanced binary target ``train`` wraps the
model in ``FixedThresholdClassifier`` with the threshold tuned out of fold, and evaluate's
accuracy and f1 are measured at that threshold. Taking the argmax there served a different
decision from the one evaluated (how often: docs/performance.md, "Model choices").
"""

from __future__ import annotations

from typing import Any

import numpy as np


def decided(model: Any, X: Any, proba: np.ndarray) -> np.ndarray:
    """``model.predict(X)``'s labels, from ``proba = model.predict_proba(X)`` when they can be.

    Mirrors scikit-learn 1.9's ``FixedThresholdClassifier.predict`` on probabilities
    (sklearn/model_selection/_classification_threshold.py ``predict``: response
    ``predict_proba``, or ``auto`` which tries it first; then sklearn/metrics/_scorer.py
    ``_threshold_scores_to_class_labels``: the positive class where its probability is
    ``>= threshold``, else the other). A threshold on a decision function: ``predict``.

    scikit-learn is imported here, not with the module: the service imports this module in
    `bentoml serve`'s own process too, which never predicts, and importing scikit-learn
    (with the SciPy it imports) there delayed the image's readiness (docs/performance.md,
    "Why the service is shaped as it is")."""
    from sklearn.model_selection import FixedThresholdClassifier

    classes = np.asarray(model.classes_)
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    if isinstance(last, FixedThresholdClassifier):
        if last.response_method not in ("auto", "predict_proba"):
            return np.asarray(model.predict(X))
        threshold = 0.5 if last.threshold == "auto" else float(last.threshold)
        positive = int(np.flatnonzero(classes == last.pos_label)[0])
        negative = 1 - positive
        chosen = np.where(proba[:, positive] >= threshold, positive, negative)
        return classes[chosen]
    return classes[np.argmax(proba, axis=1)]
