"""Inbox settings: one class, read from the environment and `.env`."""

from functools import lru_cache

from pydantic import Field

from api.common.auth import ApiKeySettings
from api.common.settings import BaseServiceSettings, ServiceUrl


class InboxSettings(BaseServiceSettings, ApiKeySettings):
    user_data_url: ServiceUrl = "http://127.0.0.1:8111"
    model_serving_url: ServiceUrl = "http://127.0.0.1:8000"
    feature_server_url: ServiceUrl = "http://127.0.0.1:6566"

    # Every outbound call: per-attempt timeouts, then a bounded number of attempts within a deadline.
    upstream_timeout_seconds: float = Field(default=2.0, gt=0)
    upstream_connect_timeout_seconds: float = Field(default=0.5, gt=0)
    upstream_attempts: int = Field(default=3, ge=1, le=10)
    upstream_max_seconds: float = Field(default=5.0, gt=0)
    # Attempts per push in the request path before the answer is 202 (the push stays pending).
    push_attempts: int = Field(default=2, ge=1, le=10)

    # Concurrent messages share one store and one features call, and their rows share pushes
    # (api.common.batching): up to `ingest_batches_in_flight` stores at once, one push at a time.
    ingest_batch_max: int = Field(default=64, ge=1, le=500)
    ingest_batches_in_flight: int = Field(default=2, ge=1, le=32)
    push_batch_max: int = Field(default=256, ge=1, le=1000)

    # The recovery loop: pending pushes older than min_age are completed every interval.
    recovery_interval_seconds: float = Field(default=1.0, gt=0)
    recovery_min_age_seconds: float = Field(default=2.0, ge=0)
    recovery_batch_size: int = Field(default=256, ge=1, le=500)
    recovery_max_backoff_seconds: float = Field(default=5.0, gt=0)


@lru_cache
def get_settings() -> InboxSettings:
    return InboxSettings()  # type: ignore[call-arg]  # SPAMOPS_API_KEY comes from the environment
