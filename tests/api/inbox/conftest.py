"""The inbox app against its three upstreams faked by one real HTTP server (tests.fixtures.fake_upstream).

The fake user-data keeps messages, pending pushes and idempotency keys in memory with the contract of
`POST /batch/sms`, `GET /pending` and `POST /pending/clear`, batch limit included; each upstream can be
switched to fail.
"""

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from fastapi.testclient import TestClient

# `api.inbox.main` builds its module-level app from the environment at import time.
os.environ.setdefault("SPAMOPS_API_KEY", "test-api-key")

from api.inbox.main import create_app
from api.inbox.settings import InboxSettings
from contract.routes import USER_DATA_BATCH_MAX
from tests.fixtures.fake_upstream import running_upstream

API_KEY = "shared-key"  # the shared (admin) key, which the tests post with
AUTH = {"X-API-Key": API_KEY}
INBOX_KEY = "inbox-own-key"  # what the inbox sends upstream, under its own name
SCOPED_KEYS = f"inbox:{INBOX_KEY}:read+write,telco:telco-key:write,web:web-key:read"
FEATURES = list(range(2, 32))


@dataclass
class FakeUpstreams:
    user_data_status: int = 200
    features_status: int = 200
    push_status: int = 200
    offline_push_status: int = 200  # pushes that write the offline store
    messages: dict[str, dict] = field(default_factory=dict)
    pending: dict[str, dict] = field(default_factory=dict)
    keys: dict[str, tuple[str, tuple]] = field(default_factory=dict)
    pushes: list[dict] = field(default_factory=list)
    store_calls: list[dict] = field(default_factory=list)
    feature_calls: int = 0
    feature_keys: list[str | None] = field(default_factory=list)
    push_attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        routes = {"/batch/sms": self._store, "/pending": self._pending, "/pending/clear": self._clear,
                  "/model/v2/text_to_features_batch": self._features, "/push": self._push}
        return await routes[request.path](request)

    async def _store(self, request: web.Request) -> web.Response:
        body = await request.json()
        if len(body["items"]) > USER_DATA_BATCH_MAX:
            return web.json_response({"detail": "too many items"}, status=413)
        with self.lock:
            self.store_calls.append({"body": body, "api_key": request.headers.get("X-API-Key")})
            if self.user_data_status != 200:
                return web.json_response({"detail": "failing"}, status=self.user_data_status)
            return web.json_response({"items": [self._store_one(item) for item in body["items"]]})

    def _store_one(self, item: dict) -> dict:
        fingerprint = (item["user_id"], item["sender_id"], item["sms_text"])
        if (key := item["idempotency_key"]) is not None and key in self.keys:
            sms_id, known = self.keys[key]
            if known != fingerprint:
                return {"sms_id": sms_id, "status": "key_conflict", "pending": sms_id in self.pending}
            return {"sms_id": sms_id, "status": "replayed", "pending": sms_id in self.pending}
        if key is not None:
            self.keys[key] = (item["sms_id"], fingerprint)
        self.messages[item["sms_id"]] = item
        self.pending[item["sms_id"]] = {"sms_id": item["sms_id"], "user_id": item["user_id"],
                                        "sms_text": item["sms_text"], "features": item["features"]}
        return {"sms_id": item["sms_id"], "status": "created", "pending": True}

    async def _pending(self, request: web.Request) -> web.Response:
        with self.lock:
            items = list(self.pending.values())[: int(request.query["limit"])]
        return web.json_response({"items": items})

    async def _clear(self, request: web.Request) -> web.Response:
        body = await request.json()
        if len(body["sms_ids"]) > USER_DATA_BATCH_MAX:
            return web.json_response({"detail": "too many ids"}, status=413)
        with self.lock:
            for sms_id in body["sms_ids"]:
                self.pending.pop(sms_id, None)
        return web.Response(status=204)

    async def _features(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self.lock:
            self.feature_calls += 1
            self.feature_keys.append(request.headers.get("X-API-Key"))
        if self.features_status != 200:
            return web.json_response({"detail": "failing"}, status=self.features_status)
        return web.json_response({"features": [FEATURES for _ in body["texts"]]})

    async def _push(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self.lock:
            self.push_attempts += 1
            statuses = ([] if body["to"] == "offline" else [self.push_status]) + (
                [self.offline_push_status] if "offline" in body["to"] else [])
            status = next((s for s in statuses if s != 200), 200)
            if status == 200:
                self.pushes.append(body)
        return web.json_response(None, status=status)

    def pushed_ids(self, *targets: str) -> list[str]:
        """The ids of every successful push, or of those to the `targets` given (e.g. "offline")."""
        with self.lock:
            return [sms_id for push in self.pushes if not targets or push["to"] in targets
                    for sms_id in push["df"]["sms_id"]]

    def offline_ids(self) -> list[str]:
        return self.pushed_ids("offline", "online_and_offline")


@pytest.fixture
def upstreams() -> Iterator[FakeUpstreams]:
    fake = FakeUpstreams()
    with running_upstream(fake.handle) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def inbox_settings(upstreams: FakeUpstreams) -> InboxSettings:
    return InboxSettings(
        spamops_api_key=API_KEY,
        spamops_api_keys=SCOPED_KEYS,
        user_data_url=upstreams.url,
        model_serving_url=upstreams.url,
        feature_server_url=upstreams.url,
        upstream_attempts=2,
        push_attempts=1,
        recovery_interval_seconds=0.05,
        recovery_min_age_seconds=0.2,
        recovery_max_backoff_seconds=0.1,
        offline_linger_seconds=0.02,
        logs_fraction=0.0,
    )


@pytest.fixture
def client(inbox_settings: InboxSettings) -> Iterator[TestClient]:
    with TestClient(create_app(inbox_settings), raise_server_exceptions=False) as test_client:
        yield test_client


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
