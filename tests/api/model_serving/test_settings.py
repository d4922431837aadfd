"""SPAM_MODEL_VERSIONS parsing and the start-up failures it must cause."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.model_serving.main import create_app
from api.model_serving.settings import ModelServingSettings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("v1,v2,v3", ["v1", "v2", "v3"]),
        (" v1 , v2,v3 ", ["v1", "v2", "v3"]),
        ("v3,,v1,", ["v3", "v1"]),
        ("v2, v2 ,v1", ["v2", "v1"]),
        ("\tv1\n", ["v1"]),
    ],
)
def test_versions_from_env_are_whitespace_tolerant(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("SPAM_MODEL_VERSIONS", raw)
    assert ModelServingSettings().spam_model_versions == expected


def test_versions_default_to_all() -> None:
    assert ModelServingSettings(_env_file=None).spam_model_versions == ["v1", "v2", "v3"]


@pytest.mark.parametrize("raw", ["v1,v4", "V1", "v1;v2", "model1"])
def test_unknown_version_stops_start_up_naming_known_versions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str
) -> None:
    monkeypatch.setenv("SPAM_MODEL_VERSIONS", raw)
    app = create_app(ModelServingSettings(models_dir=tmp_path, sqlite_path=tmp_path / "app.db"))
    with pytest.raises(ValueError, match=r"unknown model version .*known versions: v1, v2, v3"), TestClient(app):
        pass


def test_blank_versions_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAM_MODEL_VERSIONS", "")
    assert ModelServingSettings().spam_model_versions == ["v1", "v2", "v3"]


def test_plugins_from_env_are_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAM_MODEL_PLUGINS", " a.b:C , d.e:F ")
    assert ModelServingSettings().spam_model_plugins == ["a.b:C", "d.e:F"]


@pytest.mark.parametrize("raw", [" , ,", ","])
def test_empty_versions_fail(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("SPAM_MODEL_VERSIONS", raw)
    with pytest.raises(ValidationError, match="SPAM_MODEL_VERSIONS is empty"):
        ModelServingSettings()


def test_numeric_limits_come_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_TTL_SECONDS", "60")
    monkeypatch.setenv("MAX_BATCH_SIZE", "10")
    monkeypatch.setenv("MAX_TEXT_LENGTH", "99")
    settings = ModelServingSettings()
    assert (settings.cache_ttl_seconds, settings.max_batch_size, settings.max_text_length) == (60, 10, 99)


def test_cache_ttl_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        ModelServingSettings(cache_ttl_seconds=0)


def test_feast_yaml_path_is_relative_to_repo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = ModelServingSettings(feature_repo_path=tmp_path, feast_fs_yaml_file="feature_store.cassandra.yaml")
    assert settings.feast_yaml_path == tmp_path / "feature_store.cassandra.yaml"
    assert ModelServingSettings(feature_repo_path=tmp_path).feast_yaml_path is None


def test_missing_artifacts_fail_start_up_clearly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = ModelServingSettings(spam_model_versions="v1", models_dir=tmp_path, sqlite_path=tmp_path / "a.db")
    with (
        pytest.raises(RuntimeError, match=r"cannot load model v1 from .*metadata\.json"),
        TestClient(create_app(settings)),
    ):
        pass
