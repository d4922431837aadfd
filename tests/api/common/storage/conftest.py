"""`store_backend`: the Stores bundle of one backend, parametrised so contract tests run on each.

The Cassandra case runs against the `cassandra_endpoint` fixture (the CQL emulator, or CASSANDRA_HOSTS),
in a fresh keyspace per test created with the bootstrap's own `create_schema`. `twin_stores` opens a
second, independent connection to the same data, as a second process would.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cassandra.cluster import Session

from api.common.settings import BaseServiceSettings
from api.common.storage import Stores, make_stores
from tests.fixtures.cassandra import CassandraEndpoint


def _sqlite_settings(tmp_path: Path) -> BaseServiceSettings:
    return BaseServiceSettings(storage_backend="sqlite", sqlite_path=tmp_path / "spamops.db")


def _cassandra_settings(request: pytest.FixtureRequest) -> BaseServiceSettings:
    from api.common.storage.cassandra import create_schema

    endpoint: CassandraEndpoint = request.getfixturevalue("cassandra_endpoint")
    session: Session = request.getfixturevalue("cassandra_session")
    keyspace = f"contract_{uuid.uuid4().hex[:12]}"
    create_schema(session, keyspace)
    return BaseServiceSettings(
        storage_backend="cassandra",
        cassandra_hosts=endpoint.hosts,
        cassandra_port=endpoint.port,
        cassandra_keyspace=keyspace,
        cassandra_local_dc=endpoint.local_dc,
    )


@pytest.fixture(params=["sqlite", pytest.param("cassandra", marks=pytest.mark.cassandra)])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> BaseServiceSettings:
    return _sqlite_settings(tmp_path) if request.param == "sqlite" else _cassandra_settings(request)


@pytest.fixture
def store_backend(backend_settings: BaseServiceSettings) -> Iterator[Stores]:
    stores = make_stores(backend_settings)
    yield stores
    stores.close()


@pytest.fixture
def twin_stores(backend_settings: BaseServiceSettings, store_backend: Stores) -> Iterator[Stores]:
    stores = make_stores(backend_settings)
    yield stores
    stores.close()
