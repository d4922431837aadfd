"""SQLite implementation of the storage Protocols (the embedded default backend).

One connection per process, shared by threads behind a lock: every statement here is a
point read or a single-row write (tens of microseconds), so a lock costs less than a
connection per thread and keeps `close()` simple. WAL lets other processes read meanwhile.
"""

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from api.common.ids import datetime_ticks, uuid_ticks
from api.common.settings import BaseServiceSettings
from api.common.storage import CacheKey, CallLogEntry, RateCount, Stores
from contract.sqlite import use_wal

CALL_LOG_RETENTION_SECONDS = 3600  # DESIGN §6: call_log rows live one hour
PURGE_INTERVAL_SECONDS = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS prediction_cache (
    version TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    input_digest TEXT NOT NULL,
    value_json TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (version, endpoint, model_sha256, input_digest)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS prediction_cache_expiry ON prediction_cache (expires_at);
CREATE TABLE IF NOT EXISTS call_log (
    caller_id TEXT NOT NULL,
    version TEXT NOT NULL,
    called_at_ticks INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    input_json TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (caller_id, version, called_at_ticks, call_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS call_log_expiry ON call_log (expires_at);
CREATE TABLE IF NOT EXISTS rate_counts (
    caller_id TEXT NOT NULL,
    version TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    worker TEXT NOT NULL,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (caller_id, version, bucket, worker)
) WITHOUT ROWID;
"""


class SqliteDatabase:
    """The process-wide connection; implements the `Backend` Protocol."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._lock = threading.RLock()  # re-entered by the writes inside write_batch
        # Autocommit (isolation_level=None): each write is its own short transaction.
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
        use_wal(self._conn)
        # NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the tail.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)
        self._next_purge = 0.0

    @contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def ping(self) -> None:
        with self.locked() as conn:
            conn.execute("SELECT 1").fetchone()

    @contextmanager
    def write_batch(self) -> Iterator[None]:
        """One transaction for many writes: a commit costs more than a small insert. The lock is held
        throughout, so no other thread's statement joins (and later depends on) this transaction."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield
                if self._conn.in_transaction:  # SQLite may have rolled back on a failed write already
                    self._conn.execute("COMMIT")
            finally:
                if self._conn.in_transaction:  # the body or the commit raised
                    self._conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def purge_expired_if_due(self) -> None:
        """Called from writes: expired rows are invisible on read, this only reclaims space."""
        now = self.clock()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_INTERVAL_SECONDS
        with self.locked() as conn:
            conn.execute("DELETE FROM prediction_cache WHERE expires_at <= ?", (now,))
            conn.execute("DELETE FROM call_log WHERE expires_at <= ?", (now,))
            conn.execute("DELETE FROM rate_counts WHERE expires_at <= ?", (now,))


class SqlitePredictionCache:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def get(self, key: CacheKey) -> dict[str, Any] | None:
        with self.db.locked() as conn:
            row = conn.execute(
                "SELECT value_json, expires_at FROM prediction_cache"
                " WHERE version = ? AND endpoint = ? AND model_sha256 = ? AND input_digest = ?",
                (key.version, key.endpoint, key.model_sha256, key.input_digest),
            ).fetchone()
        if row is None or row[1] <= self.db.clock():
            return None
        return json.loads(row[0])

    def put(self, key: CacheKey, value: dict[str, Any], ttl_seconds: int) -> None:
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be >= 1")
        with self.db.locked() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO prediction_cache VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key.version,
                    key.endpoint,
                    key.model_sha256,
                    key.input_digest,
                    json.dumps(value, separators=(",", ":")),
                    self.db.clock() + ttl_seconds,
                ),
            )
        self.db.purge_expired_if_due()


class SqliteCallLog:
    def __init__(self, db: SqliteDatabase, *, retention_seconds: int = CALL_LOG_RETENTION_SECONDS) -> None:
        self.db = db
        self.retention_seconds = retention_seconds

    def append(self, entry: CallLogEntry) -> None:
        with self.db.locked() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO call_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.caller_id,
                    entry.version,
                    uuid_ticks(entry.call_id),
                    str(entry.call_id),
                    entry.endpoint,
                    entry.input_json,
                    self.db.clock() + self.retention_seconds,
                ),
            )
        self.db.purge_expired_if_due()

    def recent(self, caller_id: str, version: str, *, since: datetime, limit: int) -> list[CallLogEntry]:
        with self.db.locked() as conn:
            rows = conn.execute(
                "SELECT call_id, endpoint, input_json FROM call_log"
                " WHERE caller_id = ? AND version = ? AND called_at_ticks >= ? AND expires_at > ?"
                " ORDER BY called_at_ticks DESC, call_id DESC LIMIT ?",
                (caller_id, version, datetime_ticks(since), self.db.clock(), max(limit, 0)),
            ).fetchall()
        return [
            CallLogEntry(caller_id=caller_id, version=version, endpoint=ep, input_json=body, call_id=UUID(cid))
            for cid, ep, body in rows
        ]


class SqliteRateCounts:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def put(self, caller_id: str, version: str, worker: str, counts: dict[int, int], *, ttl_seconds: int) -> None:
        expires = self.db.clock() + ttl_seconds
        rows = [(caller_id, version, bucket, worker, count, expires) for bucket, count in counts.items()]
        with self.db.locked() as conn:
            conn.executemany("INSERT OR REPLACE INTO rate_counts VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.db.purge_expired_if_due()

    def read(self, caller_id: str, version: str, *, since_bucket: int) -> list[RateCount]:
        with self.db.locked() as conn:
            rows = conn.execute(
                "SELECT bucket, worker, count FROM rate_counts"
                " WHERE caller_id = ? AND version = ? AND bucket >= ? AND expires_at > ?",
                (caller_id, version, since_bucket, self.db.clock()),
            ).fetchall()
        return [RateCount(*row) for row in rows]


def make_sqlite_stores(settings: BaseServiceSettings) -> Stores:
    from api.common.storage.sqlite_sms import SqliteSmsStore  # it builds on SqliteDatabase above

    db = SqliteDatabase(settings.sqlite_path)
    return Stores(
        prediction_cache=SqlitePredictionCache(db), call_log=SqliteCallLog(db), backend=db, sms=SqliteSmsStore(db),
        rate_counts=SqliteRateCounts(db),
    )
