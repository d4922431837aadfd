"""Threads that reach the Cassandra online store at once share one session (feast_ext/cassandra.py).

Feast's own store makes a session per racing thread; under `feast serve` that was 16 Clusters connecting
together and pushes answered 500 "Unable to connect to any servers". Runs against the CQL emulator (or
CASSANDRA_HOSTS) over TCP with the real driver.
"""

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from cassandra.cluster import Session
from feast.infra.online_stores.cassandra_online_store.cassandra_online_store import CassandraOnlineStore
from feast.repo_config import RepoConfig, load_repo_config

from feast_ext.cassandra import ConcurrentCassandraOnlineStore
from tests.fixtures.cassandra import CassandraEndpoint, fresh_keyspace, render_cassandra_yaml

THREADS = 16

pytestmark = pytest.mark.cassandra


@pytest.fixture
def config(cassandra_endpoint: CassandraEndpoint, cassandra_session: Session, tmp_path: Path) -> RepoConfig:
    path = tmp_path / "feature_store.yaml"
    path.write_text(render_cassandra_yaml(cassandra_endpoint, fresh_keyspace(cassandra_session)))
    return load_repo_config(tmp_path, path)


def sessions_made(store: CassandraOnlineStore, config: RepoConfig) -> set[int]:
    """The distinct session objects THREADS threads got from `store`, all asking at once."""
    start, got = threading.Barrier(THREADS), list[int]()
    clusters: list[object] = []

    def ask() -> None:
        start.wait()
        got.append(id(store._get_session(config)))  # the method this module fixes
        clusters.append(store._cluster)

    run_all([ask] * THREADS)
    for cluster in {id(c): c for c in clusters}.values():
        cluster.shutdown()  # type: ignore[attr-defined]
    return set(got)


def run_all(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def test_racing_threads_share_one_session(config: RepoConfig) -> None:
    assert len(sessions_made(ConcurrentCassandraOnlineStore(), config)) == 1
