"""What the routes do, minus HTTP: input checks, cached resolution, batch splitting, write-behind bookkeeping."""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from api.common.errors import InvalidFeatures, InvalidInput, PayloadTooLarge
from api.common.storage import CacheKey, CallLog, CallLogEntry
from api.common.write_behind import WriteBehind
from api.model_serving.cache import LayeredPredictionCache, canonical_json
from api.model_serving.feature_reader import FeatureReader
from api.model_serving.metrics import PREDICT_LATENCY, PREDICT_ROWS
from api.model_serving.models import Features, Prediction, SpamModel

# Endpoint names are part of cache keys and call-log entries; batch items share their single form's keys.
from contract.routes import FEATURES_TO_PREDICTION

logger = logging.getLogger(__name__)
T = TypeVar("T")

Value = dict[str, Any]



@dataclass(slots=True)
class Outcome:
    key: CacheKey
    value: Value
    from_cache: bool


def check_text(text: str, *, max_length: int, field: str = "text") -> str:
    if not text.strip():
        raise InvalidInput(f"{field} must not be empty or whitespace-only")
    if len(text) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters ({len(text)})")
    return text  # lone surrogates never get here: api.common.unicode answers them with a 422


def check_batch(items: Sequence[Any], *, max_size: int, field: str) -> None:
    if not items:
        raise InvalidInput(f"{field} must not be empty")
    if len(items) > max_size:
        raise PayloadTooLarge(f"{field} holds {len(items)} items; the limit is {max_size}")


def cache_key(cache: LayeredPredictionCache, model: SpamModel, endpoint: str, input_json: str) -> CacheKey:
    return cache.key(
        version=model.version, endpoint=endpoint, model_sha256=model.artifact_sha256, input_json=input_json
    )


def timed_predictions(model: SpamModel, rows: Sequence[Features]) -> list[Prediction]:
    started = time.perf_counter()
    predictions = model.features_to_predictions(rows)
    PREDICT_LATENCY.labels(model.version, "batch" if len(rows) > 1 else "single").observe(time.perf_counter() - started)
    PREDICT_ROWS.labels(model.version).observe(len(rows))
    return predictions


def _resolve_blocking(
    cache: LayeredPredictionCache, key: CacheKey, skip_cache: bool, compute: Callable[[], Value]
) -> Outcome:
    if not skip_cache and (hit := cache.get_persisted(key)) is not None:
        return Outcome(key, hit, True)
    return Outcome(key, compute(), False)


async def resolve(
    cache: LayeredPredictionCache, key: CacheKey, skip_cache: bool, compute: Callable[[], Value]
) -> Outcome:
    """LRU hit on the loop; otherwise one thread hop for the persisted lookup and the compute."""
    if not skip_cache and (hit := cache.get_memory(key)) is not None:
        return Outcome(key, hit, True)
    return await run_in_threadpool(_resolve_blocking, cache, key, skip_cache, compute)


def resolve_many_blocking(
    cache: LayeredPredictionCache,
    keys: list[CacheKey],
    found: dict[int, Value],
    skip_cache: Sequence[bool],
    compute_many: Callable[[list[int]], list[Value]],
) -> list[Outcome]:
    """`found` holds LRU hits by index; look the rest up in storage unless skipped, compute what is left."""
    for i, key in enumerate(keys):
        if i not in found and not skip_cache[i] and (hit := cache.get_persisted(key)) is not None:
            found[i] = hit
    misses = [i for i in range(len(keys)) if i not in found]
    computed = dict(zip(misses, compute_many(misses), strict=True)) if misses else {}
    return [
        Outcome(key, found[i], True) if i in found else Outcome(key, computed[i], False) for i, key in enumerate(keys)
    ]


async def resolve_many(
    cache: LayeredPredictionCache,
    keys: list[CacheKey],
    skip_cache: bool,
    compute_many: Callable[[list[int]], list[Value]],
) -> list[Outcome]:
    """Split hits from misses; `compute_many(miss_indexes)` predicts all misses in one call."""
    found: dict[int, Value] = {}
    if not skip_cache:
        for i, key in enumerate(keys):
            if (hit := cache.get_memory(key)) is not None:
                found[i] = hit
        if len(found) == len(keys):
            return [Outcome(key, found[i], True) for i, key in enumerate(keys)]
    return await run_in_threadpool(resolve_many_blocking, cache, keys, found, [skip_cache] * len(keys), compute_many)


def validate_row(model: SpamModel, row: Sequence[Any], index: int) -> Features:
    """Validate one batch row; the error names the row (`features[3]: ...`)."""
    try:
        return model.validate_features(row)
    except InvalidFeatures as exc:
        raise InvalidFeatures(f"row {index}: {exc.detail}") from None


def _predict_sms_blocking(
    cache: LayeredPredictionCache, reader: FeatureReader, model: SpamModel, sms_ids: Sequence[str], skip: bool
) -> list[Outcome | None]:
    rows = reader.read(model.feature_view, model.feature_names, sms_ids)
    features = [None if row is None else model.features_from_online(row) for row in rows]
    present = [i for i, vector in enumerate(features) if vector is not None]
    keys = [cache_key(cache, model, FEATURES_TO_PREDICTION, canonical_json({"features": features[i]})) for i in present]
    found: dict[int, Value] = {}
    if not skip:
        found = {j: hit for j, k in enumerate(keys) if (hit := cache.get_memory(k)) is not None}
    outcomes = resolve_many_blocking(
        cache,
        keys,
        found,
        [skip] * len(keys),
        lambda misses: timed_predictions(model, [features[present[j]] for j in misses]),
    )
    result: list[Outcome | None] = [None] * len(sms_ids)
    for j, i in enumerate(present):
        result[i] = outcomes[j]
    return result


async def predict_sms(
    cache: LayeredPredictionCache, reader: FeatureReader, model: SpamModel, sms_ids: Sequence[str], skip: bool
) -> list[Outcome | None]:
    """Online read + cache + one predict for all ids, in one thread hop; None where an id has no features."""
    return await run_in_threadpool(_predict_sms_blocking, cache, reader, model, sms_ids, skip)


async def run_blocking(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(func, *args, **kwargs)


def call_entry(caller_id: str, model: SpamModel, endpoint: str, input_json: str) -> CallLogEntry:
    return CallLogEntry(caller_id=caller_id, version=model.version, endpoint=endpoint, input_json=input_json)


class CallRecorder:
    """Per-call bookkeeping: cache what was computed, log the call; and reading the log back.

    The LRU update is in memory and immediate; storage writes go to the write-behind thread, whose
    failures are logged and counted, never raised to a request.
    """

    def __init__(self, cache: LayeredPredictionCache, call_log: CallLog, writer: WriteBehind) -> None:
        self.cache = cache
        self.call_log = call_log
        self.writer = writer

    def record(self, outcomes: Sequence[Outcome], entry: CallLogEntry) -> None:
        """Called on the event loop before the response; it only queues work, so it never blocks."""
        for outcome in outcomes:
            if not outcome.from_cache:
                self.cache.remember(outcome.key, outcome.value)
                self.writer.submit("prediction_cache_put", self.cache.put_persisted, outcome.key, outcome.value)
        self.writer.submit("call_log_append", self.call_log.append, entry)

    def recent(self, caller_id: str, version: str, *, since: datetime, limit: int) -> list[CallLogEntry]:
        """Blocking: waits for queued writes first, so a caller sees its own calls."""
        self.writer.flush()
        return self.call_log.recent(caller_id, version, since=since, limit=limit)
