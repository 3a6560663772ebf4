"""Stop BentoML's adaptive batcher from holding lone requests back after a burst.

BentoML's batcher (``CorkDispatcher``) dispatches whatever is queued when the model is free,
unless ``n * (its wait + tick + per-item cost) <= 0.95 * Optimizer.wait``: then it holds the
queue back to grow the batch. ``Optimizer.wait`` is the average wait of the first request of
the last 50 batches, recomputed at most every 5 s, and it counts time a request spent queued
behind the batch the model was still running, or behind the event loop answering the last
batch: waits the batcher did not choose. After a burst it has learned tens to hundreds of
milliseconds, and since each lone request then waits ~0.95 of it and is averaged back in, it
decays by ~1% per 5 s: a lone client after a heavy load waits many times longer than
before it (benchmarks/serving.py's "after" rows; the figures: docs/performance.md, "Why the
service is shaped as it is"). BentoML keeps the algorithm as is on purpose
(bentoml/BentoML#3664) and 1.4 has no setting for it. Learning only the time the batcher
chose to wait was tried too: after a load, the loop's own busy time between batches kept
the transient alive.

``install()`` makes the optimizer learn a wait of zero, so the batcher never holds requests
back on purpose: a batch is what queued while the model ran the previous one (greedy dynamic
batching; under load it still forms batches, larger the more clients: docs/performance.md,
"Why the service is shaped as it is"), and a lone request goes out at the next tick. Its
fitted per-batch costs, ``max_batch_size``, and the ``max_latency_ms`` shedding (503) are
BentoML's, unchanged. It is checked against the installed BentoML: where the optimizer
differs it logs and does nothing, and ``tests/service/test_batching.py`` fails, so an
upgrade cannot drop it silently.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

log = logging.getLogger(__name__)

_MARK = "_mlops_no_learned_wait"


def install() -> bool:
    """Patch ``Optimizer.log_outbound`` once per process; False if this BentoML differs."""
    from bentoml._internal.marshal import dispatcher

    optimizer = getattr(dispatcher, "Optimizer", None)
    original = getattr(optimizer, "log_outbound", None)
    if original is None or getattr(original, _MARK, False):
        return original is not None
    if list(inspect.signature(original).parameters) != ["self", "n", "wait", "duration"]:
        log.warning("BentoML's batching optimizer changed: learned-wait correction not applied")
        return False

    def log_outbound(self: Any, n: int, wait: float, duration: float) -> None:
        original(self, n, 0.0, duration)

    setattr(log_outbound, _MARK, True)
    log_outbound.__wrapped__ = original  # type: ignore[attr-defined]
    optimizer.log_outbound = log_outbound  # type: ignore[union-attr]
    return True
