"""Feature-proxy fixtures: the app in front of a real fake upstream on a loopback port, and a real `feast serve`."""

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from fastapi.testclient import TestClient

# `api.feature_proxy.main` builds its module-level app from the environment at import time.
os.environ.setdefault("SPAMOPS_API_KEY", "test-api-key")

from api.feature_proxy.main import create_app
from api.feature_proxy.settings import FeatureProxySettings
from ops.topology import feature_server
from tests.fixtures.fake_upstream import FakeUpstream, running_upstream
from tests.fixtures.processes import free_port, running

WEB_ORIGIN = "http://127.0.0.1:8080"
# Short budgets keep the timeout cases quick; slow handlers sleep far longer.
TIMEOUT_SECONDS = 0.5
CONNECT_TIMEOUT_SECONDS = 0.2
ProxyFor = Callable[..., TestClient]
# The page's backend reads features with a read key; a write-only key is refused.
KEYS = "web:web-key:read,telco:telco-key:write"
AUTH = {"X-API-Key": "web-key"}


async def online_features(request: web.Request) -> web.StreamResponse:
    """What `feast serve` answers: health, and a column-wise result for /get-online-features."""
    if request.path == "/health":
        return web.Response()
    body = {
        "metadata": {"feature_names": ["sms_id", "features"]},
        "results": [
            {"values": ["sms1"], "statuses": ["PRESENT"], "event_timestamps": ["1970-01-01T00:00:00Z"]},
            {"values": [[5, 6, 7]], "statuses": ["PRESENT"], "event_timestamps": ["2020-06-01T00:00:00Z"]},
        ],
    }
    return web.json_response(body)


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with running_upstream(online_features) as server:
        yield server


@pytest.fixture
def proxy_for() -> Iterator[ProxyFor]:
    """Start the proxy in front of any URL (settings overridable); every one started is stopped at teardown."""
    with contextlib.ExitStack() as stack:

        def start(url: str, **overrides: Any) -> TestClient:
            defaults: dict[str, Any] = {"proxy_timeout_seconds": TIMEOUT_SECONDS,
                                        "proxy_connect_timeout_seconds": CONNECT_TIMEOUT_SECONDS}
            settings = FeatureProxySettings(
                feature_server_url=url, cors_origins=WEB_ORIGIN, logs_fraction=1.0, spamops_api_keys=KEYS,
                **{**defaults, **overrides},
            )
            client = TestClient(create_app(settings), raise_server_exceptions=False, headers=AUTH)
            return stack.enter_context(client)

        yield start


@pytest.fixture
def client(upstream: FakeUpstream, proxy_for: ProxyFor) -> TestClient:
    # upstream first, so it is stopped after the proxy in front of it
    return proxy_for(upstream.url)


@pytest.fixture(scope="session")
def live_feature_server_url(feast_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `feast serve` over the session's applied and materialized repository."""
    service = feature_server(port=free_port(), repo=feast_repo)
    with running(service, tmp_path_factory.mktemp("proxy_run")) as started:
        yield started.url
