"""User-data settings: one class, read from the environment and `.env`."""

from functools import lru_cache

from pydantic import Field

from api.common.auth import ApiKeySettings
from api.common.settings import BaseServiceSettings
from contract.routes import USER_DATA_BATCH_MAX

MAX_TEXT_LENGTH = 5_000  # characters, as model serving accepts
MAX_PAGE_SIZE = 100
MAX_PENDING_PAGE = 1_000
DAY_SECONDS = 86_400
# The oldest age `GET /pending?older_than_seconds=` may ask for: any more could not be a date.
MAX_PENDING_AGE_SECONDS = 100 * 365 * DAY_SECONDS


class UserDataSettings(BaseServiceSettings, ApiKeySettings):
    default_page_size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)
    # Items in one POST /batch/sms or POST /pending/clear; more is a 413.
    max_batch_size: int = Field(default=USER_DATA_BATCH_MAX, ge=1)
    # A full batch of the longest texts (MAX_TEXT_LENGTH characters, up to 4 bytes each) must fit.
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    # How long a retry with the same Idempotency-Key is answered with the first sms_id.
    idempotency_ttl_seconds: int = Field(default=DAY_SECONDS, ge=1)


@lru_cache
def get_settings() -> UserDataSettings:
    return UserDataSettings()  # type: ignore[call-arg]  # SPAMOPS_API_KEY comes from the environment
