"""SQLite-only behaviour the contract cannot express: WAL, purge of expired rows, thread safety."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.common.storage import CacheKey, CallLogEntry
from api.common.storage.sqlite import SqliteCallLog, SqliteDatabase, SqlitePredictionCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_database_uses_wal(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "x.db")
    with db.locked() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_schema_creation_is_idempotent(tmp_path: Path) -> None:
    SqliteDatabase(tmp_path / "x.db").close()
    db = SqliteDatabase(tmp_path / "x.db")
    db.ping()
    db.close()


def test_expired_rows_are_purged_on_later_writes(tmp_path: Path) -> None:
    clock = FakeClock()
    db = SqliteDatabase(tmp_path / "x.db", clock=clock)
    cache = SqlitePredictionCache(db)
    cache.put(CacheKey("v1", "e", "h", "old"), {"x": 1}, ttl_seconds=5)
    clock.now += 3600
    cache.put(CacheKey("v1", "e", "h", "new"), {"x": 2}, ttl_seconds=5)
    with db.locked() as conn:
        assert [r[0] for r in conn.execute("SELECT input_digest FROM prediction_cache")] == ["new"]
    db.close()


def test_concurrent_threads_share_one_connection_safely(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "x.db")
    cache, log = SqlitePredictionCache(db), SqliteCallLog(db)

    def work(i: int) -> None:
        key = CacheKey("v1", "e", "h", str(i))
        cache.put(key, {"i": i}, ttl_seconds=60)
        assert cache.get(key) == {"i": i}
        log.append(CallLogEntry(caller_id="c", version="v1", endpoint="e", input_json=str(i)))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(400)))
    since = datetime.now(UTC) - timedelta(hours=1)
    assert len(log.recent("c", "v1", since=since, limit=1000)) == 400
    db.close()


def test_write_batch_is_one_transaction_rolled_back_on_error(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "x.db")
    cache = SqlitePredictionCache(db)
    with pytest.raises(RuntimeError), db.write_batch():
        cache.put(CacheKey("v1", "e", "h", "a"), {"x": 1}, ttl_seconds=60)
        raise RuntimeError("commit never reached")
    assert cache.get(CacheKey("v1", "e", "h", "a")) is None
    with db.write_batch():
        cache.put(CacheKey("v1", "e", "h", "b"), {"x": 2}, ttl_seconds=60)
    other = SqliteDatabase(tmp_path / "x.db")  # another connection sees only committed rows
    assert SqlitePredictionCache(other).get(CacheKey("v1", "e", "h", "b")) == {"x": 2}
    other.close()
    db.close()


def test_write_batch_keeps_other_threads_out_until_it_commits(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "x.db")
    cache = SqlitePredictionCache(db)
    entered, release = threading.Event(), threading.Event()

    def batch() -> None:
        with db.write_batch():
            cache.put(CacheKey("v1", "e", "h", "batch"), {"x": 1}, ttl_seconds=60)
            entered.set()
            release.wait(5)

    with ThreadPoolExecutor(2) as pool:
        pool.submit(batch)
        entered.wait(5)
        other = pool.submit(cache.put, CacheKey("v1", "e", "h", "other"), {"x": 2}, 60)
        assert not other.done()  # waits for the lock rather than joining the open transaction
        release.set()
        other.result(5)
    assert cache.get(CacheKey("v1", "e", "h", "other")) == {"x": 2}
    db.close()
