"""Feast 0.67's Cassandra online store, unchanged, against the emulator (or CASSANDRA_HOSTS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from cassandra.cluster import Session
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, PushSource
from feast.data_source import PushMode
from feast.types import Array, Float32, Int64

from tests.fixtures.cassandra import CassandraEndpoint

KEYSPACE = "feast_emulator_test"
pytestmark = pytest.mark.cassandra


def _write_repo(tmp_path: Path, endpoint: CassandraEndpoint) -> Path:
    hosts = ", ".join(endpoint.hosts)
    (tmp_path / "feature_store.yaml").write_text(
        f"""project: emu
registry: {tmp_path / "registry.db"}
provider: local
online_store:
  type: cassandra
  hosts: [{hosts}]
  port: {endpoint.port}
  keyspace: {KEYSPACE}
  protocol_version: 4
  load_balancing:
    load_balancing_policy: TokenAwarePolicy(DCAwareRoundRobinPolicy)
    local_dc: {endpoint.local_dc}
offline_store:
  type: file
entity_key_serialization_version: 3
"""
    )
    return tmp_path


def test_feast_lifecycle_apply_materialize_read_push_teardown(
    tmp_path: Path, cassandra_endpoint: CassandraEndpoint, cassandra_session: Session
) -> None:
    cassandra_session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} "
        "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    repo = _write_repo(tmp_path, cassandra_endpoint)
    now = datetime.now(UTC).replace(microsecond=0)
    frame = pd.DataFrame(
        {
            "sms_id": [1, 2, 3],
            "score": [0.5, 1.5, 2.5],
            "token_ids": [[1, 2], [3], [4, 5, 6]],
            "event_timestamp": [now - timedelta(minutes=5)] * 3,
        }
    )
    parquet = tmp_path / "features.parquet"
    frame.to_parquet(parquet)

    sms = Entity(name="sms", join_keys=["sms_id"], description="An SMS message.")
    source = FileSource(name="emu_source", path=str(parquet), timestamp_field="event_timestamp")
    push_source = PushSource(name="emu_push", batch_source=source)
    view = FeatureView(
        name="emu_features",
        entities=[sms],
        ttl=timedelta(days=1),
        schema=[
            Field(name="score", dtype=Float32, description="A float feature."),
            Field(name="token_ids", dtype=Array(Int64), description="A list feature."),
        ],
        source=push_source,
    )
    store = FeatureStore(repo_path=str(repo))
    store.apply([sms, source, push_source, view])
    table = f"emu_{view.name}"
    metadata = cassandra_session.cluster.metadata
    cassandra_session.cluster.refresh_schema_metadata()
    assert [c.name for c in metadata.keyspaces[KEYSPACE].tables[table].partition_key] == ["entity_key"]

    store.materialize(start_date=now - timedelta(hours=1), end_date=now + timedelta(minutes=1))
    features = ["emu_features:score", "emu_features:token_ids"]
    online = store.get_online_features(features=features, entity_rows=[{"sms_id": 1}, {"sms_id": 3}, {"sms_id": 9}])
    result = online.to_dict()
    assert result["score"] == [0.5, 2.5, None]
    assert result["token_ids"] == [[1, 2], [4, 5, 6], None]

    pushed = pd.DataFrame(
        {"sms_id": [1, 9], "score": [7.0, 9.0], "token_ids": [[7], [9, 9]], "event_timestamp": [now, now]}
    )
    store.push("emu_push", pushed, to=PushMode.ONLINE)
    result = store.get_online_features(features=features, entity_rows=[{"sms_id": 1}, {"sms_id": 9}]).to_dict()
    assert result["score"] == [7.0, 9.0]
    assert result["token_ids"] == [[7], [9, 9]]

    store.teardown()
    cassandra_session.cluster.refresh_schema_metadata()
    assert table not in cassandra_session.cluster.metadata.keyspaces[KEYSPACE].tables
