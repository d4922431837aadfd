"""Web-client settings: where the page's backend finds the services, and which architecture the page uses."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator

from api.common.auth import ApiKeySettings, outbound_api_key
from api.common.settings import BaseServiceSettings, ServiceUrl
from contract.feature_store import FEATURES2, V2_FIELD


class WebSettings(BaseServiceSettings, ApiKeySettings):
    # Called by this server, never by the browser: the page talks only to its own origin, and this
    # server adds the `web` key, so no key ever reaches the page.
    user_data_url: ServiceUrl = "http://127.0.0.1:8111"
    model_serving_url: ServiceUrl = "http://127.0.0.1:8000"
    feature_proxy_url: ServiceUrl = "http://127.0.0.1:8999"
    # The name whose key (from SPAMOPS_API_KEYS, else the shared key) this server sends upstream.
    web_caller_name: str = "web"
    upstream_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    upstream_connect_timeout_seconds: float = Field(default=0.5, gt=0, le=60)
    # I: the page sends the text (text_to_prediction). II: it reads stored features through the proxy
    # (features_to_prediction), and falls back to I when they are missing or the proxy fails.
    web_architecture: Literal["I", "II"] = "I"
    web_model_version: str = Field(default="v3", pattern=r"^v[0-9]{1,3}$")
    # Architecture II reads the v2 token ids, the inputs of models v2 and v3.
    web_feature_service: str = FEATURES2.online_service
    web_feature_name: str = V2_FIELD
    # Per-call budget in the browser (AbortController); a fallback still fits in a few seconds.
    web_fetch_timeout_ms: int = Field(default=3000, ge=100, le=60_000)

    @field_validator("web_architecture", mode="before")
    @classmethod
    def _upper_architecture(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _architecture_fits_model(self) -> "WebSettings":
        if self.web_architecture == "II" and self.web_model_version == "v1":
            raise ValueError("WEB_ARCHITECTURE=II reads v2 token ids; set WEB_MODEL_VERSION to v2 or v3")
        return self

    @model_validator(mode="after")
    def _has_outbound_key(self) -> "WebSettings":
        outbound_api_key(self, self.web_caller_name)  # refuses start-up naming the missing caller
        return self


@lru_cache
def get_settings() -> WebSettings:
    return WebSettings()  # type: ignore[call-arg]  # the API keys come from the environment
