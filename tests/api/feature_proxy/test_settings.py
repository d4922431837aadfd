"""Settings: the allow-list can never expose labels; CSV variables are parsed like the other services'."""

import pytest
from pydantic import ValidationError

from api.feature_proxy.settings import FeatureProxySettings


def test_settings_defaults_allow_label_free_services_only() -> None:
    settings = FeatureProxySettings()
    assert settings.proxy_allowed_feature_services == ["sms_features_1", "sms_features_2"]
    assert settings.feature_server_url == "http://127.0.0.1:6566"


def test_settings_read_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROXY_ALLOWED_FEATURE_SERVICES", " sms_features_2 ,, sms_features_2")
    monkeypatch.setenv("FEATURE_SERVER_URL", "http://10.0.0.5:6566/")
    monkeypatch.setenv("CORS_ORIGINS", "http://127.0.0.1:8080/, https://inbox.example.com")
    settings = FeatureProxySettings()
    assert settings.proxy_allowed_feature_services == ["sms_features_2"]
    assert settings.feature_server_url == "http://10.0.0.5:6566"
    assert settings.cors_origins == ["http://127.0.0.1:8080", "https://inbox.example.com"]


@pytest.mark.parametrize("services", ["sms_features_1,labeled_sms_1", "LABELED_sms_2", "sms_labels", " , "])
def test_settings_label_service_or_empty_allow_list_is_rejected(services: str) -> None:
    with pytest.raises(ValidationError, match="PROXY_ALLOWED_FEATURE_SERVICES"):
        FeatureProxySettings(proxy_allowed_feature_services=services)


@pytest.mark.parametrize("origins", ["127.0.0.1:8080", "http://host/path", "ftp://host"])
def test_settings_malformed_cors_origin_is_rejected(origins: str) -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        FeatureProxySettings(cors_origins=origins)


def test_settings_empty_cors_origins_disables_cors() -> None:
    assert FeatureProxySettings(cors_origins="").cors_origins == []
