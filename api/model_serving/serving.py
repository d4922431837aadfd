"""The prediction path: one object owns the order memory cache → persisted cache → batched compute.
(The persisted cache holds predictions; text_to_features results stay in the memory cache, see `_persisted`.)

Every route calls `Serving.resolve`. On the event loop it answers what the in-process caches hold
(a result in the prediction LRU, an online row in the feature cache) without a thread hop. The rest
joins the next batch, and one thread-pool hop per batch reads the online rows it still needs, looks
the results up in the persisted cache and computes what is left in one predict call per model.

On 2 cores a one-row `predict_proba` costs ~0.4 ms and the thread-pool hop around it about as much
again; sixteen rows cost ~1 ms together (docs/benchmarks.md). So requests that arrive while a batch
is computing queue up and go as the next batch. Nothing waits for a batch to fill beyond one turn
of the event loop, so one-client latency is unchanged.
"""

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cachetools import TTLCache
from starlette.concurrency import run_in_threadpool

from api.common.errors import DomainError
from api.common.metrics import CACHE_LOOKUPS
from api.common.storage import CacheKey, PredictionCache
from api.common.write_behind import WriteBehind
from api.model_serving.feature_reader import FeatureReader, OnlineRow
from api.model_serving.metrics import FEATURE_AGE, PREDICT_LATENCY, PREDICT_ROWS
from api.model_serving.models import Features, Prediction, SpamModel
from api.model_serving.settings import ModelServingSettings
from contract.routes import FEATURES_TO_PREDICTION, TEXT_TO_FEATURES

logger = logging.getLogger(__name__)
Value = dict[str, Any]

# Endpoint names (contract.routes) are part of cache keys and call-log entries. Batch items share their
# single form's keys, and sms_to_prediction shares features_to_prediction's: it is keyed on the features it read.

_STORE_HIT = CACHE_LOOKUPS.labels("prediction", "store", "hit")
_STORE_MISS = CACHE_LOOKUPS.labels("prediction", "store", "miss")
_STORE_ERROR = CACHE_LOOKUPS.labels("prediction", "store", "error")


def canonical_json(payload: Any) -> str:
    """Key order, spacing and escaping fixed, so equal inputs give equal digests."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def cache_key(model: SpamModel, endpoint: str, input_json: str) -> CacheKey:
    digest = hashlib.sha256(input_json.encode()).hexdigest()
    return CacheKey(version=model.version, endpoint=endpoint, model_sha256=model.artifact_sha256, input_digest=digest)


class StaleFeatures(DomainError):
    """The online row is older than the version's MAX_FEATURE_AGE_SECONDS."""

    status_code = 409

    def __init__(self, *, sms_id: str, age: float, limit: float) -> None:
        super().__init__(f"features of sms_id {sms_id!r} are {age:.0f} s old; the limit is {limit:g} s")
        self.detail = {"msg": self.args[0], "sms_id": sms_id, "features_age_seconds": age,
                       "max_feature_age_seconds": limit}  # type: ignore[assignment]  # JSON, not a sentence


class LockedTTLCache:
    """A `cachetools.TTLCache` shared by the event loop and pool threads; maxsize or ttl 0 turns it off."""

    def __init__(self, name: str, *, maxsize: int, ttl: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._cache: TTLCache[Any, Any] | None = (
            TTLCache(maxsize=maxsize, ttl=ttl, timer=timer) if maxsize > 0 and ttl > 0 else None
        )
        self._lock = threading.Lock()
        self._hit = CACHE_LOOKUPS.labels(name, "memory", "hit")
        self._miss = CACHE_LOOKUPS.labels(name, "memory", "miss")

    def get(self, key: Any) -> Any | None:
        """Non-blocking: safe on the event loop."""
        if self._cache is None:
            return None
        with self._lock:
            value = self._cache.get(key)
        (self._miss if value is None else self._hit).inc()
        return value

    def put(self, key: Any, value: Any) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache[key] = value


@dataclass(frozen=True, slots=True)
class Query:
    """One text or feature vector: its canonical JSON (hashed into the cache key) and its features."""

    input_json: str
    row: Callable[[], Features]  # called in a pool thread, so feature extraction is batched too


@dataclass(frozen=True, slots=True)
class SmsQuery:
    """One id whose features are read online; the result is keyed on those features, not on the id."""

    sms_id: str


@dataclass(slots=True)
class Outcome:
    key: CacheKey
    value: Value
    from_cache: bool
    features_at: datetime | None = None  # the online row's event time (sms_to_prediction)
    features_age_seconds: float | None = None


@dataclass(slots=True)
class _Item:
    """One query on its way through the path; `query` is None until an sms's features are read."""

    query: Query | None
    sms_id: str | None = None
    key: CacheKey | None = None
    features_at: datetime | None = None
    outcome: Outcome | None = None
    found: bool = True


@dataclass(slots=True)
class _Job:
    """One request's items that the in-process caches did not answer."""

    model: SpamModel
    endpoint: str
    items: list[_Item]
    skip_cache: bool
    future: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def timed_predictions(model: SpamModel, rows: Sequence[Features]) -> list[Prediction]:
    started = time.perf_counter()
    predictions = model.features_to_predictions(rows)
    PREDICT_LATENCY.labels(model.version, "batch" if len(rows) > 1 else "single").observe(time.perf_counter() - started)
    PREDICT_ROWS.labels(model.version).observe(len(rows))
    return predictions


class Serving:
    """One per process, for every model, built in the lifespan; the routes' only way to a result."""

    def __init__(
        self,
        settings: ModelServingSettings,
        models: Sequence[SpamModel],
        *,
        persisted: PredictionCache,
        reader: FeatureReader,
        writer: WriteBehind,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.models = {model.version: model for model in models}
        self.persisted = persisted
        self.reader = reader
        self.writer = writer
        self.memory = LockedTTLCache(
            "prediction", maxsize=settings.memory_cache_size, ttl=settings.cache_ttl_seconds, timer=clock
        )
        self.features = LockedTTLCache(
            "features", maxsize=settings.feature_cache_maxsize, ttl=settings.feature_cache_ttl_seconds, timer=clock
        )
        self.max_feature_age = settings.max_feature_age_by_version(list(self.models))
        self._pending: list[_Job] = []
        self._drainer: asyncio.Task[None] | None = None

    async def resolve(
        self, model: SpamModel, endpoint: str, queries: Sequence[Query | SmsQuery], *, skip_cache: bool = False
    ) -> list[Outcome | None]:
        """One outcome per query, in order; None for an id with no features online. Raises StaleFeatures
        when an online row is older than the version allows."""
        items = [self._item(model, endpoint, query) for query in queries]
        if not skip_cache:
            for item in items:
                if item.key is not None and (hit := self.memory.get(item.key)) is not None:
                    item.outcome = Outcome(item.key, hit, True, item.features_at)
        pending = [item for item in items if item.outcome is None]
        if pending:
            job = _Job(model, endpoint, pending, skip_cache)
            self._enqueue(job)
            await job.future
            computed = [item.outcome for item in pending if item.outcome and not item.outcome.from_cache]
            self._keep(computed, persist=_persisted(endpoint))
        outcomes = [item.outcome if item.found else None for item in items]
        self._check_freshness(model, items)
        return outcomes

    def _item(self, model: SpamModel, endpoint: str, query: Query | SmsQuery) -> _Item:
        if isinstance(query, Query):
            return _Item(query, key=cache_key(model, endpoint, query.input_json))
        item = _Item(None, sms_id=query.sms_id)
        row: OnlineRow | None = self.features.get((model.feature_view, query.sms_id))
        if row is not None:
            self._set_features(model, item, row)
        return item

    def _set_features(self, model: SpamModel, item: _Item, row: OnlineRow) -> None:
        vector = model.features_from_online(row.values)
        item.query = Query(canonical_json({"features": vector}), lambda: vector)
        item.key = cache_key(model, FEATURES_TO_PREDICTION, item.query.input_json)
        item.features_at = row.event_time

    def _keep(self, computed: list[Outcome], *, persist: bool) -> None:
        """The LRU at once (on the loop); the persisted cache on the write-behind thread."""
        for outcome in computed:
            self.memory.put(outcome.key, outcome.value)
            if persist:
                self.writer.submit("prediction_cache_put", self._put_persisted, outcome.key, outcome.value)

    def _put_persisted(self, key: CacheKey, value: Value) -> None:
        self.persisted.put(key, value, self.settings.cache_ttl_seconds)

    def _check_freshness(self, model: SpamModel, items: list[_Item]) -> None:
        limit = self.max_feature_age.get(model.version)
        now = datetime.now(UTC)
        for item in items:
            if item.outcome is None or item.features_at is None or not item.found:
                continue
            age = max(0.0, (now - item.features_at).total_seconds())
            item.outcome.features_age_seconds = age
            FEATURE_AGE.labels(model.version).observe(age)
            if limit is not None and age > limit:
                raise StaleFeatures(sms_id=item.sms_id or "", age=age, limit=limit)

    # --- the batch: everything below runs one batch at a time ------------------------------------

    def _enqueue(self, job: _Job) -> None:
        self._pending.append(job)
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._pending:
                # One turn of the loop lets requests that have already arrived join this batch:
                # batches of 4.4 rows instead of 2.8 at 16 clients, +10% throughput, no 1-client cost.
                await asyncio.sleep(0)
                batch = self._take()
                await self._run(batch)
        except BaseException as exc:  # cancelled at shutdown: no queued request may wait forever
            for job in self._pending:
                _settle(job.future, exc)
            self._pending.clear()
            raise
        finally:
            self._drainer = None

    def _take(self) -> list[_Job]:
        """Whole jobs, up to `predict_batch_max` items (at least one job, however large)."""
        batch, rows = [], 0
        while self._pending and (not batch or rows + len(self._pending[0].items) <= self.settings.predict_batch_max):
            job = self._pending.pop(0)
            batch.append(job)
            rows += len(job.items)
        return batch

    async def _run(self, batch: list[_Job]) -> None:
        try:
            errors = await run_in_threadpool(self._run_blocking, batch)
        except BaseException as exc:
            for job in batch:
                _settle(job.future, exc)
            if not isinstance(exc, Exception):
                raise
            return
        for job, error in zip(batch, errors, strict=True):
            if error is not None:
                _settle(job.future, error)
            elif not job.future.done():  # its request may have been cancelled meanwhile
                job.future.set_result(None)

    def _run_blocking(self, batch: list[_Job]) -> list[Exception | None]:
        groups: dict[tuple[str, bool], list[int]] = {}
        for i, job in enumerate(batch):
            groups.setdefault((job.model.version, job.endpoint == TEXT_TO_FEATURES), []).append(i)
        errors: dict[int, Exception | None] = {}
        for indexes in groups.values():
            errors.update(zip(indexes, self._resolve_group([batch[i] for i in indexes]), strict=True))
        return [errors[i] for i in range(len(batch))]

    def _resolve_group(self, jobs: list[_Job]) -> list[Exception | None]:
        """One online read and one compute for jobs of one model and kind. If it raises, each job again
        alone: only the request whose input fails gets the error, not those that shared its batch."""
        try:
            self._read_features(jobs[0].model, [item for job in jobs for item in job.items if item.query is None])
            for job in jobs:
                if not job.skip_cache and _persisted(job.endpoint):
                    for item in job.items:
                        if item.found and item.outcome is None:
                            item.outcome = self._get_persisted(item)
            self._compute(jobs[0], [item for job in jobs for item in job.items if item.found and item.outcome is None])
            return [None] * len(jobs)
        except Exception as exc:
            if len(jobs) == 1:
                return [exc]
            return [error for job in jobs for error in self._resolve_group([job])]

    def _read_features(self, model: SpamModel, items: list[_Item]) -> None:
        if not items:
            return
        rows = self.reader.read(model.feature_view, model.feature_names, [item.sms_id or "" for item in items])
        for item, row in zip(items, rows, strict=True):
            if row is None:
                item.found = False  # not cached: a push may add it any moment
                continue
            self.features.put((model.feature_view, item.sms_id), row)
            self._set_features(model, item, row)

    def _get_persisted(self, item: _Item) -> Outcome | None:
        """A failing store is a miss, not a failed request: the cache is an optimisation."""
        assert item.key is not None
        try:
            value = self.persisted.get(item.key)
        except Exception:
            _STORE_ERROR.inc()
            logger.exception("prediction cache read failed; treating it as a miss")
            return None
        if value is None:
            _STORE_MISS.inc()
            return None
        _STORE_HIT.inc()
        self.memory.put(item.key, value)
        return Outcome(item.key, value, True, item.features_at)

    def _compute(self, job: _Job, items: list[_Item]) -> None:
        if not items:
            return
        rows = [item.query.row() for item in items]  # type: ignore[union-attr]  # read above
        if job.endpoint == TEXT_TO_FEATURES:
            values: list[Value] = [{"features": row} for row in rows]
        else:
            values = list(timed_predictions(job.model, rows))
        for item, value in zip(items, values, strict=True):
            item.outcome = Outcome(item.key, value, False, item.features_at)  # type: ignore[arg-type]


def _persisted(endpoint: str) -> bool:
    """Whether results go to the persisted cache: predictions only. A text's features cost ~20 us to compute,
    less than a SQLite read and a write-behind put to keep them; for the inbox's features calls, every text
    new, that layer was ~20 % of the call's CPU for nothing (docs/benchmarks.md). Features stay in the LRU."""
    return endpoint != TEXT_TO_FEATURES


def _settle(future: asyncio.Future[None], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
