"""The inbox's three upstreams: user-data (store), model serving (v2 features), `feast serve` (push).

All calls go through one shared httpx.AsyncClient (per-attempt timeouts) and `send_with_retries`
(bounded attempts and deadline). Every call is safe to repeat: the message is stored under an id
the inbox made (user-data's add is idempotent), feature extraction is pure, and an online push of
the same row twice leaves one row.
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import httpx

from api.common.auth import API_KEY_HEADER
from api.common.errors import UpstreamError
from api.common.http import send_with_retries
from api.common.offline_append import FeatureRow
from api.inbox.settings import InboxSettings
from training.offline_sources import TIMESTAMP_FIELD, V2_FIELD
from training.versions import ENTITY_KEY, V2_LENGTH

PUSH_SOURCE = "smss2_push"
FEATURES_PATH = "/model/v2/text_to_features"


class RejectedByUpstream(UpstreamError):
    """A 4xx answer: repeating the same call cannot succeed."""


class Upstreams:
    def __init__(self, client: httpx.AsyncClient, settings: InboxSettings) -> None:
        self.client = client
        self.settings = settings
        self._api_key = settings.spamops_api_key.get_secret_value()

    async def _post(self, url: str, body: dict[str, Any], *, attempts: int | None = None,
                    headers: dict[str, str] | None = None) -> httpx.Response:
        request = self.client.build_request("POST", url, json=body, headers=headers)
        return await send_with_retries(
            self.client, request, attempts=attempts or self.settings.upstream_attempts,
            max_seconds=self.settings.upstream_max_seconds,
        )

    async def store_sms(self, *, recipient_id: str, sender_id: str, sms_text: str, sms_id: UUID) -> None:
        body = {"sender_id": sender_id, "sms_text": sms_text, "sms_id": str(sms_id)}
        headers = {API_KEY_HEADER: self._api_key}
        response = await self._post(f"{self.settings.user_data_url}/sms/{recipient_id}", body, headers=headers)
        _expect(response, 201, "user-data")

    async def text_to_features(self, text: str) -> list[int]:
        response = await self._post(f"{self.settings.model_serving_url}{FEATURES_PATH}", {"text": text})
        _expect(response, 200, "model serving")
        features = response.json().get("features")
        if not isinstance(features, list) or len(features) != V2_LENGTH or not all(type(v) is int for v in features):
            raise UpstreamError(f"model serving returned no valid v2 features ({V2_LENGTH} integers)")
        return features

    async def push_online(self, rows: Sequence[FeatureRow], *, attempts: int | None = None) -> None:
        """POST /push to `feast serve` (body as feast 0.67's PushFeaturesRequest), online only."""
        body = {
            "push_source_name": PUSH_SOURCE,
            "df": {
                ENTITY_KEY: [row.sms_id for row in rows],
                TIMESTAMP_FIELD: [row.event_timestamp.isoformat() for row in rows],
                V2_FIELD: [list(row.features) for row in rows],
            },
            "to": "online",
        }
        response = await self._post(f"{self.settings.feature_server_url}/push", body, attempts=attempts)
        _expect(response, 200, "the feature server")


def _expect(response: httpx.Response, status: int, name: str) -> None:
    if response.status_code == status:
        return
    error = RejectedByUpstream if 400 <= response.status_code < 500 else UpstreamError
    raise error(f"{name} answered {response.status_code}")
