"""Storage interfaces speaking plain data, and `make_stores` choosing a backend (DESIGN §6).

Contract for every implementation:
- lookups return `X | None`; nothing here raises HTTPException;
- writes are idempotent (writing the same key/entry twice leaves one row);
- `PredictionCache.put` needs `ttl_seconds >= 1` (Cassandra treats 0 as "no TTL");
- `CallLog.recent` returns entries newest first, `called_at >= since`, at most `limit`.
- `SmsStore.list` returns a user's messages newest first (by `sms_id`, a time-based UUID), at most
  `limit`, only those strictly older than `before` when it is given (cursor paging).

A backend module exposes `make_<backend>_stores(settings) -> Stores`; only backend modules import
their driver (`sqlite3`, `cassandra`).
"""

import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class PredictionCache(Protocol):
    def get(self, key: CacheKey) -> dict | None: ...

    def put(self, key: CacheKey, value: dict, ttl_seconds: int) -> None: ...


@runtime_checkable
class CallLog(Protocol):
    def append(self, entry: CallLogEntry) -> None: ...

    def recent(self, caller_id: str, version: str, *, since: datetime, limit: int) -> list[CallLogEntry]: ...


@runtime_checkable
class SmsStore(Protocol):
    def add(self, user_id: str, sms: StoredSms) -> None:
        """Idempotent: adding the same (user_id, sms_id) again overwrites with the same row."""

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
    "Backend",
    "CacheKey",
    "CallLog",
    "CallLogEntry",
    "PredictionCache",
    "SmsStore",
    "StoredSms",
    "Stores",
    "make_stores",
]
