"""The proxy's calls to `feast serve` over the shared aiohttp session, and the mapping of their failures.

Mapping (DESIGN §5): cannot connect or 5xx → 502, timeout (connect, pool wait or answer) → 504,
4xx → same status with the feature server's message. One attempt, no retries: the browser has its own
deadline and a fallback, and a second attempt would only push the answer past it.
"""

import json
import logging
from typing import Any

from api.common.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from api.common.http import HttpResponse, make_http_client, send
from api.feature_proxy.errors import FeatureServerTimeout, UpstreamRejected
from api.feature_proxy.settings import FeatureProxySettings

logger = logging.getLogger(__name__)

ONLINE_FEATURES_PATH = "/get-online-features"
HEALTH_PATH = "/health"
MAX_DETAIL_CHARS = 300


class FeatureServer:
    """`feast serve` at `url`, reached over one aiohttp session; build it inside the running loop (the lifespan)."""

    def __init__(self, settings: FeatureProxySettings) -> None:
        self.url = settings.feature_server_url
        self.session = make_http_client(
            timeout_seconds=settings.proxy_timeout_seconds,
            connect_timeout_seconds=settings.proxy_connect_timeout_seconds,
            max_connections=settings.proxy_max_connections,
        )

    async def online_features(self, body: dict[str, Any]) -> bytes:
        """POST `body` and return the JSON bytes unchanged (no re-encoding on the hot path)."""
        try:
            response = await send(self.session, "POST", self.url + ONLINE_FEATURES_PATH, json=body)
        except UpstreamTimeout as exc:
            raise FeatureServerTimeout("feature server timed out") from exc
        except UpstreamUnavailable as exc:
            raise UpstreamError("feature server is unreachable") from exc
        if response.status_code >= 500:
            logger.warning("feature server error", extra={"status": response.status_code, "body": _message(response)})
            raise UpstreamError(f"feature server answered {response.status_code}")
        if response.status_code >= 400:
            raise UpstreamRejected(response.status_code, f"feature server: {_message(response)}")
        return response.content

    async def healthy(self) -> bool:
        try:
            response = await send(self.session, "GET", self.url + HEALTH_PATH)
        except UpstreamUnavailable:
            return False
        return response.status_code == 200

    async def close(self) -> None:
        await self.session.close()


def _message(response: HttpResponse) -> str:
    """Feast's error bodies are a JSON string holding {module, class, message}; FastAPI's are {detail}."""
    try:
        payload: Any = response.json()
        if isinstance(payload, str):
            payload = json.loads(payload)
    except ValueError:
        payload = response.content.decode(errors="replace")
    if isinstance(payload, dict):
        payload = payload.get("message") or payload.get("detail") or payload
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return text[:MAX_DETAIL_CHARS] or f"status {response.status_code}"
