"""User-data app over SQLite in tmp, with known API keys: `client` sends the shared (admin) key, `anonymous`
sends none."""

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
# One caller per scope the routes distinguish.
KEYS = {"web": "web-key", "inbox": "inbox-key", "telco": "telco-key", "fiona": "fiona-key"}
SCOPED_KEYS = "web:web-key:read,inbox:inbox-key:read+write,telco:telco-key:write,fiona:fiona-key:read@fiona"


@pytest.fixture
def user_data_settings(tmp_path: Path) -> UserDataSettings:
    return UserDataSettings(spamops_api_key=API_KEY, spamops_api_keys=SCOPED_KEYS, sqlite_path=tmp_path / "app.db",
                            default_page_size=3, logs_fraction=0.0)


@pytest.fixture
def client(user_data_settings: UserDataSettings) -> Iterator[TestClient]:
    app = create_app(user_data_settings)
    with TestClient(app, raise_server_exceptions=False, headers=AUTH) as test_client:
        yield test_client


@pytest.fixture
def anonymous(client: TestClient) -> TestClient:
    """The same app (already started by `client`), without a key."""
    return TestClient(client.app, raise_server_exceptions=False)
