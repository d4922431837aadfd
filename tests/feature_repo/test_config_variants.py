"""Every feature_store*.yaml parses with only `.env.example`'s values, plus what its user must supply, and the
README's Cassandra and Astra blocks export every variable it reads.

Feast substitutes `${VAR}` from the environment (a variable left unset stays literal and fails
validation, as in issue 16's Astra block), so each variant is loaded with `.env.example`'s settings
and obviously fake values for what the user brings: hosts for a cluster; bundle, token and data
center for Astra. No connection is made.
"""

import re
from pathlib import Path

import pytest
from feast.infra.online_stores.cassandra_online_store.cassandra_online_store import CassandraOnlineStoreConfig
from feast.repo_config import FeastConfigError, RepoConfig, load_repo_config

from contract.paths import FEATURE_REPO_DIR, PROJECT_ROOT
from tests.readme import exported_variables, marked_blocks

# What each variant's user supplies beyond .env.example (whose values for these are empty or a default).
USER_SUPPLIED = {
    "feature_store.yaml": {},
    "feature_store.cassandra.yaml": {"CASSANDRA_HOSTS": "cassandra-1.example.invalid"},
    "feature_store.astra.yaml": {
        "CASSANDRA_SECURE_BUNDLE_PATH": "/dummy/secure-connect-spamops.zip",
        "CASSANDRA_USERNAME": "dummy-client-id",
        "CASSANDRA_PASSWORD": "dummy-client-secret",
        "CASSANDRA_LOCAL_DC": "dummy-astra-dc",
    },
}


def env_example() -> dict[str, str]:
    lines = (PROJECT_ROOT / ".env.example").read_text().splitlines()
    return {match[1]: match[2] for line in lines if (match := re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line))}


def yaml_variables(name: str) -> set[str]:
    return set(re.findall(r"\$\{(\w+)\}", (FEATURE_REPO_DIR / name).read_text()))


def load_with(monkeypatch: pytest.MonkeyPatch, name: str, env: dict[str, str]) -> RepoConfig:
    for variable in yaml_variables(name):
        monkeypatch.delenv(variable, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_repo_config(FEATURE_REPO_DIR, FEATURE_REPO_DIR / name)


def test_user_supplied_table_covers_every_variant() -> None:
    assert set(USER_SUPPLIED) == {path.name for path in Path(FEATURE_REPO_DIR).glob("feature_store*.yaml")}


@pytest.mark.parametrize("name", sorted(USER_SUPPLIED))
def test_env_example_documents_every_variable_of(name: str) -> None:
    assert yaml_variables(name) <= set(env_example()), sorted(yaml_variables(name) - set(env_example()))


@pytest.mark.parametrize("name", sorted(USER_SUPPLIED))
def test_variant_parses_with_env_example_values(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    env = {**env_example(), **USER_SUPPLIED[name]}
    config = load_with(monkeypatch, name, env)
    store = config.online_store
    if not isinstance(store, CassandraOnlineStoreConfig):
        return
    assert store.keyspace == env["CASSANDRA_KEYSPACE"]
    assert store.protocol_version == 4
    assert store.request_timeout == float(env["CASSANDRA_REQUEST_TIMEOUT"])
    assert store.load_balancing.local_dc == env["CASSANDRA_LOCAL_DC"]
    if "CASSANDRA_HOSTS" in yaml_variables(name):
        assert store.hosts == [env["CASSANDRA_HOSTS"]] and store.port == int(env["CASSANDRA_PORT"])
    else:
        assert store.secure_bundle_path == env["CASSANDRA_SECURE_BUNDLE_PATH"]
        assert (store.username, store.password) == (env["CASSANDRA_USERNAME"], env["CASSANDRA_PASSWORD"])


@pytest.mark.parametrize("name", ["feature_store.cassandra.yaml", "feature_store.astra.yaml"])
def test_variant_without_request_timeout_fails_to_parse(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # What a shell that exported only part of the variables got (issue 16): the literal ${...} is no number.
    env = {key: value for key, value in {**env_example(), **USER_SUPPLIED[name]}.items()
           if key != "CASSANDRA_REQUEST_TIMEOUT"}
    with pytest.raises(FeastConfigError, match="request_timeout"):
        load_with(monkeypatch, name, env)


@pytest.mark.parametrize(("marker", "name"), [("cassandra", "feature_store.cassandra.yaml"),
                                              ("astra", "feature_store.astra.yaml")])
def test_readme_block_exports_every_variable_of(marker: str, name: str) -> None:
    (block,) = marked_blocks(marker)
    assert yaml_variables(name) <= exported_variables(block), sorted(yaml_variables(name) - exported_variables(block))
    assert exported_variables(block) >= {"STORAGE_BACKEND", "FEAST_FS_YAML_FILE"}
