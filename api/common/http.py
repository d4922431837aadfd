"""The shared outbound HTTP client: aiohttp, explicit timeouts, pooled keep-alive connections, bounded retries.

aiohttp on evidence: at 16 concurrent requests httpx spent ~1.9-2.5 ms of
CPU per request against a trivial server, aiohttp ~0.2-0.3 ms (`scripts/bench_http_clients.py`,
docs/benchmarks.md); on 2 cores the inbox's upstream calls would otherwise cost more than the work.

Create one session per process inside its event loop (the service's lifespan, `make_http_client`)
and close it there; wrap calls that are safe to repeat in `send_with_retries`.
"""

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential_jitter
from yarl import URL

from api.common.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({502, 503, 504})
# Our services (uvicorn, api.common.serve) close a connection idle this long; `feast serve` after 30 s. The
# pool drops an idle connection sooner, so that no request goes out on one the server is closing at that
# moment: it fails as unreachable (CI saw it once, the web backend's call to the feature proxy).
SERVER_KEEPALIVE_SECONDS = 5
CLIENT_KEEPALIVE_SECONDS = 4.0


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A whole response, read: connections go back to the pool at once."""

    status_code: int
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)  # case-insensitive when from aiohttp

    def json(self) -> Any:
        return json.loads(self.content)


def make_http_client(
    *, timeout_seconds: float = 2.0, connect_timeout_seconds: float = 1.0, max_connections: int = 100,
) -> aiohttp.ClientSession:
    """One session per process; `timeout_seconds` bounds each whole attempt, connect included."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_seconds, sock_connect=connect_timeout_seconds),
        connector=aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=CLIENT_KEEPALIVE_SECONDS),
    )


async def send(session: aiohttp.ClientSession, method: str, url: str, *, json: Any = None,
               params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> HttpResponse:
    """One attempt. Raises UpstreamTimeout (an UpstreamUnavailable) when the session's budget runs out
    (connect, pool wait or answer), UpstreamUnavailable when the upstream cannot be reached."""
    host = URL(url).host
    try:
        async with session.request(method, url, json=json, params=params, headers=headers) as response:
            return HttpResponse(response.status, await response.read(), response.headers)
    except TimeoutError as exc:
        raise UpstreamTimeout(f"{host} timed out") from exc
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"{host} is unreachable") from exc


class _RetryableStatus(Exception):
    def __init__(self, response: HttpResponse) -> None:
        super().__init__(f"upstream answered {response.status_code}")
        self.response = response


async def send_with_retries(
    session: aiohttp.ClientSession, method: str, url: str, *, attempts: int = 3, max_seconds: float = 5.0,
    **kwargs: Any,
) -> HttpResponse:
    """`send` for idempotent calls, retrying unreachable upstreams and 502/503/504 with jittered backoff.

    Raises UpstreamUnavailable (503) or UpstreamError (502) when it keeps failing, so routes need no
    try/except: the registered handlers map them.
    """
    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts) | stop_after_delay(max_seconds),
        wait=wait_exponential_jitter(initial=0.05, max=1.0),
        retry=retry_if_exception(lambda exc: isinstance(exc, _RetryableStatus | UpstreamUnavailable)),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                response = await send(session, method, url, **kwargs)
                if response.status_code in RETRYABLE_STATUS:
                    raise _RetryableStatus(response)
                return response
    except _RetryableStatus as exc:
        raise UpstreamError(f"{URL(url).host} answered {exc.response.status_code}") from exc
    raise AssertionError("unreachable: tenacity either returns or reraises")


__all__ = ["HttpResponse", "make_http_client", "send", "send_with_retries"]
