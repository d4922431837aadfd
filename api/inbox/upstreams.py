"""The inbox's three upstreams: user-data (store, pending pushes), model serving (v2 features), `feast serve` (push).

All calls go through one shared aiohttp session (per-attempt timeouts) and `send_with_retries`
(bounded attempts and deadline). Every call is safe to repeat: a batch is stored under ids the inbox
made (user-data's batch add is idempotent per sms_id and per idempotency key), feature extraction is
pure, an online push of the same row twice leaves one row, and our offline store writes a row it
has already recorded (same sms_id and event time) no second time (feast_ext.offline).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import aiohttp

from api.common.auth import API_KEY_HEADER, outbound_api_key
from api.common.errors import UpstreamError
from api.common.http import HttpResponse, send_with_retries
from api.inbox.settings import InboxSettings
from contract.feature_store import ENTITY_KEY, PUSH_SOURCE, TIMESTAMP_FIELD, V2_FIELD, V2_LENGTH
from contract.routes import BATCH_SUFFIX, TEXT_TO_FEATURES, USER_DATA_BATCH_MAX, model_path

PushTarget = Literal["online", "offline", "online_and_offline"]
# Model v2 serves the token-id features (features2) that smss2_push feeds.
FEATURES_BATCH_PATH = model_path("v2", TEXT_TO_FEATURES + BATCH_SUFFIX)


class RejectedByUpstream(UpstreamError):
    """A 4xx answer: repeating the same call cannot succeed."""


@dataclass(frozen=True, slots=True)
class FeatureRow:
    sms_id: str
    event_timestamp: datetime  # timezone-aware UTC, from the sms_id's time
    features: Sequence[int]


@dataclass(frozen=True, slots=True)
class NewSms:
    user_id: str
    sms_id: UUID
    sender_id: str
    sms_text: str
    idempotency_key: str | None
    features: list[int] | None


@dataclass(frozen=True, slots=True)
class Stored:
    sms_id: UUID  # for a replayed idempotency key: the id recorded the first time
    status: Literal["created", "replayed", "key_conflict"]
    pending: bool  # a feature push is still owed for this message


@dataclass(frozen=True, slots=True)
class PendingSms:
    sms_id: UUID
    user_id: str
    sms_text: str
    features: list[int] | None


class Upstreams:
    def __init__(self, client: aiohttp.ClientSession, settings: InboxSettings) -> None:
        self.client = client
        self.settings = settings
        # Every call goes out under the inbox's own name, so call logs and rate limits see "inbox".
        self._auth = {API_KEY_HEADER: outbound_api_key(settings, settings.inbox_caller_name)}

    async def _send(self, method: str, url: str, *, body: dict[str, Any] | None = None,
                    params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                    attempts: int | None = None) -> HttpResponse:
        return await send_with_retries(
            self.client, method, url, json=body, params=params, headers=headers,
            attempts=attempts or self.settings.upstream_attempts, max_seconds=self.settings.upstream_max_seconds,
        )

    async def text_to_features(self, texts: Sequence[str]) -> list[list[int]]:
        response = await self._send("POST", f"{self.settings.model_serving_url}{FEATURES_BATCH_PATH}",
                                    body={"texts": list(texts)}, headers=self._auth)
        _expect(response, 200, "model serving")
        features = response.json().get("features")
        if not isinstance(features, list) or len(features) != len(texts) or not all(map(_valid_v2, features)):
            raise UpstreamError(f"model serving returned no valid v2 features ({V2_LENGTH} integers per text)")
        return features

    async def store(self, items: Sequence[NewSms]) -> list[Stored]:
        body = {"items": [
            {"user_id": i.user_id, "sms_id": str(i.sms_id), "sender_id": i.sender_id, "sms_text": i.sms_text,
             "idempotency_key": i.idempotency_key, "features": i.features} for i in items
        ]}
        response = await self._send("POST", f"{self.settings.user_data_url}/batch/sms", body=body,
                                    headers=self._auth)
        _expect(response, 200, "user-data")
        results = response.json()["items"]
        return [Stored(UUID(r["sms_id"]), r["status"], r["pending"]) for r in results]

    async def pending(self, *, limit: int, older_than_seconds: float) -> list[PendingSms]:
        params = {"limit": limit, "older_than_seconds": older_than_seconds}
        response = await self._send("GET", f"{self.settings.user_data_url}/pending", params=params,
                                    headers=self._auth)
        _expect(response, 200, "user-data")
        return [PendingSms(UUID(i["sms_id"]), i["user_id"], i["sms_text"], i["features"])
                for i in response.json()["items"]]

    async def clear_pending(self, sms_ids: Sequence[str]) -> None:
        """Clear in calls of user-data's batch limit: offline writes and recovery clear more at once (a 413
        here used to fail every recovery pass on the same oldest records, so the ones after never pushed)."""
        for start in range(0, len(sms_ids), USER_DATA_BATCH_MAX):
            chunk = list(sms_ids[start:start + USER_DATA_BATCH_MAX])
            response = await self._send("POST", f"{self.settings.user_data_url}/pending/clear",
                                        body={"sms_ids": chunk}, headers=self._auth)
            _expect(response, 204, "user-data")

    async def push(self, rows: Sequence[FeatureRow], *, to: PushTarget = "online_and_offline",
                   attempts: int | None = None) -> None:
        """POST /push to `feast serve` (feast 0.67's PushFeaturesRequest): when it answers 200 the rows are
        in the stores `to` names (in the offline source, durably)."""
        body = {
            "push_source_name": PUSH_SOURCE,
            "df": {
                ENTITY_KEY: [row.sms_id for row in rows],
                # One shape for every row: Feast parses the column with pandas, which takes the format from the
                # first string, so a first row on a whole second (no fraction) would fail the others.
                TIMESTAMP_FIELD: [row.event_timestamp.isoformat(timespec="microseconds") for row in rows],
                V2_FIELD: [list(row.features) for row in rows],
            },
            "to": to,
        }
        response = await self._send("POST", f"{self.settings.feature_server_url}/push", body=body, attempts=attempts)
        _expect(response, 200, "the feature server")


def _valid_v2(features: Any) -> bool:
    return isinstance(features, list) and len(features) == V2_LENGTH and all(type(v) is int for v in features)


def _expect(response: HttpResponse, status: int, name: str) -> None:
    if response.status_code == status:
        return
    error = RejectedByUpstream if 400 <= response.status_code < 500 else UpstreamError
    raise error(f"{name} answered {response.status_code}")
