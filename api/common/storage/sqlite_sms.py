"""SQLite `SmsStore`: the inbox, its pending pushes and idempotency keys, on the process's `SqliteDatabase`."""

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from api.common.ids import datetime_ticks, uuid_ticks
from api.common.storage import (
    AddStatus,
    PendingPush,
    SmsBatchItem,
    SmsBatchResult,
    StoredSms,
    same_content,
)
from api.common.storage.exactly_once import KeyRecord, add_item
from api.common.storage.sqlite import PURGE_INTERVAL_SECONDS, SqliteDatabase

# The inbox tables, created by their store. Messages are keyed like Cassandra's `smss_by_users`: the user,
# then the time inside the timeuuid (so "newest first" and "older than the cursor" use the primary key).
# Pending pushes are keyed by that time too, so "oldest first" is the primary key's order.
SMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS smss_by_users (
    user_id TEXT NOT NULL,
    sms_ticks INTEGER NOT NULL,
    sms_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sms_text TEXT NOT NULL,
    PRIMARY KEY (user_id, sms_ticks, sms_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending_pushes (
    sms_ticks INTEGER NOT NULL,
    sms_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    sms_text TEXT NOT NULL,
    features_json TEXT,
    PRIMARY KEY (sms_ticks, sms_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency_keys (
    idempotency_key TEXT PRIMARY KEY,
    sms_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON idempotency_keys (expires_at);
"""
_SMS_COLUMNS = "sms_id, sender_id, sms_text"


class SqliteSmsStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        self._next_purge = 0.0
        with db.locked() as conn:
            conn.executescript(SMS_SCHEMA)

    def add(self, user_id: str, sms: StoredSms) -> AddStatus:
        with self.db.locked() as conn:
            inserted = conn.execute(
                "INSERT INTO smss_by_users VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (user_id, uuid_ticks(sms.sms_id), str(sms.sms_id), sms.sender_id, sms.sms_text),
            ).rowcount
        if inserted:
            return "created"
        # Rows are never rewritten, so the one found now is the one that won.
        existing = self.get(user_id, sms.sms_id)
        return "exists" if existing is not None and same_content(existing, sms) else "conflict"

    def add_batch(self, items: Sequence[SmsBatchItem], *, key_ttl_seconds: int) -> list[SmsBatchResult]:
        with self.db.locked() as conn:
            # IMMEDIATE takes the write lock before the first read, so another process cannot claim a key
            # between this transaction's lookup and its insert.
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._purge_expired_keys_if_due(conn)
                ops = _SqliteItemOps(conn, self.db.clock())
                results = [add_item(ops, item, key_ttl_seconds=key_ttl_seconds) for item in items]
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        return results

    def pending(self, *, limit: int, older_than: datetime) -> list[PendingPush]:
        if limit < 1:
            return []
        with self.db.locked() as conn:
            rows = conn.execute(
                "SELECT sms_id, user_id, sms_text, features_json FROM pending_pushes"
                " WHERE sms_ticks < ? ORDER BY sms_ticks, sms_id LIMIT ?",
                (datetime_ticks(older_than), limit),
            ).fetchall()
        return [_pending_push(row) for row in rows]

    def clear_pending(self, sms_ids: Sequence[UUID]) -> None:
        with self.db.write_batch(), self.db.locked() as conn:
            conn.executemany(
                "DELETE FROM pending_pushes WHERE sms_ticks = ? AND sms_id = ?",
                [(uuid_ticks(sms_id), str(sms_id)) for sms_id in sms_ids],
            )

    def get(self, user_id: str, sms_id: UUID) -> StoredSms | None:
        with self.db.locked() as conn:
            return _message(conn, user_id, sms_id)

    def list(self, user_id: str, *, limit: int, before: UUID | None = None) -> "list[StoredSms]":
        if limit < 1:
            return []
        if before is None:
            where, params = "user_id = ?", (user_id,)
        else:
            ticks = uuid_ticks(before)
            where = "user_id = ? AND (sms_ticks < ? OR (sms_ticks = ? AND sms_id < ?))"
            params = (user_id, ticks, ticks, str(before))
        with self.db.locked() as conn:
            rows = conn.execute(
                f"SELECT {_SMS_COLUMNS} FROM smss_by_users WHERE {where} ORDER BY sms_ticks DESC, sms_id DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [_stored_sms(row) for row in rows]

    def _purge_expired_keys_if_due(self, conn: sqlite3.Connection) -> None:
        """Expired keys are ignored on lookup; this only reclaims their space."""
        now = self.db.clock()
        if now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL_SECONDS
            conn.execute("DELETE FROM idempotency_keys WHERE expires_at <= ?", (now,))


class _SqliteItemOps:
    """`ItemOps` inside the batch's transaction: every step sees the ones before it."""

    def __init__(self, conn: sqlite3.Connection, now: float) -> None:
        self.conn = conn
        self.now = now

    def recorded_key(self, key: str) -> KeyRecord | None:
        row = self.conn.execute(
            "SELECT sms_id, fingerprint FROM idempotency_keys WHERE idempotency_key = ? AND expires_at > ?",
            (key, self.now),
        ).fetchone()
        return None if row is None else KeyRecord(UUID(row[0]), row[1])

    def claim_key(self, key: str, record: KeyRecord, ttl_seconds: int) -> KeyRecord | None:
        # The transaction holds the write lock and the lookup found no live record: replacing an
        # expired one is all that can happen here.
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency_keys VALUES (?, ?, ?, ?)",
            (key, str(record.sms_id), record.fingerprint, self.now + ttl_seconds),
        )
        return None

    def message(self, user_id: str, sms_id: UUID) -> StoredSms | None:
        return _message(self.conn, user_id, sms_id)

    def has_pending(self, sms_id: UUID) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM pending_pushes WHERE sms_ticks = ? AND sms_id = ?", (uuid_ticks(sms_id), str(sms_id))
        ).fetchone()
        return row is not None

    def write(self, item: SmsBatchItem, sms: StoredSms) -> None:
        ticks, sms_id = uuid_ticks(sms.sms_id), str(sms.sms_id)
        self.conn.execute(
            "INSERT INTO smss_by_users VALUES (?, ?, ?, ?, ?)",
            (item.user_id, ticks, sms_id, sms.sender_id, sms.sms_text),
        )
        features = None if item.features is None else json.dumps(list(item.features))
        self.conn.execute(
            "INSERT OR REPLACE INTO pending_pushes VALUES (?, ?, ?, ?, ?)",
            (ticks, sms_id, item.user_id, sms.sms_text, features),
        )


def _message(conn: sqlite3.Connection, user_id: str, sms_id: UUID) -> StoredSms | None:
    row = conn.execute(
        f"SELECT {_SMS_COLUMNS} FROM smss_by_users WHERE user_id = ? AND sms_ticks = ? AND sms_id = ?",
        (user_id, uuid_ticks(sms_id), str(sms_id)),
    ).fetchone()
    return None if row is None else _stored_sms(row)


def _stored_sms(row: tuple[str, str, str]) -> StoredSms:
    return StoredSms(sms_id=UUID(row[0]), sender_id=row[1], sms_text=row[2])


def _pending_push(row: tuple[str, str, str, str | None]) -> PendingPush:
    features = None if row[3] is None else tuple(json.loads(row[3]))
    return PendingPush(sms_id=UUID(row[0]), user_id=row[1], sms_text=row[2], features=features)
