"""How fresh each feature view's online rows are, read from the online store's own table (Feast 0.67.0).

Feast's SDK reads the online store by entity only, so the newest row of a view is found in the table
Feast writes: `MAX` over SQLite's table, a paged scan of Cassandra's (a whole-table read, fine for a
command-line look, not for a request path). Per view: the entities online, the newest event time
(what `features_age_seconds` measures per prediction), and when the newest row was written where the
store records it: Cassandra's `WRITETIME`, SQLite's `created_ts` (Feast fills it only for sources with
a created-timestamp column, which ours have not, so it is usually absent there).
"""

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from feast import FeatureStore
from feast.infra.online_stores.cassandra_online_store.cassandra_online_store import CassandraOnlineStore
from feast.infra.online_stores.sqlite import SqliteOnlineStore, _quote_id, _table_id

if TYPE_CHECKING:
    from cassandra.cluster import Session

CASSANDRA_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ViewFreshness:
    view: str
    entities: int
    newest_event: datetime | None  # UTC; None when the view has no online rows
    newest_write: datetime | None  # UTC; None when the store does not record write times

    def event_age_seconds(self, now: datetime) -> float | None:
        return None if self.newest_event is None else (now - self.newest_event).total_seconds()

    def write_age_seconds(self, now: datetime) -> float | None:
        return None if self.newest_write is None else (now - self.newest_write).total_seconds()

    def describe(self, now: datetime) -> str:
        """One line, e.g. `3 entities online; newest event 2020-06-01T00:00:00+00:00 (2.1 years old); ...`."""
        if self.newest_event is None:
            return "no rows online"
        event = f"newest event {self.newest_event.isoformat()} ({age(self.event_age_seconds(now))} old)"
        written = (
            "write time not recorded by this store"
            if self.newest_write is None
            else f"newest write {self.newest_write.isoformat()} ({age(self.write_age_seconds(now))} ago)"
        )
        return f"{self.entities} entities online; {event}; {written}"


def age(seconds: float | None) -> str:
    """A rounded human age: 42 s, 7.5 min, 3.2 h, 12.0 days, 2.1 years."""
    if seconds is None:
        return "unknown"
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def view_freshness(store: FeatureStore, view_names: Sequence[str]) -> list[ViewFreshness]:
    """Freshness of each named view's online rows, on the SQLite (ours or Feast's) or Cassandra store."""
    online = store._get_provider().online_store  # the store's own connection: one per process
    views = [store.get_feature_view(name) for name in view_names]
    if isinstance(online, SqliteOnlineStore):
        versioning = store.config.registry.enable_online_feature_view_versioning
        conn = online._get_conn(store.config)
        return [_sqlite(conn, view.name, _table_id(store.config.project, view, versioning)) for view in views]
    if isinstance(online, CassandraOnlineStore):
        session = online._get_session(store.config)
        keyspace = store.config.online_store.keyspace
        return [_cassandra(session, view.name, f'"{keyspace}"."{store.config.project}_{view.name}"') for view in views]
    raise ValueError(f"freshness is read from SQLite or Cassandra online stores, not {type(online).__name__}")


def _sqlite(conn: sqlite3.Connection, view: str, table: str) -> ViewFreshness:
    query = f"SELECT COUNT(DISTINCT entity_key), MAX(event_ts), MAX(created_ts) FROM {_quote_id(table)}"
    entities, event, created = conn.execute(query).fetchone()
    return ViewFreshness(view, int(entities), _sqlite_time(event), _sqlite_time(created))


def _sqlite_time(value: int | None) -> datetime | None:
    # Feast's sqlite3 adapter stores a naive UTC datetime as `int(dt.timestamp())`, which reads it as local
    # time, and its converter undoes that with `datetime.fromtimestamp`; MAX() drops the column's type, so
    # the converter is applied here, the same way.
    return None if value is None else datetime.fromtimestamp(int(value)).replace(tzinfo=UTC)


def _cassandra(session: "Session", view: str, table: str) -> ViewFreshness:
    query = f"SELECT entity_key, event_ts, WRITETIME(value) FROM {table}"
    entities: set[str] = set()
    newest_event: datetime | None = None
    newest_write: int | None = None
    for key, event, written in session.execute(query, timeout=CASSANDRA_TIMEOUT_SECONDS):
        entities.add(key)
        if event is not None and (newest_event is None or event > newest_event):
            newest_event = event
        if written is not None and (newest_write is None or written > newest_write):
            newest_write = written
    return ViewFreshness(
        view,
        len(entities),
        None if newest_event is None else newest_event.replace(tzinfo=UTC),  # the driver returns naive UTC
        None if newest_write is None else datetime.fromtimestamp(newest_write / 1e6, tz=UTC),  # µs since epoch
    )
