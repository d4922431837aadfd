"""BaseServiceSettings: env parsing and the bad combinations it rejects."""

import pytest
from pydantic import ValidationError

from api.common.settings import PROJECT_ROOT, BaseServiceSettings


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
