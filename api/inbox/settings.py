"""Inbox settings: one class, read from the environment and `.env`."""

from functools import lru_cache

from pydantic import Field

from api.common.auth import ApiKeySettings
from api.common.settings import BaseServiceSettings, FeatureRepoSettings, ServiceUrl


# The offline part files go to <feature_repo_path>/data/sms_features2/ (same repo as `feast serve`).
class InboxSettings(BaseServiceSettings, FeatureRepoSettings, ApiKeySettings):
    user_data_url: ServiceUrl = "http://127.0.0.1:8111"
    model_serving_url: ServiceUrl = "http://127.0.0.1:8000"
    feature_server_url: ServiceUrl = "http://127.0.0.1:6566"

    # Every outbound call: per-attempt timeouts, then a bounded number of attempts within a deadline.
    upstream_timeout_seconds: float = Field(default=2.0, gt=0)
    upstream_connect_timeout_seconds: float = Field(default=0.5, gt=0)
    upstream_attempts: int = Field(default=3, ge=1, le=10)
    upstream_max_seconds: float = Field(default=5.0, gt=0)
    # Attempts per push (request path and retrier alike) before the rows are (re)queued; 202 in the request path.
    push_attempts: int = Field(default=2, ge=1, le=10)

    # The background retrier: exponential backoff between attempts, capped, retrying until success.
    retry_initial_seconds: float = Field(default=0.2, gt=0)
    retry_max_seconds: float = Field(default=5.0, gt=0)
    # Most rows in one `/push` (concurrent messages and queued ones are pushed together, one push at a time).
    push_batch_rows: int = Field(default=256, ge=1)

    offline_flush_seconds: float = Field(default=0.5, gt=0)
    offline_flush_rows: int = Field(default=1000, ge=1)


@lru_cache
def get_settings() -> InboxSettings:
    return InboxSettings()  # type: ignore[call-arg]  # SPAMOPS_API_KEY comes from the environment
