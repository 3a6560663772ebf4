"""The learned-wait correction of BentoML's batcher, on BentoML's own dispatcher."""

from __future__ import annotations

import asyncio
import random
import time

from bentoml._internal.marshal import dispatcher

from mlops_engine.serving import batching


def _learned_wait_after_a_burst() -> tuple[float, float, float]:
    """32 clients against a 20 ms batch, arriving spread out as HTTP parsing spreads them
    in a server, then one client alone.

    Returns the wait the optimizer learned from the burst, the median latency of the lone
    client's requests after it, and the same client's median before the burst (this
    machine's latency with nothing learned: the scheduler under load adds to both)."""
    cork = dispatcher.CorkDispatcher(
        max_latency_in_ms=10_000,
        max_batch_size=64,
        fallback=lambda: None,
        get_batch_size=lambda _: 1,
    )

    async def model(batch):
        await asyncio.sleep(0.02)
        return list(batch)

    call = cork(model)

    async def client(rounds: int, seed: int | None = None) -> list[float]:
        think = random.Random(seed)
        took = []
        for i in range(rounds):
            if seed is not None:
                await asyncio.sleep(think.uniform(0, 0.02))
            start = time.perf_counter()
            assert await call(i) == i
            took.append(time.perf_counter() - start)
        return took

    async def scenario() -> tuple[float, float, float]:
        first = sorted(await client(9))  # before any burst: nothing learned (wait 0)
        await asyncio.gather(*(client(15, seed) for seed in range(32)))
        cork.optimizer.trigger_refresh()
        learned = cork.optimizer.wait
        alone = sorted(await client(9))
        cork.shutdown()
        return learned, alone[len(alone) // 2], first[len(first) // 2]

    return asyncio.run(scenario())


def test_the_installed_bentoml_takes_the_correction():
    assert batching.install() is True
    assert batching.install() is True, "installing twice is a no-op"


def test_bentoml_alone_makes_lone_requests_wait_after_a_burst(monkeypatch):
    """What the correction is for; if this starts failing, BentoML changed its batcher and
    ``mlops_engine.serving.batching`` may no longer be needed."""
    batching.install()
    original = dispatcher.Optimizer.log_outbound.__wrapped__
    monkeypatch.setattr(dispatcher.Optimizer, "log_outbound", original)
    learned, lone, _ = _learned_wait_after_a_burst()
    assert learned > 0.005
    assert lone > 0.02 + 0.5 * learned


def test_with_the_correction_lone_requests_go_out_at_once_after_a_burst():
    batching.install()
    learned, lone, before = _learned_wait_after_a_burst()
    assert learned == 0.0
    assert lone < max(before, 0.02) + 0.015, (
        f"a lone request took {lone * 1e3:.1f} ms for a 20 ms batch "
        f"({before * 1e3:.1f} ms before the burst)"
    )
