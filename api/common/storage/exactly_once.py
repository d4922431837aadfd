"""The per-item decision of `SmsStore.add_batch`, written once over the few operations a backend provides.

A backend supplies `ItemOps`: SQLite runs them inside one transaction for the whole batch (so nothing
races), Cassandra runs them as separate requests, where `claim_key` is a lightweight transaction and
`write` one LOGGED BATCH of the message and its pending push.
"""

from dataclasses import replace
from typing import NamedTuple, Protocol
from uuid import UUID

from api.common.storage import SmsBatchItem, SmsBatchResult, StoredSms, same_content, sms_fingerprint


class KeyRecord(NamedTuple):
    sms_id: UUID
    fingerprint: str


class ItemOps(Protocol):
    def recorded_key(self, key: str) -> KeyRecord | None: ...

    def claim_key(self, key: str, record: KeyRecord, ttl_seconds: int) -> KeyRecord | None:
        """Record `key` unless it is recorded already; returns the record that was there, else None."""
        ...

    def message(self, user_id: str, sms_id: UUID) -> StoredSms | None: ...

    def has_pending(self, sms_id: UUID) -> bool: ...

    def write(self, item: SmsBatchItem, sms: StoredSms) -> None:
        """The message and its pending push, both or neither."""


def add_item(ops: ItemOps, item: SmsBatchItem, *, key_ttl_seconds: int) -> SmsBatchResult:
    fingerprint = sms_fingerprint(item.user_id, item.sms.sender_id, item.sms.sms_text)
    key = item.idempotency_key
    if key is not None and (record := ops.recorded_key(key)) is not None:
        return _replay(ops, item, record, fingerprint)
    # Checked before the key is claimed, so a key is never recorded for an id that holds other content.
    existing = ops.message(item.user_id, item.sms.sms_id)
    if existing is not None:
        if not same_content(existing, item.sms):
            return SmsBatchResult(item.sms.sms_id, "key_conflict", pending=False)
        return SmsBatchResult(item.sms.sms_id, "replayed", pending=ops.has_pending(item.sms.sms_id))
    if key is not None:
        record = ops.claim_key(key, KeyRecord(item.sms.sms_id, fingerprint), key_ttl_seconds)
        if record is not None:  # another writer claimed it since the lookup
            return _replay(ops, item, record, fingerprint)
    ops.write(item, item.sms)
    return SmsBatchResult(item.sms.sms_id, "created", pending=True)


def _replay(ops: ItemOps, item: SmsBatchItem, record: KeyRecord, fingerprint: str) -> SmsBatchResult:
    if record.fingerprint != fingerprint:
        return SmsBatchResult(item.sms.sms_id, "key_conflict", pending=False)
    if ops.message(item.user_id, record.sms_id) is not None:
        return SmsBatchResult(record.sms_id, "replayed", pending=ops.has_pending(record.sms_id))
    # The key's writer died (or is still running) between claiming it and writing: writing the same
    # content under the recorded id is safe either way, and nothing else can ever be stored there.
    ops.write(item, replace(item.sms, sms_id=record.sms_id))
    return SmsBatchResult(record.sms_id, "created", pending=True)
