"""The reference stage's output is the same file on every CPU (``pipeline/reference.py``).

numpy's ``exp`` (the link of Poisson and logistic models) gives answers a few bits apart on
AVX-512 and AVX2 machines; a reference written with the raw answers had two hashes for one
model, and a fresh clone's ``dvc repro`` failed ``test_fresh_clone_reproduces_the_committed_lock``
on the machine that had not written ``dvc.lock``.
"""

from __future__ import annotations

import numpy as np

from mlops_engine.pipeline.reference import reference
from tests.frames import tiny_contract, tiny_frame


class Answers:
    """A fitted model's answers, moved by ``ulps`` units in the last place."""

    def __init__(self, values: np.ndarray, ulps: int) -> None:
        self.values, self.ulps = values, ulps

    def predict(self, features):
        out = self.values[: len(features)].copy()
        for _ in range(abs(self.ulps)):
            out = np.nextafter(out, np.inf if self.ulps > 0 else -np.inf)
        return out


def test_answers_a_few_bits_apart_give_the_same_reference():
    contract = tiny_contract()
    window = tiny_frame(rows=2000, seed=3)
    # Spread over twelve orders of magnitude, as exp(raw score) makes them.
    values = np.exp(np.random.default_rng(0).normal(0, 6, len(window)))
    stored = reference(window, Answers(values, 0), contract)
    for ulps in (-4, -1, 1, 4):
        other = reference(window, Answers(values, ulps), contract)
        assert other.equals(stored), f"{ulps} ulp apart"
    assert stored["prediction"].dtype == np.float64
    np.testing.assert_allclose(stored["prediction"], values, rtol=1e-7)


def test_class_labels_are_stored_as_they_are():
    contract = tiny_contract(task="classification")
    window = tiny_frame(rows=50, task="classification")

    class Labels:
        def predict(self, features):
            return np.where(features["x"] > 5, "yes", "no")

    stored = reference(window, Labels(), contract)
    assert list(stored["prediction"]) == list(np.where(window["x"] > 5, "yes", "no"))
