"""Feature-proxy settings: one class, read from the environment and `.env`."""

from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from api.common.auth import ApiKeySettings
from api.common.settings import BaseServiceSettings, ServiceUrl, split_csv
from contract.feature_store import ONLINE_SERVICES


class FeatureProxySettings(BaseServiceSettings, ApiKeySettings):
    feature_server_url: ServiceUrl = "http://127.0.0.1:6566"
    # PROXY_ALLOWED_FEATURE_SERVICES="sms_features_1, sms_features_2": exact names, nothing else is served.
    proxy_allowed_feature_services: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(ONLINE_SERVICES)
    )
    # Total budget per upstream call; kept short because the page falls back to architecture I.
    proxy_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    proxy_connect_timeout_seconds: float = Field(default=0.5, gt=0, le=60)
    proxy_max_connections: int = Field(default=100, ge=1)
    # A maximal request (4 keys x 100 ids of 200 chars) is ~85 kB; anything bigger is not ours.
    max_body_bytes: int = Field(default=128_000, ge=1024)

    @field_validator("proxy_allowed_feature_services", mode="before")
    @classmethod
    def _split_services(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("proxy_allowed_feature_services")
    @classmethod
    def _no_label_services(cls, value: list[str]) -> list[str]:
        # The proxy cannot see the registry, so it relies on the repository's naming: label-bearing
        # services are called labeled_*. Refusing them here turns a config slip into a start-up error.
        if not value:
            raise ValueError("PROXY_ALLOWED_FEATURE_SERVICES is empty; the proxy would refuse every request")
        labelled = [name for name in value if "label" in name.lower()]
        if labelled:
            raise ValueError(f"PROXY_ALLOWED_FEATURE_SERVICES must not expose labels: {', '.join(labelled)}")
        return list(dict.fromkeys(value))


@lru_cache
def get_settings() -> FeatureProxySettings:
    return FeatureProxySettings()  # type: ignore[call-arg]  # the API keys come from the environment
