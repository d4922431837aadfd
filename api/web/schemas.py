"""The page's runtime configuration, served as `/config.json`."""

from typing import Literal

from pydantic import BaseModel

from api.web.settings import WebSettings


class WebConfig(BaseModel):
    user_data_url: str
    model_serving_url: str
    feature_proxy_url: str
    architecture: Literal["I", "II"]
    model_version: str
    feature_service: str
    feature_name: str
    fetch_timeout_ms: int

    @classmethod
    def from_settings(cls, settings: WebSettings) -> "WebConfig":
        return cls(
            user_data_url=settings.user_data_url,
            model_serving_url=settings.model_serving_url,
            feature_proxy_url=settings.feature_proxy_url,
            architecture=settings.web_architecture,
            model_version=settings.web_model_version,
            feature_service=settings.web_feature_service,
            feature_name=settings.web_feature_name,
            fetch_timeout_ms=settings.web_fetch_timeout_ms,
        )
