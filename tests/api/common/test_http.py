"""The shared HTTP client against a real upstream on a loopback port: timeouts set, bounded retries on
transient failures only, timeouts told apart from unreachable upstreams."""

import asyncio
from collections.abc import Iterator

import pytest
from aiohttp import web

from api.common.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from api.common.http import (
    CLIENT_KEEPALIVE_SECONDS,
    SERVER_KEEPALIVE_SECONDS,
    make_http_client,
    send,
    send_with_retries,
)
from tests.fixtures.fake_upstream import FakeUpstream, Handler, answer, refusing_url, running_upstream, slow

TIMEOUT_SECONDS = 0.3


def statuses(*codes: int) -> Handler:
    """Answer with these statuses in turn (JSON bodies)."""
    remaining = iter(codes)

    async def handler(_: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True}, status=next(remaining))

    return handler


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with running_upstream(answer(200, json={"ok": True})) as server:
        yield server


async def test_make_http_client_sets_timeouts_and_pool_size() -> None:
    session = make_http_client(timeout_seconds=1.5, connect_timeout_seconds=0.5, max_connections=7)
    async with session:
        assert session.timeout.total == 1.5 and session.timeout.sock_connect == 0.5
        assert session.connector is not None and session.connector.limit == 7


async def client_port(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]


async def test_pool_reuses_a_connection_but_drops_it_before_the_server_would() -> None:
    assert CLIENT_KEEPALIVE_SECONDS < SERVER_KEEPALIVE_SECONDS
    with running_upstream(client_port) as server:
        async with make_http_client() as session:
            first = (await send(session, "GET", server.url)).json()
            assert (await send(session, "GET", server.url)).json() == first  # kept alive
            await asyncio.sleep(CLIENT_KEEPALIVE_SECONDS + 0.2)
            assert (await send(session, "GET", server.url)).json() != first  # a new one


async def test_send_passes_body_query_and_headers_and_reads_the_whole_answer(upstream: FakeUpstream) -> None:
    async with make_http_client() as session:
        response = await send(session, "POST", upstream.url + "/x", json={"a": [1]}, params={"q": "1"},
                              headers={"X-Trace": "t1"})
    assert (response.status_code, response.json()) == (200, {"ok": True})
    [seen] = upstream.requests
    assert (seen.method, seen.path, seen.query, seen.body) == ("POST", "/x", {"q": "1"}, b'{"a": [1]}')
    assert seen.headers["X-Trace"] == "t1" and seen.headers["Content-Type"] == "application/json"


async def test_send_makes_one_attempt(upstream: FakeUpstream) -> None:
    upstream.handler = answer(503)
    async with make_http_client() as session:
        assert (await send(session, "GET", upstream.url + "/x")).status_code == 503
    assert len(upstream.requests) == 1


async def test_retries_transient_status_then_succeeds(upstream: FakeUpstream) -> None:
    upstream.handler = statuses(503, 502, 200)
    async with make_http_client() as session:
        response = await send_with_retries(session, "GET", upstream.url + "/x", attempts=3)
    assert response.status_code == 200 and len(upstream.requests) == 3


async def test_gives_up_after_bounded_attempts(upstream: FakeUpstream) -> None:
    upstream.handler = answer(503)
    async with make_http_client() as session:
        with pytest.raises(UpstreamError, match=r"127\.0\.0\.1 answered 503"):
            await send_with_retries(session, "GET", upstream.url + "/x", attempts=2)
    assert len(upstream.requests) == 2


async def test_does_not_retry_client_errors(upstream: FakeUpstream) -> None:
    upstream.handler = answer(404, json={"detail": "nope"})
    async with make_http_client() as session:
        response = await send_with_retries(session, "GET", upstream.url + "/x", attempts=3)
    assert response.status_code == 404 and len(upstream.requests) == 1


async def test_unreachable_upstream_raises_unavailable_not_timeout() -> None:
    with refusing_url() as url:
        async with make_http_client() as session:
            with pytest.raises(UpstreamUnavailable, match=r"127\.0\.0\.1 is unreachable") as raised:
                await send_with_retries(session, "GET", url + "/x", attempts=2)
    assert not isinstance(raised.value, UpstreamTimeout)


async def test_timeout_raises_upstream_timeout_still_a_503_and_is_retried(upstream: FakeUpstream) -> None:
    upstream.handler = slow
    async with make_http_client(timeout_seconds=TIMEOUT_SECONDS) as session:
        with pytest.raises(UpstreamTimeout, match=r"127\.0\.0\.1 timed out") as raised:
            await send_with_retries(session, "GET", upstream.url + "/x", attempts=2)
    # The inbox maps every UpstreamUnavailable to 503; a timeout must stay one.
    assert isinstance(raised.value, UpstreamUnavailable) and raised.value.status_code == 503
    assert len(upstream.requests) == 2
