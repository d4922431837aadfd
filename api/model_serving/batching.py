"""Dynamic batching: concurrent single-row predictions share one thread-pool hop, and those of the
same model share one predict call.

On 2 cores a one-row `predict_proba` costs ~0.4 ms and the thread-pool hop around it about as much
again; sixteen rows cost ~1 ms together (docs/benchmarks.md). So requests that arrive while a batch
is computing queue up and go as the next batch. Nothing waits for a batch to fill beyond one turn
of the event loop, so one-client latency is unchanged.
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
    model: SpamModel
    key: CacheKey
    skip_cache: bool
    row: Callable[[], Features]  # called in the worker thread, so feature extraction is batched too
    future: asyncio.Future[Outcome]


class PredictionBatcher:
    """One per process, for every model. `resolve` answers LRU hits inline; misses join the next batch."""

    def __init__(self, cache: LayeredPredictionCache, *, max_batch: int) -> None:
        self.cache = cache
        self.max_batch = max_batch
        self._pending: list[_Job] = []
        self._drainer: asyncio.Task[None] | None = None

    async def resolve(
        self, model: SpamModel, key: CacheKey, skip_cache: bool, row: Callable[[], Features]
    ) -> Outcome:
        if not skip_cache and (hit := self.cache.get_memory(key)) is not None:
            return Outcome(key, hit, True)
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(model, key, skip_cache, row, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                # One turn of the loop lets requests that have already arrived join this batch:
                # batches of 4.4 rows instead of 2.8 at 16 clients, +10% throughput, no 1-client cost.
                await asyncio.sleep(0)
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
        try:
            results = await run_in_threadpool(self._resolve_blocking, batch)
        except BaseException as exc:
            for job in batch:
                _settle(job.future, exc)
            if not isinstance(exc, Exception):
                raise
            return
        for job, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                _settle(job.future, result)
            elif not job.future.done():  # its request may have been cancelled meanwhile
                job.future.set_result(result)

    def _resolve_blocking(self, batch: list[_Job]) -> list[Outcome | Exception]:
        results: dict[int, Outcome | Exception] = {}
        by_model: dict[str, list[int]] = {}
        for i, job in enumerate(batch):
            by_model.setdefault(job.model.version, []).append(i)
        for indexes in by_model.values():
            results.update(zip(indexes, self._resolve_group([batch[i] for i in indexes]), strict=True))
        return [results[i] for i in range(len(batch))]

    def _resolve_group(self, jobs: list[_Job]) -> list[Outcome | Exception]:
        """One predict call for jobs of one model. If it raises, each job again alone: only the request
        whose row fails gets the error, not the others that happened to share its batch."""
        try:
            return list(
                resolve_many_blocking(
                    self.cache,
                    [job.key for job in jobs],
                    {},
                    [job.skip_cache for job in jobs],
                    lambda misses: timed_predictions(jobs[0].model, [jobs[i].row() for i in misses]),
                )
            )
        except Exception as exc:
            if len(jobs) == 1:
                return [exc]
            return [result for job in jobs for result in self._resolve_group([job])]


def _settle(future: asyncio.Future[Outcome], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
