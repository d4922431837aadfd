"""The shared HTTP client: timeouts set, bounded retries on transient failures only."""

import httpx
import pytest

from api.common.errors import UpstreamError, UpstreamUnavailable
from api.common.http import make_http_client, send_with_retries


def _client(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler, base_url="http://upstream")


async def test_make_http_client_sets_timeouts() -> None:
    async with make_http_client(base_url="http://x", timeout_seconds=1.5, connect_timeout_seconds=0.5) as client:
        assert client.timeout.read == 1.5 and client.timeout.connect == 0.5


async def test_retries_transient_status_then_succeeds() -> None:
    statuses = iter([503, 502, 200])
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(next(statuses), json={"ok": True})

    async with _client(httpx.MockTransport(handler)) as client:
        response = await send_with_retries(client, client.build_request("GET", "/x"), attempts=3)
    assert response.status_code == 200 and len(calls) == 3


async def test_gives_up_after_bounded_attempts() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503)

    async with _client(httpx.MockTransport(handler)) as client:
        with pytest.raises(UpstreamError, match="upstream answered 503"):
            await send_with_retries(client, client.build_request("GET", "/x"), attempts=2)
    assert len(calls) == 2


async def test_does_not_retry_client_errors() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404, json={"detail": "nope"})

    async with _client(httpx.MockTransport(handler)) as client:
        response = await send_with_retries(client, client.build_request("GET", "/x"), attempts=3)
    assert response.status_code == 404 and len(calls) == 1


async def test_unreachable_upstream_raises_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with _client(httpx.MockTransport(handler)) as client:
        with pytest.raises(UpstreamUnavailable, match="upstream is unreachable"):
            await send_with_retries(client, client.build_request("GET", "/x"), attempts=2)


async def test_timeout_raises_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with _client(httpx.MockTransport(handler)) as client:
        with pytest.raises(UpstreamUnavailable, match="upstream timed out"):
            await send_with_retries(client, client.build_request("GET", "/x"), attempts=2)
