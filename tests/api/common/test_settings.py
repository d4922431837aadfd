"""BaseServiceSettings: env parsing and the bad combinations it rejects."""

import pytest
from pydantic import ValidationError

from api.common.settings import BaseServiceSettings, FeatureRepoSettings
from contract.paths import PROJECT_ROOT


def test_defaults_use_embedded_sqlite() -> None:
    settings = BaseServiceSettings(_env_file=None)
    assert settings.storage_backend == "sqlite"
    assert settings.sqlite_path == PROJECT_ROOT / ".run" / "spamops.db"
    assert settings.cassandra_keyspace == "spamops"


def test_cassandra_without_hosts_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "cassandra")
    monkeypatch.delenv("CASSANDRA_HOSTS", raising=False)
    with pytest.raises(ValidationError, match="STORAGE_BACKEND=cassandra needs CASSANDRA_HOSTS"):
        BaseServiceSettings(_env_file=None)


def test_cassandra_hosts_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "cassandra")
    monkeypatch.setenv("CASSANDRA_HOSTS", " 10.0.0.1, 10.0.0.2 ,")
    monkeypatch.setenv("CASSANDRA_PORT", "9142")
    settings = BaseServiceSettings(_env_file=None)
    assert settings.cassandra_hosts == ["10.0.0.1", "10.0.0.2"]
    assert settings.cassandra_port == 9142


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOGS_FRACTION", "1.5"), ("STORAGE_BACKEND", "mysql"), ("CASSANDRA_KEYSPACE", "bad-name"), ("LOG_LEVEL", "loud")],
)
def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        BaseServiceSettings(_env_file=None)


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert BaseServiceSettings(_env_file=None).log_level == "DEBUG"


def test_env_example_blanks_mean_unset() -> None:
    """`make up` copies .env.example to .env, whose `VAR=` lines must not become paths like "."."""
    example = PROJECT_ROOT / ".env.example"
    repo = FeatureRepoSettings(_env_file=example)
    assert repo.feast_fs_yaml_file is None and repo.feast_yaml_path is None
    settings = BaseServiceSettings(_env_file=example)
    assert settings.cassandra_secure_bundle_path is None
    assert settings.cassandra_username is None and settings.cassandra_password is None


def test_feast_yaml_is_relative_to_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURE_REPO_PATH", "/srv/repo")
    monkeypatch.setenv("FEAST_FS_YAML_FILE", "feature_store.cassandra.yaml")
    assert str(FeatureRepoSettings(_env_file=None).feast_yaml_path) == "/srv/repo/feature_store.cassandra.yaml"
    monkeypatch.setenv("FEAST_FS_YAML_FILE", "/etc/spamops/feature_store.yaml")
    assert str(FeatureRepoSettings(_env_file=None).feast_yaml_path) == "/etc/spamops/feature_store.yaml"
