"""Inbox app with its three upstreams faked behind one httpx.MockTransport."""

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

# `api.inbox.main` builds its module-level app from the environment at import time.
os.environ.setdefault("SPAMOPS_API_KEY", "test-api-key")

from api.inbox.main import create_app
from api.inbox.settings import InboxSettings

API_KEY = "inbox-key"
AUTH = {"X-API-Key": API_KEY}
FEATURES = list(range(2, 32))


@dataclass
class FakeUpstreams:
    """user-data, model serving and feast serve in one handler; each can be switched to fail."""

    user_data_status: int = 201
    features_status: int = 200
    push_status: int = 200
    push_unreachable: bool = False
    stored: list[dict] = field(default_factory=list)
    store_headers: list[httpx.Headers] = field(default_factory=list)
    pushes: list[dict] = field(default_factory=list)
    push_attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        with self.lock:
            if request.url.host == "user-data":
                return self._store(request, body)
            if request.url.host == "model-serving":
                return httpx.Response(self.features_status, json={"features": FEATURES, "from_cache": False})
            return self._push(request, body)

    def _store(self, request: httpx.Request, body: dict) -> httpx.Response:
        self.store_headers.append(request.headers)
        if self.user_data_status == 201:
            self.stored.append({"user_id": request.url.path.rsplit("/", 1)[1], **body})
        return httpx.Response(self.user_data_status, json={"successful": True, "msg": "stored",
                                                           "sms_id": body["sms_id"]})

    def _push(self, request: httpx.Request, body: dict) -> httpx.Response:
        self.push_attempts += 1
        if self.push_unreachable:
            raise httpx.ConnectError("connection refused", request=request)
        if self.push_status == 200:
            self.pushes.append(body)
        return httpx.Response(self.push_status)

    def pushed_ids(self) -> list[str]:
        return [sms_id for push in self.pushes for sms_id in push["df"]["sms_id"]]


@pytest.fixture
def upstreams() -> FakeUpstreams:
    return FakeUpstreams()


@pytest.fixture
def inbox_settings(tmp_path: Path) -> InboxSettings:
    return InboxSettings(
        spamops_api_key=API_KEY,
        user_data_url="http://user-data",
        model_serving_url="http://model-serving",
        feature_server_url="http://feature-server",
        feature_repo_path=tmp_path / "repo",
        upstream_attempts=2,
        push_attempts=1,
        retry_initial_seconds=0.01,
        retry_max_seconds=0.05,
        offline_flush_seconds=0.05,
        logs_fraction=0.0,
    )


@pytest.fixture
def client(inbox_settings: InboxSettings, upstreams: FakeUpstreams) -> Iterator[TestClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(upstreams.handle), timeout=1.0)
    with TestClient(create_app(inbox_settings, client=http), raise_server_exceptions=False) as test_client:
        yield test_client
