"""`store_backend`: the Stores bundle of one backend, parametrised so contract tests run on each.

The Cassandra case runs against the `cassandra_endpoint` fixture (the CQL emulator, or CASSANDRA_HOSTS),
in a fresh keyspace per test created with the bootstrap's own `create_schema`.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cassandra.cluster import Session

from api.common.settings import BaseServiceSettings
from api.common.storage import Stores, make_stores
from tests.fixtures.cassandra import CassandraEndpoint


def _sqlite_stores(tmp_path: Path) -> Stores:
    return make_stores(BaseServiceSettings(storage_backend="sqlite", sqlite_path=tmp_path / "spamops.db"))


def _cassandra_stores(request: pytest.FixtureRequest) -> Stores:
    from api.common.storage.cassandra import create_schema

    endpoint: CassandraEndpoint = request.getfixturevalue("cassandra_endpoint")
    session: Session = request.getfixturevalue("cassandra_session")
    keyspace = f"contract_{uuid.uuid4().hex[:12]}"
    create_schema(session, keyspace)
    settings = BaseServiceSettings(
        storage_backend="cassandra",
        cassandra_hosts=endpoint.hosts,
        cassandra_port=endpoint.port,
        cassandra_keyspace=keyspace,
        cassandra_local_dc=endpoint.local_dc,
    )
    return make_stores(settings)


@pytest.fixture(params=["sqlite", pytest.param("cassandra", marks=pytest.mark.cassandra)])
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    stores = _sqlite_stores(tmp_path) if request.param == "sqlite" else _cassandra_stores(request)
    yield stores
    stores.close()
