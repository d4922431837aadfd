"""Feast's SQLite online store, safe for concurrent writers (written against Feast 0.67.0).

Feast's SqliteOnlineStore shares one connection (check_same_thread=False) across `feast serve`'s thread
pool, so concurrent pushes fail ("cannot start a transaction within a transaction") and a failed push's
rollback can undo rows another push was told were written. This subclass differs in four places:
- one connection per thread (and per process, so a forked worker never inherits one), in WAL mode
  with a busy timeout, so writers in any thread or process wait for the lock instead of failing;
  `synchronous = NORMAL` (a commit survives a crash of the process, not of the machine);
- `online_write_batch` queues on a write lock shared by threads and processes (feast_ext/locks.py),
  takes SQLite's write lock up front (`BEGIN IMMEDIATE`) and writes every row with one `executemany`
  in one transaction, which also makes materialization faster;
- `online_write_arrow` takes materialization's Arrow batches from our engine (feast_ext/engine.py) and
  writes the same rows without building protos (feast_ext/arrow_rows.py);
- `update` drops Feast's index on `entity_key` alone: the primary key (entity_key, feature_name)
  already serves every lookup, and the second index cost about a fifth of each write.
"""

import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import repeat
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from feast import Entity
from feast.feature_view import FeatureView
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import extract_text_and_num
from feast.infra.online_stores.sqlite import (
    SqliteOnlineStore,
    SqliteOnlineStoreConfig,
    _initialize_conn,
    _quote_id,
    _table_id,
    adapt_datetime_epoch,
)
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from feast.repo_config import RepoConfig
from feast.utils import to_naive_utc
from feast.value_type import ValueType

from contract.sqlite import use_wal
from feast_ext.arrow_rows import encode_batch
from feast_ext.locks import WriteLock

Row = tuple[EntityKeyProto, dict[str, ValueProto], datetime, datetime | None]


class ConcurrentSqliteOnlineStoreConfig(SqliteOnlineStoreConfig):
    type: Literal["feast_ext.online.ConcurrentSqliteOnlineStore"] = "feast_ext.online.ConcurrentSqliteOnlineStore"
    busy_timeout_ms: int = 30_000
    """How long a writer waits for another's transaction before it fails."""


class ConcurrentSqliteOnlineStore(SqliteOnlineStore):
    def __init__(self) -> None:
        super().__init__()
        self._threads = threading.local()
        self._write_locks: dict[str, WriteLock] = {}

    def _get_conn(self, config: RepoConfig) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._threads, "conn", None)
        if conn is None or self._threads.pid != os.getpid():
            conn = _initialize_conn(self._get_db_path(config))
            conn.execute(f"PRAGMA busy_timeout = {int(config.online_store.busy_timeout_ms)}")
            use_wal(conn)
            # Survives a process crash, not a power cut: the online store is rebuilt by materialization,
            # and it saves one fsync per push.
            conn.execute("PRAGMA synchronous = NORMAL")
            self._threads.conn, self._threads.pid = conn, os.getpid()
        return conn

    def _write_lock(self, config: RepoConfig) -> WriteLock:
        """Writers queue here (threads, and `feast serve`'s worker processes) rather than in SQLite's busy handler."""
        path = self._get_db_path(config)
        if path not in self._write_locks:
            self._write_locks[path] = WriteLock(Path(f"{path}.lock"))
        return self._write_locks[path]

    def online_write_batch(
        self,
        config: RepoConfig,
        table: FeatureView,
        data: list[Row],
        progress: Callable[[int], Any] | None,
    ) -> None:
        if self._extra_columns(config):
            super().online_write_batch(config, table, data, progress)
            return
        rows = [
            (key, feature, value.SerializeToString(), extract_text_and_num(value, False)[0], event_ts, created_ts)
            for key, values, event_ts, created_ts in self._keyed(config, data)
            for feature, value in values.items()
        ]
        self._upsert(config, table, rows)
        if progress:
            progress(len(data))

    def online_write_arrow(
        self, config: RepoConfig, table: FeatureView, batch: pa.RecordBatch, join_keys: dict[str, ValueType]
    ) -> bool:
        """Materialization's write (feast_ext/engine.py): the same rows as `online_write_batch`, built from
        Arrow columns; False, with nothing written, if a column is not one feast_ext/arrow_rows.py encodes."""
        if self._extra_columns(config):
            return False
        encoded = encode_batch(batch, table, join_keys, config.entity_key_serialization_version)
        if encoded is None:
            return False
        # What sqlite3 would store for each datetime (Feast's module registers this adapter), once per entity
        event_ts = [adapt_datetime_epoch(ts) for ts in encoded.event_ts]
        created = encoded.created_ts
        created_ts = [adapt_datetime_epoch(ts) for ts in created] if created is not None else [None] * len(event_ts)
        rows = [
            row
            for feature, column in encoded.features.items()
            for row in zip(
                encoded.entity_keys,
                repeat(feature, len(column.values)),
                column.values,
                column.texts,
                event_ts,
                created_ts,
                strict=True,
            )
        ]
        self._upsert(config, table, rows)
        return True

    @staticmethod
    def _extra_columns(config: RepoConfig) -> bool:
        """Vector and value_num columns: written by Feast's own path only."""
        return bool(config.online_store.vector_enabled or config.online_store.enable_openai_compatible_store)

    def _upsert(self, config: RepoConfig, table: FeatureView, rows: list[tuple[Any, ...]]) -> None:
        name = _quote_id(_table_id(config.project, table, config.registry.enable_online_feature_view_versioning))
        upsert = (
            f"INSERT INTO {name} (entity_key, feature_name, value, value_text, event_ts, created_ts) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(entity_key, feature_name) DO UPDATE SET "
            "value = excluded.value, value_text = excluded.value_text, "
            "event_ts = excluded.event_ts, created_ts = excluded.created_ts"
        )
        conn = self._get_conn(config)
        with self._write_lock(config).held():
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(upsert, rows)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def update(
        self,
        config: RepoConfig,
        tables_to_delete: Sequence[FeatureView],
        tables_to_keep: Sequence[FeatureView],
        entities_to_delete: Sequence[Entity],
        entities_to_keep: Sequence[Entity],
        partial: bool,
    ) -> None:
        super().update(config, tables_to_delete, tables_to_keep, entities_to_delete, entities_to_keep, partial)
        conn = self._get_conn(config)
        versioning = config.registry.enable_online_feature_view_versioning
        for table in tables_to_keep:  # the primary key (entity_key, feature_name) serves every entity lookup
            conn.execute(f"DROP INDEX IF EXISTS {_quote_id(_table_id(config.project, table, versioning) + '_ek')}")

    @staticmethod
    def _keyed(config: RepoConfig, data: list[Row]) -> list[tuple[bytes, dict[str, ValueProto], datetime, Any]]:
        version = config.entity_key_serialization_version
        return [
            (
                serialize_entity_key(key, entity_key_serialization_version=version),
                values,
                to_naive_utc(event_ts),
                to_naive_utc(created_ts) if created_ts is not None else None,
            )
            for key, values, event_ts, created_ts in data
        ]
