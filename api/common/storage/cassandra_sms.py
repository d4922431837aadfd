"""Cassandra `SmsStore`: `smss_by_users`, `pending_pushes` and `idempotency_keys` (tables in cassandra.py).

No message is ever overwritten: `add` is `INSERT ... IF NOT EXISTS`, and `add_batch` claims each key with
a lightweight transaction before one LOGGED BATCH writes the message and its pending push (the two
tables cannot share a conditional batch). The statements of that path read and write at LOCAL_QUORUM,
so a replay sees what the first writer was told was written.
"""

import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from uuid import UUID

from cassandra import ConsistencyLevel
from cassandra.cluster import Session
from cassandra.query import BatchStatement, BatchType, PreparedStatement
from cassandra.util import min_uuid_from_time

from api.common.storage import (
    AddStatus,
    PendingPush,
    SmsBatchItem,
    SmsBatchResult,
    StoredSms,
    same_content,
)
from api.common.storage.exactly_once import KeyRecord, add_item

# Fixed for the life of the data: rows are found by the shard their sms_id hashes to.
PENDING_SHARDS = 8
# Items of one batch written at once; each is a few round trips, mostly waiting on the network.
BATCH_WORKERS = 8


def pending_shard(sms_id: UUID) -> int:
    # A hash of all the bytes: the node part of our ids is constant per process, the time part clusters.
    return zlib.crc32(sms_id.bytes) % PENDING_SHARDS


class CassandraSmsStore:
    """`smss_by_users`: one partition per user, clustered newest first, so every read is one slice."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._pool = ThreadPoolExecutor(max_workers=BATCH_WORKERS, thread_name_prefix="sms-batch")
        columns = "SELECT sms_id, sender_id, sms_text FROM smss_by_users"
        self._insert_new = _prepare(
            session,
            "INSERT INTO smss_by_users (user_id, sms_id, sender_id, sms_text) VALUES (?, ?, ?, ?) IF NOT EXISTS",
        )
        self._get = _prepare(session, f"{columns} WHERE user_id = ? AND sms_id = ?")
        self._newest = session.prepare(f"{columns} WHERE user_id = ? LIMIT ?")
        self._older = session.prepare(f"{columns} WHERE user_id = ? AND sms_id < ? LIMIT ?")
        self._ops = _CassandraItemOps(session, self.get)
        self._older_pending = _prepare(
            session,
            "SELECT sms_id, user_id, sms_text, features FROM pending_pushes WHERE shard = ? AND sms_id < ? LIMIT ?",
        )
        self._delete_pending = _prepare(session, "DELETE FROM pending_pushes WHERE shard = ? AND sms_id = ?")

    def add(self, user_id: str, sms: StoredSms) -> AddStatus:
        result = self.session.execute(self._insert_new, (user_id, sms.sms_id, sms.sender_id, sms.sms_text))
        if result.was_applied:
            return "created"
        row = result.one()  # the LWT answers with the row that is there
        existing = StoredSms(sms_id=sms.sms_id, sender_id=row.sender_id, sms_text=row.sms_text)
        return "exists" if same_content(existing, sms) else "conflict"

    def add_batch(self, items: Sequence[SmsBatchItem], *, key_ttl_seconds: int) -> list[SmsBatchResult]:
        results: dict[int, SmsBatchResult] = {}
        for indices in _rounds(items):
            added = self._pool.map(lambda i: add_item(self._ops, items[i], key_ttl_seconds=key_ttl_seconds), indices)
            results.update(zip(indices, added, strict=True))
        return [results[index] for index in range(len(items))]

    def pending(self, *, limit: int, older_than: datetime) -> list[PendingPush]:
        if limit < 1:
            return []
        bound = min_uuid_from_time(older_than.timestamp())
        futures = [self.session.execute_async(self._older_pending, (shard, bound, limit))
                   for shard in range(PENDING_SHARDS)]
        rows = [row for future in futures for row in future.result()]
        rows.sort(key=lambda row: (row.sms_id.time, row.sms_id.bytes))
        return [_pending_push(row) for row in rows[:limit]]

    def clear_pending(self, sms_ids: Sequence[UUID]) -> None:
        futures = [self.session.execute_async(self._delete_pending, (pending_shard(sms_id), sms_id))
                   for sms_id in sms_ids]
        for future in futures:
            future.result()

    def get(self, user_id: str, sms_id: UUID) -> StoredSms | None:
        row = self.session.execute(self._get, (user_id, sms_id)).one()
        return None if row is None else StoredSms(sms_id=row.sms_id, sender_id=row.sender_id, sms_text=row.sms_text)

    def list(self, user_id: str, *, limit: int, before: UUID | None = None) -> "list[StoredSms]":
        if limit < 1:
            return []
        if before is None:
            rows = self.session.execute(self._newest, (user_id, limit))
        else:
            rows = self.session.execute(self._older, (user_id, before, limit))
        return [StoredSms(sms_id=row.sms_id, sender_id=row.sender_id, sms_text=row.sms_text) for row in rows]


class _CassandraItemOps:
    """`ItemOps` as separate requests; only `claim_key` is a transaction, and `write` is one logged batch."""

    def __init__(self, session: Session, get_message: Callable[[str, UUID], StoredSms | None]) -> None:
        self.session = session
        self.message = get_message
        self._claim_key = _prepare(
            session,
            "INSERT INTO idempotency_keys (idempotency_key, sms_id, fingerprint) VALUES (?, ?, ?)"
            " IF NOT EXISTS USING TTL ?",
        )
        self._get_key = _prepare(session, "SELECT sms_id, fingerprint FROM idempotency_keys WHERE idempotency_key = ?")
        self._insert_sms = _prepare(
            session, "INSERT INTO smss_by_users (user_id, sms_id, sender_id, sms_text) VALUES (?, ?, ?, ?)"
        )
        self._insert_pending = _prepare(
            session, "INSERT INTO pending_pushes (shard, sms_id, user_id, sms_text, features) VALUES (?, ?, ?, ?, ?)"
        )
        self._get_pending = _prepare(session, "SELECT sms_id FROM pending_pushes WHERE shard = ? AND sms_id = ?")

    def recorded_key(self, key: str) -> KeyRecord | None:
        row = self.session.execute(self._get_key, (key,)).one()
        return None if row is None else KeyRecord(row.sms_id, row.fingerprint)

    def claim_key(self, key: str, record: KeyRecord, ttl_seconds: int) -> KeyRecord | None:
        result = self.session.execute(self._claim_key, (key, record.sms_id, record.fingerprint, ttl_seconds))
        if result.was_applied:
            return None
        row = result.one()  # the LWT answers with the row that is there
        return KeyRecord(row.sms_id, row.fingerprint)

    def has_pending(self, sms_id: UUID) -> bool:
        return self.session.execute(self._get_pending, (pending_shard(sms_id), sms_id)).one() is not None

    def write(self, item: SmsBatchItem, sms: StoredSms) -> None:
        # LOGGED: the batch log makes both rows land even if the coordinator dies halfway.
        batch = BatchStatement(batch_type=BatchType.LOGGED, consistency_level=ConsistencyLevel.LOCAL_QUORUM)
        batch.add(self._insert_sms, (item.user_id, sms.sms_id, sms.sender_id, sms.sms_text))
        features = None if item.features is None else list(item.features)
        shard = pending_shard(sms.sms_id)
        batch.add(self._insert_pending, (shard, sms.sms_id, item.user_id, sms.sms_text, features))
        self.session.execute(batch)


def _prepare(session: Session, query: str) -> PreparedStatement:
    statement = session.prepare(query)
    statement.consistency_level = ConsistencyLevel.LOCAL_QUORUM
    statement.serial_consistency_level = ConsistencyLevel.LOCAL_SERIAL
    return statement


def _rounds(items: Sequence[SmsBatchItem]) -> Iterator[list[int]]:
    """Item indices in rounds in which no key and no (user, sms_id) repeats: a repeat within one batch
    then runs after its first occurrence and is answered as a replay, as it would be on SQLite."""
    remaining = list(range(len(items)))
    while remaining:
        seen: set[object] = set()
        this_round: list[int] = []
        later: list[int] = []
        for index in remaining:
            item = items[index]
            marks = {("id", item.user_id, item.sms.sms_id)}
            if item.idempotency_key is not None:
                marks.add(("key", item.idempotency_key))
            # A deferred item's marks still block the items after it, so request order is kept.
            (later if marks & seen else this_round).append(index)
            seen |= marks
        yield this_round
        remaining = later


def _pending_push(row: Any) -> PendingPush:
    features = None if row.features is None else tuple(row.features)
    return PendingPush(sms_id=row.sms_id, user_id=row.user_id, sms_text=row.sms_text, features=features)
