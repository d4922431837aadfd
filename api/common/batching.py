"""Micro-batching for async callers: concurrent `submit` calls share one `process` call.

Nothing waits for a batch to fill. A batch starts as soon as a slot is free, after one turn of the
event loop so requests that have already arrived join it; while `max_in_flight` batches are running,
new items queue and go together in the next one. Under load batches grow by themselves; for one
client every item is its own batch, so its latency is one `process` call.

A batch may also `linger`: start that long after a slot is free, so that one fixed cost per call is
shared by every item that arrives meanwhile. Work off the answer's path lingers always. Work on it
lingers with `linger_when_concurrent` only after a batch of several items: its callers, just
answered, are likely to send again within moments, and the wait lets them share one batch instead of
splitting into two that alternate. That wait ends as soon as as many items are queued as the last
batch held, so callers that are back at once never sit out the rest of it (on the inbox at 16 clients,
about 10 % more messages/s than waiting the whole linger; docs/benchmarks.md). A lone caller's batches
hold one item each, so it never waits.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# `process` answers each item in order: a result, or the exception for that item alone.
Process = Callable[[list[T]], Awaitable[Sequence[R | Exception]]]


@dataclass(slots=True)
class _Job(Generic[T, R]):
    item: T
    future: asyncio.Future[R]


class MicroBatcher(Generic[T, R]):
    """One per process and purpose, created in a lifespan (it needs the running loop)."""

    def __init__(self, process: Process[T, R], *, max_batch: int, max_in_flight: int = 2,
                 linger_seconds: float = 0.0, linger_when_concurrent: bool = False) -> None:
        self._process = process
        self.max_batch = max_batch
        self.linger_seconds = linger_seconds
        self.linger_when_concurrent = linger_when_concurrent
        self._last_batch_size = 0
        self._slots = asyncio.Semaphore(max_in_flight)
        self._queue: list[_Job[T, R]] = []
        self._dispatcher: asyncio.Task[None] | None = None
        self._callers_back: asyncio.Event | None = None  # while lingering: set once the last batch's size is queued
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, item: T) -> R:
        return await self._enqueue(item)

    def submit_nowait(self, item: T) -> None:
        """Fire and forget: the result is dropped (`process` logs its own failures)."""
        self._enqueue(item).add_done_callback(lambda f: f.cancelled() or f.exception())

    def _enqueue(self, item: T) -> asyncio.Future[R]:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append(_Job(item, future))
        if self._callers_back is not None and len(self._queue) >= self._last_batch_size:
            self._callers_back.set()
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch(), name="micro-batcher")
        return future

    async def _dispatch(self) -> None:
        try:
            while self._queue:
                await self._slots.acquire()
                await self._linger()  # at least one loop turn: items already received join
                batch = self._queue[: self.max_batch]
                self._last_batch_size = len(batch)
                del self._queue[: self.max_batch]
                task = asyncio.create_task(self._run(batch))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
        finally:
            self._dispatcher = None

    async def _linger(self) -> None:
        if not self.linger_when_concurrent:
            await asyncio.sleep(self.linger_seconds)
        elif self._last_batch_size <= 1 or len(self._queue) >= self._last_batch_size:
            await asyncio.sleep(0)
        else:
            self._callers_back = asyncio.Event()
            try:
                await asyncio.wait_for(self._callers_back.wait(), self.linger_seconds)
            except TimeoutError:
                pass
            finally:
                self._callers_back = None

    async def _run(self, batch: list[_Job[T, R]]) -> None:
        try:
            results = await self._process([job.item for job in batch])
        except Exception as exc:
            results = [exc] * len(batch)
        except BaseException:  # cancelled at shutdown: no caller may wait forever
            for job in batch:
                job.future.cancel()
            raise
        finally:
            self._slots.release()
        for job, result in zip(batch, results, strict=True):
            if job.future.done():  # its caller went away (client disconnect)
                continue
            if isinstance(result, Exception):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    async def close(self) -> None:
        """Wait for running batches; fail what is still queued (shutdown)."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        for job in self._queue:
            if not job.future.done():
                job.future.set_exception(RuntimeError("shutting down"))
        self._queue.clear()
