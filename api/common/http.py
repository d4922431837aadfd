"""The shared outbound HTTP client: explicit timeouts, pooled keep-alive connections, bounded retries.

Create one client per process in the service's lifespan (`make_http_client`) and close it there;
wrap calls that are safe to repeat in `send_with_retries`.
"""

import logging

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from api.common.errors import UpstreamError, UpstreamUnavailable

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({502, 503, 504})


def make_http_client(
    *,
    base_url: str = "",
    timeout_seconds: float = 2.0,
    connect_timeout_seconds: float = 1.0,
    max_connections: int = 100,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """One AsyncClient per process; the transport retries failed connects once before tenacity is involved."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        transport=httpx.AsyncHTTPTransport(retries=1),
        headers=headers,
    )


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"upstream answered {response.status_code}")
        self.response = response


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RetryableStatus | httpx.TransportError)


async def send_with_retries(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    attempts: int = 3,
    max_seconds: float = 5.0,
) -> httpx.Response:
    """Send `request` (idempotent ones only), retrying transport errors and 502/503/504 with jittered backoff.

    Raises UpstreamUnavailable when the upstream cannot be reached or keeps failing, so routes
    need no try/except: the registered handlers turn it into a 503 (or 502 for a bad status).
    """
    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts) | stop_after_delay(max_seconds),
        wait=wait_exponential_jitter(initial=0.05, max=1.0),
        retry=retry_if_exception(_is_retryable),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                response = await client.send(request)
                if response.status_code in RETRYABLE_STATUS:
                    await response.aclose()
                    raise _RetryableStatus(response)
                return response
    except _RetryableStatus as exc:
        raise UpstreamError(f"{request.url.host} answered {exc.response.status_code}") from exc
    except httpx.TimeoutException as exc:
        raise UpstreamUnavailable(f"{request.url.host} timed out") from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"{request.url.host} is unreachable") from exc
    raise AssertionError("unreachable: tenacity either returns or reraises")
