"""The one client the proxy uses to reach `feast serve`, and the mapping of its failures to HTTP errors.

Mapping (DESIGN §5): cannot connect or 5xx → 502, timeout → 504, 4xx → same status with the feature
server's message. Retries: the shared client's transport retries a failed connect once (nothing was
sent, so it is safe). Timeouts are not retried: the browser has its own deadline and a fallback, and a
second full-length attempt would only push the answer past it.
"""

import json
import logging
from typing import Any

import httpx

from api.common.errors import UpstreamError
from api.common.http import make_http_client
from api.feature_proxy.errors import UpstreamRejected, UpstreamTimeout
from api.feature_proxy.settings import FeatureProxySettings

logger = logging.getLogger(__name__)

ONLINE_FEATURES_PATH = "/get-online-features"
HEALTH_PATH = "/health"
MAX_DETAIL_CHARS = 300


def make_feature_server_client(settings: FeatureProxySettings) -> httpx.AsyncClient:
    return make_http_client(
        base_url=settings.feature_server_url,
        timeout_seconds=settings.proxy_timeout_seconds,
        connect_timeout_seconds=settings.proxy_connect_timeout_seconds,
        max_connections=settings.proxy_max_connections,
    )


async def fetch_online_features(client: httpx.AsyncClient, body: dict[str, Any]) -> bytes:
    """POST `body` to the feature server and return its JSON bytes unchanged (no re-encoding on the hot path)."""
    try:
        response = await client.post(ONLINE_FEATURES_PATH, json=body)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout("feature server timed out") from exc
    except httpx.TransportError as exc:
        raise UpstreamError("feature server is unreachable") from exc
    if response.status_code >= 500:
        logger.warning("feature server error", extra={"status": response.status_code, "body": _message(response)})
        raise UpstreamError(f"feature server answered {response.status_code}")
    if response.status_code >= 400:
        raise UpstreamRejected(response.status_code, f"feature server: {_message(response)}")
    return response.content


async def feature_server_healthy(client: httpx.AsyncClient) -> bool:
    try:
        response = await client.get(HEALTH_PATH)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _message(response: httpx.Response) -> str:
    """Feast's error bodies are a JSON string holding {module, class, message}; FastAPI's are {detail}."""
    try:
        payload: Any = response.json()
        if isinstance(payload, str):
            payload = json.loads(payload)
    except ValueError:
        payload = response.text
    if isinstance(payload, dict):
        payload = payload.get("message") or payload.get("detail") or payload
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return text[:MAX_DETAIL_CHARS] or f"status {response.status_code}"
