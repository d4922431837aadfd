"""Feature-proxy fixtures: the app over a fake upstream (httpx.MockTransport), and a real `feast serve`."""

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.feature_proxy.main import create_app
from api.feature_proxy.settings import FeatureProxySettings
from ops.topology import feature_server
from tests.fixtures.processes import free_port, running

Handler = Callable[[httpx.Request], httpx.Response]
FAKE_UPSTREAM = "http://feature-server.test"
WEB_ORIGIN = "http://127.0.0.1:8080"


class FakeFeatureServer:
    """Answers like `feast serve`; tests swap `handler` to simulate failures. Records what reached it."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = self.online_features

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    @staticmethod
    def online_features(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200)
        body = {
            "metadata": {"feature_names": ["sms_id", "features"]},
            "results": [
                {"values": ["sms1"], "statuses": ["PRESENT"], "event_timestamps": ["1970-01-01T00:00:00Z"]},
                {"values": [[5, 6, 7]], "statuses": ["PRESENT"], "event_timestamps": ["2020-06-01T00:00:00Z"]},
            ],
        }
        return httpx.Response(200, json=body)


@pytest.fixture
def proxy_settings() -> FeatureProxySettings:
    return FeatureProxySettings(feature_server_url=FAKE_UPSTREAM, cors_origins=WEB_ORIGIN, logs_fraction=1.0)


@pytest.fixture
def upstream() -> FakeFeatureServer:
    return FakeFeatureServer()


@pytest.fixture
def client(proxy_settings: FeatureProxySettings, upstream: FakeFeatureServer) -> Iterator[TestClient]:
    fake = httpx.AsyncClient(transport=httpx.MockTransport(upstream), base_url=FAKE_UPSTREAM)
    with TestClient(create_app(proxy_settings, client=fake), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_feature_server_url(feast_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `feast serve` over the session's applied and materialized repository."""
    service = feature_server(port=free_port(), repo=feast_repo)
    with running(service, tmp_path_factory.mktemp("proxy_run")) as started:
        yield started.url
