"""Inbox settings: one class, read from the environment and `.env`."""

from functools import lru_cache
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_settings import NoDecode

from api.common.auth import ApiKeySettings, outbound_api_key
from api.common.settings import BaseServiceSettings, ServiceUrl
from contract.routes import USER_DATA_BATCH_MAX


class InboxSettings(BaseServiceSettings, ApiKeySettings):
    # The name whose key (from SPAMOPS_API_KEYS, else the shared key) the inbox sends to user-data and
    # model serving.
    inbox_caller_name: str = "inbox"
    user_data_url: ServiceUrl = "http://127.0.0.1:8111"
    model_serving_url: ServiceUrl = "http://127.0.0.1:8000"
    feature_server_url: ServiceUrl = "http://127.0.0.1:6566"
    # A sender's webhook calls the inbox, never the inbox page: no browser origin is trusted unless set.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Every outbound call: per-attempt timeouts, then a bounded number of attempts within a deadline.
    upstream_timeout_seconds: float = Field(default=2.0, gt=0)
    upstream_connect_timeout_seconds: float = Field(default=0.5, gt=0)
    upstream_attempts: int = Field(default=3, ge=1, le=10)
    upstream_max_seconds: float = Field(default=5.0, gt=0)
    # Attempts per push in the request path before the answer is 202 (the push stays pending).
    push_attempts: int = Field(default=2, ge=1, le=10)

    # Concurrent messages share one store call, one features call and one online push (api.common.batching):
    # up to `ingest_batches_in_flight` such batches at once. One store call holds a whole batch.
    ingest_batch_max: int = Field(default=USER_DATA_BATCH_MAX, ge=1, le=USER_DATA_BATCH_MAX)
    ingest_batches_in_flight: int = Field(default=2, ge=1, le=32)
    # Under concurrency only, a store batch waits up to this long for the callers just answered (api.common.batching).
    ingest_linger_seconds: float = Field(default=0.003, ge=0, le=0.05)
    # Several workers share one batcher, the first's (api.inbox.peers), so their batches are as large as one
    # worker's. The topology turns it on; off by default, so apps made in one test process never join each other.
    ingest_share_batches: bool = False
    # Offline writes follow the answer: one at a time, each collecting the rows of `offline_linger_seconds`.
    # Their rows stay pending until written, so this delays the offline row, never loses it. An offline push
    # costs `feast serve` ~4 ms of CPU plus ~0.05 ms a row: 1 s rather than 0.25 s took 8-13 % off its CPU per
    # message at 16 clients (docs/benchmarks.md), and stays below RECOVERY_MIN_AGE_SECONDS.
    offline_batch_max: int = Field(default=1000, ge=1, le=5000)
    offline_linger_seconds: float = Field(default=1.0, ge=0, le=5)

    # The recovery loop: pending pushes older than min_age are completed every interval.
    recovery_interval_seconds: float = Field(default=1.0, gt=0)
    recovery_min_age_seconds: float = Field(default=2.0, ge=0)
    recovery_batch_size: int = Field(default=256, ge=1, le=500)
    recovery_max_backoff_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _has_outbound_key(self) -> "InboxSettings":
        outbound_api_key(self, self.inbox_caller_name)  # refuses start-up naming the missing caller
        return self


@lru_cache
def get_settings() -> InboxSettings:
    return InboxSettings()  # type: ignore[call-arg]  # SPAMOPS_API_KEY comes from the environment
