"""Feast's Cassandra online store, with one session per process however many threads ask (Feast 0.67.0).

Feast's CassandraOnlineStore creates its session lazily and without a lock, so `feast serve`'s first
concurrent pushes each build a Cluster of their own and connect at once. Seen in CI: 16 concurrent first
pushes against the CQL emulator, 5 answered 500 "Unable to connect to any servers" (OperationTimedOut).
This subclass differs in one place: the session is created under a lock, once.
"""

import threading
from typing import Any, Literal

from feast.infra.online_stores.cassandra_online_store.cassandra_online_store import (
    CassandraOnlineStore,
    CassandraOnlineStoreConfig,
)
from feast.repo_config import RepoConfig


class ConcurrentCassandraOnlineStoreConfig(CassandraOnlineStoreConfig):
    type: Literal["feast_ext.cassandra.ConcurrentCassandraOnlineStore"] = (  # type: ignore[assignment]
        "feast_ext.cassandra.ConcurrentCassandraOnlineStore")


class ConcurrentCassandraOnlineStore(CassandraOnlineStore):
    def __init__(self) -> None:
        super().__init__()
        self._session_lock = threading.Lock()

    def _get_session(self, config: RepoConfig) -> Any:
        if self._session:
            return self._session
        with self._session_lock:
            return super()._get_session(config)  # the winner creates it; the others find it made
