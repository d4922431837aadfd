"""MicroBatcher: concurrent items share a call, and lingering collects items that arrive meanwhile."""

import asyncio
import time
from collections.abc import Awaitable, Callable

from api.common.batching import MicroBatcher

LINGER = 0.2


async def later() -> None:
    """Let the loop run a few turns: without a linger the pending batch has started by then (it starts
    after one), with one it is still waiting. Counted in turns, not wall time: on a loaded CI machine a
    50 ms sleep once overran the 200 ms linger."""
    for _ in range(5):
        await asyncio.sleep(0)


def lingering_when_concurrent(recorder: "Recorder") -> MicroBatcher:
    return MicroBatcher(recorder.process, max_batch=100, max_in_flight=1, linger_seconds=LINGER,
                        linger_when_concurrent=True)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.started: list[float] = []

    async def process(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        self.started.append(time.monotonic())
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]


def test_concurrent_items_share_one_call_and_get_their_own_results() -> None:
    async def scenario() -> tuple[list[int], Recorder]:
        recorder = Recorder()
        batcher = MicroBatcher(recorder.process, max_batch=100, max_in_flight=1)
        results = await asyncio.gather(*(batcher.submit(i) for i in range(5)))
        await batcher.close()
        return list(results), recorder

    results, recorder = asyncio.run(scenario())
    assert results == [0, 10, 20, 30, 40] and recorder.batches == [[0, 1, 2, 3, 4]]


def test_linger_collects_items_that_arrive_later() -> None:
    async def scenario() -> Recorder:
        recorder = Recorder()
        batcher = MicroBatcher(recorder.process, max_batch=100, max_in_flight=1, linger_seconds=LINGER)
        first = asyncio.ensure_future(batcher.submit(1))
        await later()
        await asyncio.gather(first, batcher.submit(2))
        await batcher.close()
        return recorder

    assert asyncio.run(scenario()).batches == [[1, 2]]


def test_linger_when_concurrent_never_delays_a_lone_caller() -> None:
    async def scenario() -> list[float]:
        recorder = Recorder()
        batcher = lingering_when_concurrent(recorder)
        waits = []
        for i in range(3):
            sent = time.monotonic()
            await batcher.submit(i)
            waits.append(recorder.started[-1] - sent)
        await batcher.close()
        return waits

    assert max(asyncio.run(scenario())) < LINGER / 2


def test_linger_when_concurrent_waits_after_a_batch_of_several() -> None:
    async def scenario() -> Recorder:
        recorder = Recorder()
        batcher = lingering_when_concurrent(recorder)
        await asyncio.gather(batcher.submit(1), batcher.submit(2))  # concurrent callers
        late = asyncio.ensure_future(batcher.submit(3))
        await later()
        await asyncio.gather(late, batcher.submit(4))  # within the linger: one batch
        await batcher.close()
        return recorder

    assert asyncio.run(scenario()).batches == [[1, 2], [3, 4]]


def after_a_batch_of(batcher: MicroBatcher, size: int) -> asyncio.Future:
    return asyncio.gather(*(batcher.submit(i) for i in range(size)))


async def next_batch_after(size: int, callers: Callable[[MicroBatcher], Awaitable[object]]) -> tuple[float, Recorder]:
    """After a batch of `size`: how long from the start of `callers` (submitting 3 and 4) to the next batch."""
    recorder = Recorder()
    batcher = lingering_when_concurrent(recorder)
    await after_a_batch_of(batcher, size)
    sent = time.monotonic()
    await callers(batcher)
    await batcher.close()
    return recorder.started[-1] - sent, recorder


def test_linger_when_concurrent_ends_once_the_last_batchs_callers_are_back() -> None:
    async def one_then_the_other(batcher: MicroBatcher) -> None:
        first = asyncio.ensure_future(batcher.submit(3))
        await later()
        await asyncio.gather(first, batcher.submit(4))  # both back: the batch need not sit out the linger

    waited, recorder = asyncio.run(next_batch_after(2, one_then_the_other))
    assert recorder.batches == [[0, 1], [3, 4]] and waited < LINGER / 2


def test_linger_when_concurrent_waits_it_out_while_callers_are_missing() -> None:
    async def two_of_three(batcher: MicroBatcher) -> None:
        await asyncio.gather(batcher.submit(3), batcher.submit(4))  # one of the three never comes back

    waited, recorder = asyncio.run(next_batch_after(3, two_of_three))
    assert recorder.batches == [[0, 1, 2], [3, 4]] and waited >= LINGER * 0.9
