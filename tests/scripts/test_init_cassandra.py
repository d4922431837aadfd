"""`scripts/init_cassandra.py` creates every app table, including the exactly-once path's, and can run twice."""

import uuid

import pytest
from cassandra.cluster import Session

from scripts.init_cassandra import main
from tests.fixtures.cassandra import CassandraEndpoint, cassandra_env

APP_TABLES = {"prediction_cache", "call_log", "smss_by_users", "pending_pushes", "idempotency_keys"}


@pytest.mark.cassandra
def test_init_cassandra_creates_app_tables_idempotently(
    cassandra_endpoint: CassandraEndpoint, cassandra_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyspace = f"init_{uuid.uuid4().hex[:12]}"
    for name, value in cassandra_env(cassandra_endpoint, keyspace).items():
        monkeypatch.setenv(name, value)
    assert main([]) == 0
    assert main([]) == 0
    cassandra_session.cluster.refresh_schema_metadata()
    tables = cassandra_session.cluster.metadata.keyspaces[keyspace].tables
    assert set(tables) >= APP_TABLES
    assert [c.name for c in tables["pending_pushes"].partition_key] == ["shard"]
