"""POST /sms against faked upstreams on a real loopback server: statuses, the calls made, pending
pushes and their recovery, Idempotency-Key replays."""

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import aiohttp
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.inbox.main import create_app
from api.inbox.settings import InboxSettings
from api.inbox.upstreams import FeatureRow, Upstreams
from contract.routes import USER_DATA_BATCH_MAX
from tests.api.errors import invalid
from tests.api.inbox.conftest import AUTH, FEATURES, INBOX_KEY, FakeUpstreams, wait_for
from tests.fixtures.fake_upstream import refusing_url

MESSAGE = {"recipient_id": "fiona", "sender_id": "+44 7700 900123", "sms_text": "WINNER!! Call 09061701461 now"}


def _send(client: TestClient, key: str | None = None, **overrides: object) -> tuple[int, dict]:
    headers = AUTH if key is None else {**AUTH, "Idempotency-Key": key}
    response = client.post("/sms", json={**MESSAGE, **overrides}, headers=headers)
    return response.status_code, response.json()


def test_201_stores_with_pending_pushes_online_then_writes_offline_and_clears(
    client: TestClient, upstreams: FakeUpstreams
) -> None:
    status, body = _send(client)
    assert status == 201 and body["success"] is True
    sms_id = body["sms_id"]
    assert uuid.UUID(sms_id).version == 1
    [call] = upstreams.store_calls
    assert call["api_key"] == INBOX_KEY and set(upstreams.feature_keys) == {INBOX_KEY}  # under its own name
    assert call["body"]["items"] == [{"user_id": "fiona", "sms_id": sms_id, "sender_id": MESSAGE["sender_id"],
                                      "sms_text": MESSAGE["sms_text"], "idempotency_key": None,
                                      "features": None}]  # computed meanwhile, by model serving
    push = upstreams.pushes[0]  # online, before the answer
    assert push["push_source_name"] == "smss2_push" and push["to"] == "online"
    assert push["df"]["sms_id"] == [sms_id] and push["df"]["features"] == [FEATURES]
    pushed_at = datetime.fromisoformat(push["df"]["event_timestamp"][0])
    assert pushed_at.utcoffset().total_seconds() == 0
    wait_for(lambda: sms_id not in upstreams.pending)  # cleared only after the offline write
    [offline] = [p for p in upstreams.pushes if p["to"] == "offline"]
    assert offline["df"] == push["df"]


def test_pushed_timestamps_share_one_shape_that_feast_parses(upstreams: FakeUpstreams,
                                                              inbox_settings: InboxSettings) -> None:
    # A time UUID lands on a whole second one time in a million; pandas (Feast's parse) then took the first
    # row's format and failed the rest of the push, and recovery would have retried that batch for ever.
    whole, fraction = datetime(2026, 12, 1, 17, tzinfo=UTC), datetime(2026, 12, 1, 17, 0, 0, 123456, tzinfo=UTC)
    rows = [FeatureRow(str(uuid.uuid1()), stamp, FEATURES) for stamp in (whole, fraction)]

    async def push() -> None:
        async with aiohttp.ClientSession() as http:
            await Upstreams(http, inbox_settings).push(rows, to="online")

    asyncio.run(push())
    stamps = upstreams.pushes[0]["df"]["event_timestamp"]
    parsed = pd.to_datetime(np.array(stamps, dtype=object))  # as Feast 0.67's push parses the column
    assert list(parsed) == [whole, fraction]


def test_failed_offline_write_stays_pending_until_recovery_writes_it(
    client: TestClient, upstreams: FakeUpstreams
) -> None:
    upstreams.offline_push_status = 503
    status, body = _send(client)
    assert status == 201 and body["sms_id"] in upstreams.pushed_ids("online")
    time.sleep(0.5)  # offline writes and recovery passes have run, and failed
    assert body["sms_id"] in upstreams.pending and body["sms_id"] not in upstreams.offline_ids()
    upstreams.offline_push_status = 200
    wait_for(lambda: body["sms_id"] in upstreams.offline_ids() and body["sms_id"] not in upstreams.pending)


def test_concurrent_messages_share_calls(client: TestClient, upstreams: FakeUpstreams) -> None:
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: _send(client, sms_text=f"message {i}"), range(64)))
    assert {status for status, _ in results} == {201}
    assert len({body["sms_id"] for _, body in results}) == 64
    assert set(upstreams.pushed_ids()) >= {body["sms_id"] for _, body in results}
    # 64 messages from 16 threads in fewer store calls and pushes than messages: they were batched.
    online_pushes = [push for push in upstreams.pushes if push["to"] == "online"]
    assert len(upstreams.store_calls) < 64 and len(online_pushes) < 64
    wait_for(lambda: set(upstreams.offline_ids()) >= {body["sms_id"] for _, body in results})


@pytest.mark.parametrize("failing", ["push_status", "features_status"])
def test_202_when_push_or_features_fail_then_recovery_completes(
    client: TestClient, upstreams: FakeUpstreams, failing: str
) -> None:
    setattr(upstreams, failing, 503)
    ids = [_send(client, sms_text=f"message {i}")[1]["sms_id"] for i in range(5)]
    assert all(sms_id in upstreams.pending for sms_id in ids)
    setattr(upstreams, failing, 200)
    wait_for(lambda: set(ids) <= set(upstreams.pushed_ids()) and not upstreams.pending)


def test_recovery_completes_pushes_left_by_another_worker(
    client: TestClient, upstreams: FakeUpstreams
) -> None:
    orphan = str(uuid.uuid1())
    with upstreams.lock:
        upstreams.pending[orphan] = {"sms_id": orphan, "user_id": "max", "sms_text": "hi", "features": None}
    wait_for(lambda: orphan in upstreams.pushed_ids() and orphan not in upstreams.pending)


def test_recovery_of_more_pushes_than_one_user_data_batch_completes_them_all(
    client: TestClient, upstreams: FakeUpstreams
) -> None:
    # A recovery pass reads up to 256 records, and user-data clears at most USER_DATA_BATCH_MAX per call.
    orphans = [str(uuid.uuid1()) for _ in range(2 * USER_DATA_BATCH_MAX + 5)]
    with upstreams.lock:
        for orphan in orphans:
            upstreams.pending[orphan] = {"sms_id": orphan, "user_id": "max", "sms_text": "hi", "features": None}
    wait_for(lambda: set(orphans) <= set(upstreams.pushed_ids()) and not upstreams.pending)


def test_pending_message_rejected_by_model_serving_is_dropped(
    client: TestClient, upstreams: FakeUpstreams
) -> None:
    upstreams.features_status = 422
    dropped_before = _metric(client, "spamops_inbox_push_dropped_total")
    assert _send(client)[0] == 202
    wait_for(lambda: _metric(client, "spamops_inbox_push_dropped_total") == dropped_before + 1)
    assert upstreams.pushes == [] and not upstreams.pending


def _metric(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


def test_idempotency_key_replay_returns_same_id_and_status(client: TestClient, upstreams: FakeUpstreams) -> None:
    first = _send(client, key="key-1")
    again = _send(client, key="key-1")
    assert first[0] == again[0] == 201
    assert first[1]["sms_id"] == again[1]["sms_id"]
    assert len(upstreams.messages) == 1


def test_idempotency_key_replay_of_pending_message_completes_its_push(
    client: TestClient, upstreams: FakeUpstreams
) -> None:
    upstreams.push_status = 503
    status, body = _send(client, key="key-2")
    assert status == 202
    upstreams.push_status = 200
    replay = _send(client, key="key-2")
    assert replay == (201, {**body, "reason": "replayed; stored and features pushed"})
    assert body["sms_id"] in upstreams.pushed_ids()


def test_idempotency_key_reused_for_another_message_is_422(client: TestClient, upstreams: FakeUpstreams) -> None:
    assert _send(client, key="key-3")[0] == 201
    status, body = _send(client, key="key-3", sms_text="something else")
    assert status == 422
    assert body == invalid("Idempotency-Key was already used for a different message", ("header", "Idempotency-Key"))
    assert len(upstreams.messages) == 1


def test_reused_key_never_pushes_the_other_messages_features(
    upstreams: FakeUpstreams, inbox_settings: InboxSettings
) -> None:
    # The key's first message is still pending; the conflicting text's features must not go out under its id.
    no_recovery = inbox_settings.model_copy(update={"recovery_min_age_seconds": 60.0})
    with TestClient(create_app(no_recovery)) as client:
        upstreams.push_status = 503
        status, first = _send(client, key="key-4")
        assert status == 202
        upstreams.push_status = 200
        attempts = upstreams.push_attempts
        assert _send(client, key="key-4", sms_text="something else")[0] == 422
        assert upstreams.push_attempts == attempts and first["sms_id"] not in upstreams.pushed_ids()


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "é"])
def test_malformed_idempotency_key_is_422(client: TestClient, upstreams: FakeUpstreams, key: str) -> None:
    response = client.post("/sms", json=MESSAGE, headers={**AUTH, "Idempotency-Key": key.encode()})
    assert response.status_code == 422
    assert upstreams.store_calls == []


@pytest.mark.parametrize(("user_data_status", "expected"), [(500, 502), (503, 502), (401, 502), (422, 502)])
def test_user_data_error_is_5xx_and_nothing_pushed(
    client: TestClient, upstreams: FakeUpstreams, user_data_status: int, expected: int
) -> None:
    upstreams.user_data_status = user_data_status
    status, body = _send(client)
    assert status == expected and "answered" in body["detail"]
    assert upstreams.pushes == []


def test_user_data_unreachable_is_503(inbox_settings: InboxSettings) -> None:
    with refusing_url() as closed, TestClient(create_app(inbox_settings.model_copy(
            update={"user_data_url": closed}))) as client:
        response = client.post("/sms", json=MESSAGE, headers=AUTH)
    assert response.status_code == 503
    assert response.json() == {"detail": "127.0.0.1 is unreachable"}


@pytest.mark.parametrize(
    "overrides",
    [{"sms_text": ""}, {"sms_text": "  "}, {"sms_text": "x" * 5001}, {"recipient_id": ""}, {"sender_id": ""},
     {"recipient_id": "a/b"}, {"recipient_id": "r" * 129}, {"recipient_id": ".."}, {"recipient_id": "."}],
)
def test_bad_input_is_422(client: TestClient, upstreams: FakeUpstreams, overrides: dict) -> None:
    assert _send(client, **overrides)[0] == 422
    assert upstreams.store_calls == []


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}])
def test_without_valid_key_is_401(client: TestClient, upstreams: FakeUpstreams, headers: dict) -> None:
    response = client.post("/sms", json=MESSAGE, headers=headers)
    assert response.status_code == 401 and "X-API-Key" in response.json()["detail"]
    assert upstreams.store_calls == []


def test_key_is_checked_before_the_body(client: TestClient, upstreams: FakeUpstreams) -> None:
    assert client.post("/sms", json={"sms_text": 5}).status_code == 401
    assert client.post("/sms", json={"sms_text": 5}, headers=AUTH).status_code == 422


def test_no_browser_origin_is_trusted_by_default(client: TestClient) -> None:
    preflight = {"Origin": "http://127.0.0.1:8080", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/sms", headers=preflight).headers
    response = client.post("/sms", json=MESSAGE, headers={**AUTH, "Origin": "http://127.0.0.1:8080"})
    assert response.status_code == 201 and "access-control-allow-origin" not in response.headers


def test_read_only_key_is_403_and_write_key_is_201(client: TestClient, upstreams: FakeUpstreams) -> None:
    refused = client.post("/sms", json=MESSAGE, headers={"X-API-Key": "web-key"})
    assert refused.status_code == 403 and refused.json() == {"detail": "caller web lacks the write scope"}
    assert upstreams.store_calls == []
    assert client.post("/sms", json=MESSAGE, headers={"X-API-Key": "telco-key"}).status_code == 201


def test_settings_without_a_key_for_the_inbox_fail_naming_it() -> None:
    with pytest.raises(ValidationError, match="no API key for caller 'inbox'"):
        InboxSettings(spamops_api_keys="telco:telco-key:write", spamops_api_key=None)


def test_metrics_count_outcomes_and_batches(client: TestClient) -> None:
    _send(client)
    text = client.get("/metrics").text
    assert 'spamops_inbox_messages_total{outcome="pushed"}' in text
    assert "spamops_inbox_batch_size_count" in text


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["status"] == "ready"


def test_lone_surrogate_is_422_and_nothing_stored(client: TestClient, upstreams: FakeUpstreams) -> None:
    body = b'{"recipient_id": "fiona", "sender_id": "s", "sms_text": "hi \\ud800"}'
    response = client.post("/sms", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "sms_text"]
    assert upstreams.store_calls == []
