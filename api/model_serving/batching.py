"""Dynamic batching: concurrent single-row predictions of one model share one predict call.

On 2 cores a one-row `predict_proba` costs ~0.4 ms and the thread-pool hop around it about as much
again; sixteen rows cost ~1 ms together (docs/benchmarks.md). So requests that arrive while a batch
is computing queue up and go as the next batch, in one hop. Nothing waits for a batch to fill: a
lone request is sent at once, so one-client latency is unchanged.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from api.common.storage import CacheKey
from api.model_serving.cache import LayeredPredictionCache
from api.model_serving.models import Features, SpamModel
from api.model_serving.service import Outcome, resolve_many_blocking, timed_predictions


@dataclass(slots=True)
class _Job:
    key: CacheKey
    skip_cache: bool
    row: Callable[[], Features]  # called in the worker thread, so feature extraction is batched too
    future: asyncio.Future[Outcome]


class PredictionBatcher:
    """One per model and process. `resolve` answers LRU hits inline; misses join the next batch."""

    def __init__(self, model: SpamModel, cache: LayeredPredictionCache, *, max_batch: int) -> None:
        self.model = model
        self.cache = cache
        self.max_batch = max_batch
        self._pending: list[_Job] = []
        self._drainer: asyncio.Task[None] | None = None

    async def resolve(self, key: CacheKey, skip_cache: bool, row: Callable[[], Features]) -> Outcome:
        if not skip_cache and (hit := self.cache.get_memory(key)) is not None:
            return Outcome(key, hit, True)
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(key, skip_cache, row, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._run(batch)
        except BaseException as exc:  # cancelled at shutdown: no queued request may wait forever
            for job in self._pending:
                _settle(job.future, exc)
            self._pending.clear()
            raise
        finally:
            self._drainer = None

    async def _run(self, batch: list[_Job]) -> None:
        """A failed predict fails this batch's requests only; the next batch still runs."""
        try:
            outcomes = await run_in_threadpool(self._resolve_blocking, batch)
        except BaseException as exc:
            for job in batch:
                _settle(job.future, exc)
            if not isinstance(exc, Exception):
                raise
            return
        for job, outcome in zip(batch, outcomes, strict=True):
            if not job.future.done():  # its request may have been cancelled meanwhile
                job.future.set_result(outcome)

    def _resolve_blocking(self, batch: list[_Job]) -> list[Outcome]:
        return resolve_many_blocking(
            self.cache,
            [job.key for job in batch],
            {},
            [job.skip_cache for job in batch],
            lambda misses: timed_predictions(self.model, [batch[i].row() for i in misses]),
        )


def _settle(future: asyncio.Future[Outcome], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
