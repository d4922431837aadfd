"""PushBatcher: one push at a time; concurrent callers share the next push; failures reach every caller."""

import asyncio
from datetime import UTC, datetime

import pytest

from api.common.offline_append import FeatureRow
from api.inbox.push_batcher import PushBatcher


def _row(i: int) -> FeatureRow:
    return FeatureRow(f"sms-{i}", datetime(2020, 1, 1, tzinfo=UTC), [i] * 30)


class SlowPush:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.fail = fail

    async def __call__(self, rows: list[FeatureRow]) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.calls.append([row.sms_id for row in rows])
        self.in_flight -= 1
        if self.fail:
            raise RuntimeError("push failed")


async def test_concurrent_pushes_never_overlap_and_are_coalesced() -> None:
    push = SlowPush()
    batcher = PushBatcher(push)
    await asyncio.gather(*(batcher.push([_row(i)]) for i in range(50)))
    assert push.max_in_flight == 1
    assert sorted(sms_id for call in push.calls for sms_id in call) == sorted(f"sms-{i}" for i in range(50))
    assert len(push.calls) < 50


async def test_batches_respect_max_rows() -> None:
    push = SlowPush()
    batcher = PushBatcher(push, max_rows=4)
    await asyncio.gather(*(batcher.push([_row(i)]) for i in range(10)))
    assert max(len(call) for call in push.calls) <= 4


async def test_failure_is_raised_to_every_caller_in_the_batch() -> None:
    batcher = PushBatcher(SlowPush(fail=True))
    results = await asyncio.gather(*(batcher.push([_row(i)]) for i in range(3)), return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)


async def test_batcher_recovers_after_a_failure() -> None:
    push = SlowPush(fail=True)
    batcher = PushBatcher(push)
    with pytest.raises(RuntimeError):
        await batcher.push([_row(1)])
    push.fail = False
    await batcher.push([_row(2)])
    assert push.calls[-1] == ["sms-2"]
