"""The page's runtime configuration, served as `/config.json`: no URLs and no keys, the page calls its own origin."""

from typing import Literal

from pydantic import BaseModel

from api.web.settings import WebSettings


class WebConfig(BaseModel):
    architecture: Literal["I", "II"]
    model_version: str
    feature_service: str
    feature_name: str
    fetch_timeout_ms: int

    @classmethod
    def from_settings(cls, settings: WebSettings) -> "WebConfig":
        return cls(
            architecture=settings.web_architecture,
            model_version=settings.web_model_version,
            feature_service=settings.web_feature_service,
            feature_name=settings.web_feature_name,
            fetch_timeout_ms=settings.web_fetch_timeout_ms,
        )
