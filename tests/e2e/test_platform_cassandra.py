"""End to end on the production profile: Cassandra for the app tables and Feast's online store.

Runs against the `cassandra_endpoint` fixture (the CQL emulator, or CASSANDRA_HOSTS). The built repo
is copied, pointed at feature_store.cassandra.yaml through the CASSANDRA_* variables, applied and
materialized through the SDK; the keyspace and app tables come from the bootstrap's `create_schema`.
"""

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from cassandra.cluster import Session
from feast import FeatureStore
from feast.repo_config import load_repo_config
from feast.repo_operations import apply_total, cli_check_repo

from api.common.storage.cassandra import create_schema
from tests.e2e.checks import check_message_end_to_end
from tests.e2e.faults import check_crash_recovery
from tests.e2e.platform import Platform, copy_built_repo, running_platform
from tests.fixtures.cassandra import CassandraEndpoint, cassandra_env
from tests.fixtures.platform import BuiltPlatform, environment, materialize_both_chapters

pytestmark = [pytest.mark.slow, pytest.mark.cassandra]
FS_YAML = "feature_store.cassandra.yaml"


@pytest.fixture(scope="module")
def platform(
    built_platform: BuiltPlatform,
    cassandra_endpoint: CassandraEndpoint,
    cassandra_session: Session,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    root = tmp_path_factory.mktemp("e2e_cassandra")
    keyspace = f"e2e_{uuid.uuid4().hex[:10]}"
    create_schema(cassandra_session, keyspace)
    repo = copy_built_repo(built_platform.repo, root / "feature_repo")
    for stale in ("registry.db", "online_store.db"):  # the SQLite profile's registry and online store
        (repo / "data" / stale).unlink(missing_ok=True)
    env = cassandra_env(cassandra_endpoint, keyspace)
    fs_yaml = repo / FS_YAML
    with environment(**env):  # feature_store.cassandra.yaml reads ${CASSANDRA_*}
        cli_check_repo(repo, fs_yaml)
        with contextlib.chdir(repo):
            apply_total(load_repo_config(repo, fs_yaml), repo, skip_source_validation=False)
        materialize_both_chapters(FeatureStore(repo_path=str(repo), fs_yaml_file=fs_yaml))
    base_env = {**env, "STORAGE_BACKEND": "cassandra"}
    with running_platform(repo, root / "run", models_dir=built_platform.models_dir, base_env=base_env,
                          fs_yaml=fs_yaml) as running:
        yield running


def test_message_flows_end_to_end_on_cassandra(platform: Platform) -> None:
    check_message_end_to_end(platform)


@pytest.mark.parametrize("victim", ["inbox", "feature_server"])
def test_sigkill_during_ingest_loses_and_doubles_nothing_on_cassandra(platform: Platform, victim: str) -> None:
    check_crash_recovery(platform, victim)
