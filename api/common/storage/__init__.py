"""Storage interfaces speaking plain data, and `make_stores` choosing a backend (DESIGN §6).

Contract for every implementation:
- lookups return `X | None`; nothing here raises HTTPException;
- writes are idempotent (writing the same key/entry twice leaves one row);
- `PredictionCache.put` needs `ttl_seconds >= 1` (Cassandra treats 0 as "no TTL");
- `CallLog.recent` returns entries newest first, `called_at >= since`, at most `limit`.
- `SmsStore.list` returns a user's messages newest first (by `sms_id`, a time-based UUID), at most
  `limit`, only those strictly older than `before` when it is given (cursor paging).
- `SmsStore` never overwrites a message: `add` and `add_batch` report what is already there instead.
- `SmsStore.add_batch` stores each message together with its pending push and its idempotency record,
  so a crash leaves either all three or none (per item); see the method for the statuses.

A backend module exposes `make_<backend>_stores(settings) -> Stores`; only backend modules import
their driver (`sqlite3`, `cassandra`).
"""

import hashlib
import json
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple, Protocol, runtime_checkable

from api.common.ids import time_uuid, uuid_datetime
from api.common.settings import BaseServiceSettings


@dataclass(frozen=True, slots=True)
class CacheKey:
    version: str
    endpoint: str
    model_sha256: str
    input_digest: str  # sha256 hex of the canonical input JSON


@dataclass(frozen=True, slots=True)
class CallLogEntry:
    caller_id: str
    version: str
    endpoint: str
    input_json: str
    # Time-based UUID: orders entries and carries the call time (Cassandra `timeuuid`).
    call_id: uuid.UUID = field(default_factory=time_uuid)

    @property
    def called_at(self) -> datetime:
        return uuid_datetime(self.call_id)


@dataclass(frozen=True, slots=True)
class StoredSms:
    """One message in a user's inbox (Cassandra table `smss_by_users`)."""

    sms_id: uuid.UUID  # time-based (version 1): orders the inbox and carries the receive time
    sender_id: str
    sms_text: str

    @property
    def received_at(self) -> datetime:
        return uuid_datetime(self.sms_id)


AddStatus = Literal["created", "exists", "conflict"]
BatchStatus = Literal["created", "replayed", "key_conflict"]


class SmsBatchItem(NamedTuple):
    """One message for `SmsStore.add_batch`; `features` is None when they are not computed yet."""

    user_id: str
    sms: StoredSms
    idempotency_key: str | None
    features: tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class SmsBatchResult:
    sms_id: uuid.UUID  # the recorded id on a replay, which may differ from the item's
    status: BatchStatus
    pending: bool  # whether a pending push exists for sms_id after the call


@dataclass(frozen=True, slots=True)
class PendingPush:
    """A message whose features may not have reached the feature server yet."""

    sms_id: uuid.UUID
    user_id: str
    sms_text: str
    features: tuple[int, ...] | None


def sms_fingerprint(user_id: str, sender_id: str, sms_text: str) -> str:
    """What an idempotency key promises stays the same between a request and its retry."""
    canonical = json.dumps([user_id, sender_id, sms_text], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def same_content(a: StoredSms, b: StoredSms) -> bool:
    return a.sender_id == b.sender_id and a.sms_text == b.sms_text


@runtime_checkable
class PredictionCache(Protocol):
    def get(self, key: CacheKey) -> dict | None: ...

    def put(self, key: CacheKey, value: dict, ttl_seconds: int) -> None: ...


@runtime_checkable
class CallLog(Protocol):
    def append(self, entry: CallLogEntry) -> None: ...

    def recent(self, caller_id: str, version: str, *, since: datetime, limit: int) -> list[CallLogEntry]: ...


class RateCount(NamedTuple):
    bucket: int  # the bucket's start, whole seconds since the epoch
    worker: str
    count: int


@runtime_checkable
class RateCounts(Protocol):
    """How many requests each worker admitted per (caller, version) and time bucket; the rate limiter's
    shared state. A worker only ever writes its own rows, so a write is an idempotent upsert."""

    def put(self, caller_id: str, version: str, worker: str, counts: dict[int, int], *, ttl_seconds: int) -> None:
        """Set this worker's count for each bucket in `counts` (kept `ttl_seconds`)."""
        ...

    def read(self, caller_id: str, version: str, *, since_bucket: int) -> list[RateCount]:
        """Every worker's counts for buckets >= since_bucket."""
        ...


@runtime_checkable
class SmsStore(Protocol):
    def add(self, user_id: str, sms: StoredSms) -> AddStatus:
        """Never overwrites: "exists" when (user_id, sms_id) holds the same content, "conflict" when it
        holds other content (nothing is written then), else "created"."""
        ...

    def add_batch(self, items: Sequence[SmsBatchItem], *, key_ttl_seconds: int) -> list[SmsBatchResult]:
        """One result per item, in order. An item whose idempotency key is recorded is "replayed" with the
        recorded sms_id, or "key_conflict" if the key was recorded for other content (user, sender, text).
        Otherwise the message, its pending push and its key record (kept `key_ttl_seconds`) are written
        together: "created". A recorded key whose message is missing (its writer died between the two
        writes) is completed with the recorded sms_id: "created". An item whose sms_id already holds other
        content is a "key_conflict"; nothing is written for a conflict, and its `pending` is False."""
        ...

    def pending(self, *, limit: int, older_than: datetime) -> list[PendingPush]:
        """Pending pushes whose sms_id time is before `older_than`, oldest first, at most `limit`."""
        ...

    def clear_pending(self, sms_ids: Sequence[uuid.UUID]) -> None:
        """Idempotent: unknown ids are ignored."""

    def get(self, user_id: str, sms_id: uuid.UUID) -> StoredSms | None: ...

    def list(self, user_id: str, *, limit: int, before: uuid.UUID | None = None) -> list[StoredSms]:
        """Newest first; with `before`, only messages whose sms_id is older than it."""
        ...


class Backend(Protocol):
    """The connection/session behind the stores: created once per process."""

    def ping(self) -> None:
        """Raise if the backend cannot serve a trivial query."""

    def write_batch(self) -> AbstractContextManager[None]:
        """Group the writes made inside into one unit where that is cheaper (one SQLite transaction).
        Each write still either happens or raises on its own; a failed commit raises on exit."""
        ...

    def close(self) -> None: ...


@dataclass
class Stores:
    """Everything a service may need; each service uses only the stores it asks for."""

    prediction_cache: PredictionCache
    call_log: CallLog
    backend: Backend
    sms: SmsStore
    rate_counts: RateCounts

    def ping(self) -> None:
        self.backend.ping()

    def close(self) -> None:
        self.backend.close()


def make_stores(settings: BaseServiceSettings) -> Stores:
    """Open the configured backend; the Cassandra driver is imported only when it is chosen."""
    if settings.storage_backend == "cassandra":
        from api.common.storage.cassandra import make_cassandra_stores

        return make_cassandra_stores(settings)
    from api.common.storage.sqlite import make_sqlite_stores

    return make_sqlite_stores(settings)


__all__ = [
    "AddStatus",
    "Backend",
    "BatchStatus",
    "CacheKey",
    "CallLog",
    "CallLogEntry",
    "PendingPush",
    "PredictionCache",
    "RateCount",
    "RateCounts",
    "SmsBatchItem",
    "SmsBatchResult",
    "SmsStore",
    "StoredSms",
    "Stores",
    "make_stores",
    "same_content",
    "sms_fingerprint",
]
