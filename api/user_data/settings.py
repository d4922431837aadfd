"""User-data settings: one class, read from the environment and `.env`."""

from functools import lru_cache

from pydantic import Field

from api.common.auth import ApiKeySettings
from api.common.settings import BaseServiceSettings

MAX_TEXT_LENGTH = 5_000  # characters, as model serving accepts
MAX_ID_LENGTH = 128
MAX_PAGE_SIZE = 100


class UserDataSettings(BaseServiceSettings, ApiKeySettings):
    default_page_size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)


@lru_cache
def get_settings() -> UserDataSettings:
    return UserDataSettings()  # type: ignore[call-arg]  # SPAMOPS_API_KEY comes from the environment
