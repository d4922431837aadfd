"""User-data app over SQLite in tmp, with a known API key."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

# `api.user_data.main` builds its module-level app from the environment at import time.
os.environ.setdefault("SPAMOPS_API_KEY", "test-api-key")

from api.user_data.main import create_app
from api.user_data.settings import UserDataSettings

API_KEY = "s3cret-key"
AUTH = {"X-API-Key": API_KEY}


@pytest.fixture
def user_data_settings(tmp_path: Path) -> UserDataSettings:
    return UserDataSettings(spamops_api_key=API_KEY, sqlite_path=tmp_path / "app.db", default_page_size=3,
                            logs_fraction=0.0)


@pytest.fixture
def client(user_data_settings: UserDataSettings) -> Iterator[TestClient]:
    with TestClient(create_app(user_data_settings), raise_server_exceptions=False) as test_client:
        yield test_client
