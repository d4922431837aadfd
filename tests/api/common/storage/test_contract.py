"""The storage contract, written once against the Protocols and run on every backend."""

import time
import uuid
from datetime import UTC, datetime, timedelta

from api.common.ids import time_uuid
from api.common.storage import CacheKey, CallLog, CallLogEntry, PredictionCache, Stores

KEY = CacheKey(version="v1", endpoint="text_to_prediction", model_sha256="a" * 64, input_digest="b" * 64)
HOUR_AGO = timedelta(hours=1)


def _caller() -> str:
    # A fresh caller per test keeps tests independent on a shared (real) cluster.
    return f"caller-{uuid.uuid4().hex[:8]}"


def _entry(caller: str, at: datetime, *, version: str = "v1", endpoint: str = "text_to_prediction") -> CallLogEntry:
    return CallLogEntry(
        caller_id=caller, version=version, endpoint=endpoint, input_json='{"text":"hi"}', call_id=time_uuid(at)
    )


def test_stores_implement_protocols(store_backend: Stores) -> None:
    assert isinstance(store_backend.prediction_cache, PredictionCache)
    assert isinstance(store_backend.call_log, CallLog)
    store_backend.ping()


def test_cache_get_missing_returns_none(store_backend: Stores) -> None:
    assert store_backend.prediction_cache.get(KEY) is None


def test_cache_put_then_get_returns_value(store_backend: Stores) -> None:
    value = {"ham": 0.25, "spam": 0.75}
    store_backend.prediction_cache.put(KEY, value, ttl_seconds=60)
    assert store_backend.prediction_cache.get(KEY) == value


def test_cache_keys_differ_by_every_field(store_backend: Stores) -> None:
    store_backend.prediction_cache.put(KEY, {"n": 0}, ttl_seconds=60)
    for field in ("version", "endpoint", "model_sha256", "input_digest"):
        assert store_backend.prediction_cache.get(_replace(KEY, field)) is None, field


def _replace(key: CacheKey, field: str) -> CacheKey:
    values = {name: getattr(key, name) for name in ("version", "endpoint", "model_sha256", "input_digest")}
    values[field] = "other"
    return CacheKey(**values)


def test_cache_put_twice_is_idempotent_and_last_wins(store_backend: Stores) -> None:
    store_backend.prediction_cache.put(KEY, {"spam": 0.1}, ttl_seconds=60)
    store_backend.prediction_cache.put(KEY, {"spam": 0.1}, ttl_seconds=60)
    store_backend.prediction_cache.put(KEY, {"spam": 0.2}, ttl_seconds=60)
    assert store_backend.prediction_cache.get(KEY) == {"spam": 0.2}


def test_cache_entry_expires_after_ttl(store_backend: Stores) -> None:
    short = _replace(KEY, "input_digest")
    store_backend.prediction_cache.put(short, {"spam": 0.5}, ttl_seconds=1)
    store_backend.prediction_cache.put(KEY, {"spam": 0.5}, ttl_seconds=60)
    assert store_backend.prediction_cache.get(short) == {"spam": 0.5}
    time.sleep(2.1)  # Cassandra TTLs have one-second granularity
    assert store_backend.prediction_cache.get(short) is None
    assert store_backend.prediction_cache.get(KEY) == {"spam": 0.5}


def test_call_log_recent_is_newest_first(store_backend: Stores) -> None:
    caller, now = _caller(), datetime.now(UTC)
    entries = [_entry(caller, now - timedelta(minutes=m)) for m in (30, 1, 10, 20)]
    for entry in entries:
        store_backend.call_log.append(entry)
    recent = store_backend.call_log.recent(caller, "v1", since=now - HOUR_AGO, limit=10)
    assert [e.call_id for e in recent] == [entries[i].call_id for i in (1, 2, 3, 0)]
    assert recent[0] == entries[1]


def test_call_log_recent_respects_limit(store_backend: Stores) -> None:
    caller, now = _caller(), datetime.now(UTC)
    for minutes in range(5):
        store_backend.call_log.append(_entry(caller, now - timedelta(minutes=minutes)))
    recent = store_backend.call_log.recent(caller, "v1", since=now - HOUR_AGO, limit=3)
    assert len(recent) == 3
    assert recent[0].called_at > recent[1].called_at > recent[2].called_at


def test_call_log_recent_excludes_before_since(store_backend: Stores) -> None:
    caller, now = _caller(), datetime.now(UTC)
    old, fresh = _entry(caller, now - timedelta(hours=2)), _entry(caller, now - timedelta(minutes=5))
    store_backend.call_log.append(old)
    store_backend.call_log.append(fresh)
    assert store_backend.call_log.recent(caller, "v1", since=now - HOUR_AGO, limit=10) == [fresh]


def test_call_log_recent_filters_caller_and_version(store_backend: Stores) -> None:
    caller, other, now = _caller(), _caller(), datetime.now(UTC)
    mine = _entry(caller, now)
    store_backend.call_log.append(mine)
    store_backend.call_log.append(_entry(caller, now, version="v2"))
    store_backend.call_log.append(_entry(other, now))
    assert store_backend.call_log.recent(caller, "v1", since=now - HOUR_AGO, limit=10) == [mine]


def test_call_log_append_twice_is_idempotent(store_backend: Stores) -> None:
    caller, now = _caller(), datetime.now(UTC)
    entry = _entry(caller, now)
    store_backend.call_log.append(entry)
    store_backend.call_log.append(entry)
    assert store_backend.call_log.recent(caller, "v1", since=now - HOUR_AGO, limit=10) == [entry]


def test_call_log_entry_round_trips_fields(store_backend: Stores) -> None:
    caller = _caller()
    entry = CallLogEntry(caller_id=caller, version="v3", endpoint="sms_to_prediction", input_json='{"sms_id":"x"}')
    store_backend.call_log.append(entry)
    [back] = store_backend.call_log.recent(caller, "v3", since=datetime.now(UTC) - HOUR_AGO, limit=1)
    assert back == entry
    assert abs(back.called_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_writes_in_a_write_batch_are_all_stored(store_backend: Stores) -> None:
    caller = _caller()
    now = datetime.now(UTC)
    with store_backend.backend.write_batch():
        store_backend.prediction_cache.put(KEY, {"n": 1}, ttl_seconds=60)
        for i in range(3):
            store_backend.call_log.append(_entry(caller, now - timedelta(seconds=i)))
    assert store_backend.prediction_cache.get(KEY) == {"n": 1}
    assert len(store_backend.call_log.recent(caller, "v1", since=now - HOUR_AGO, limit=10)) == 3
