"""POST /sms against faked upstreams: status codes, the push body, the retry queue, offline rows."""

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.common.offline_append import v2_source_dir
from api.inbox.settings import InboxSettings
from tests.api.inbox.conftest import API_KEY, AUTH, FEATURES, FakeUpstreams

MESSAGE = {"recipient_id": "fiona", "sender_id": "+44 7700 900123", "sms_text": "WINNER!! Call 09061701461 now"}


def _send(client: TestClient, **overrides: object) -> tuple[int, dict]:
    response = client.post("/sms", json={**MESSAGE, **overrides}, headers=AUTH)
    return response.status_code, response.json()


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _offline_rows(settings: InboxSettings) -> pd.DataFrame:
    directory = v2_source_dir(settings.feature_repo_path)
    if not directory.exists() or not any(directory.glob("part-*.parquet")):
        return pd.DataFrame(columns=["sms_id"])
    return pd.read_parquet(directory)


def test_receive_sms_stores_pushes_and_returns_201(client: TestClient, upstreams: FakeUpstreams) -> None:
    status, body = _send(client)
    assert status == 201 and body["success"] is True
    sms_id = body["sms_id"]
    assert uuid.UUID(sms_id).version == 1
    [stored] = upstreams.stored
    assert stored == {"user_id": "fiona", "sender_id": MESSAGE["sender_id"], "sms_text": MESSAGE["sms_text"],
                      "sms_id": sms_id}
    assert upstreams.store_headers[0]["X-API-Key"] == API_KEY
    [push] = upstreams.pushes
    assert push["push_source_name"] == "smss2_push" and push["to"] == "online"
    assert push["df"]["sms_id"] == [sms_id] and push["df"]["features"] == [FEATURES]
    assert datetime.fromisoformat(push["df"]["event_timestamp"][0]).utcoffset().total_seconds() == 0


def test_receive_sms_appends_one_offline_row(
    client: TestClient, upstreams: FakeUpstreams, inbox_settings: InboxSettings
) -> None:
    _, body = _send(client)
    _wait_for(lambda: len(_offline_rows(inbox_settings)) == 1)
    row = _offline_rows(inbox_settings).iloc[0]
    assert row["sms_id"] == body["sms_id"] and list(row["features"]) == FEATURES
    assert str(row["event_timestamp"].tz) == "UTC"


@pytest.mark.parametrize("failure", ["status", "unreachable"])
def test_receive_sms_push_down_returns_202_then_retrier_pushes(
    client: TestClient, upstreams: FakeUpstreams, inbox_settings: InboxSettings, failure: str
) -> None:
    if failure == "status":
        upstreams.push_status = 500
    else:
        upstreams.push_unreachable = True
    status, body = _send(client)
    assert status == 202 and body["success"] is True and "queued" in body["reason"]
    assert [s["sms_id"] for s in upstreams.stored] == [body["sms_id"]]
    _wait_for(lambda: upstreams.push_attempts >= 3)  # the retrier keeps trying
    upstreams.push_status, upstreams.push_unreachable = 200, False
    _wait_for(lambda: upstreams.pushed_ids() == [body["sms_id"]])
    _wait_for(lambda: len(_offline_rows(inbox_settings)) == 1)
    time.sleep(0.2)
    assert upstreams.pushed_ids() == [body["sms_id"]]
    assert list(_offline_rows(inbox_settings)["sms_id"]) == [body["sms_id"]]


def test_retrier_pushes_queued_messages_in_one_batch(client: TestClient, upstreams: FakeUpstreams) -> None:
    upstreams.push_status = 503
    ids = [_send(client, sms_text=f"message {i}")[1]["sms_id"] for i in range(5)]
    upstreams.push_status = 200
    _wait_for(lambda: sorted(upstreams.pushed_ids()) == sorted(ids))
    assert len(upstreams.pushes) == 1


def test_receive_sms_features_down_returns_202_and_retries(client: TestClient, upstreams: FakeUpstreams) -> None:
    upstreams.features_status = 503
    status, body = _send(client)
    assert status == 202
    upstreams.features_status = 200
    _wait_for(lambda: upstreams.pushed_ids() == [body["sms_id"]])


def test_queued_message_rejected_by_model_serving_is_dropped(
    client: TestClient, upstreams: FakeUpstreams
) -> None:
    upstreams.features_status = 422
    dropped_before = _dropped(client)
    assert _send(client)[0] == 202
    _wait_for(lambda: _dropped(client) == dropped_before + 1)
    assert upstreams.pushes == []


def _dropped(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("spamops_inbox_push_dropped_total "):
            return float(line.split()[1])
    return 0.0


@pytest.mark.parametrize(("user_data_status", "expected"), [(500, 502), (503, 502), (401, 502), (422, 502)])
def test_receive_sms_user_data_error_returns_5xx(
    client: TestClient, upstreams: FakeUpstreams, user_data_status: int, expected: int
) -> None:
    upstreams.user_data_status = user_data_status
    status, body = _send(client)
    assert status == expected
    assert "user-data" in body["detail"] or "answered" in body["detail"]
    assert upstreams.pushes == []


def test_receive_sms_user_data_unreachable_returns_503(inbox_settings: InboxSettings, tmp_path: Path) -> None:
    import httpx

    from api.inbox.main import create_app

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    with TestClient(create_app(inbox_settings, client=http)) as client:
        response = client.post("/sms", json=MESSAGE, headers=AUTH)
    assert response.status_code == 503
    assert response.json() == {"detail": "user-data is unreachable"}


@pytest.mark.parametrize(
    "overrides",
    [{"sms_text": ""}, {"sms_text": "  "}, {"sms_text": "x" * 5001}, {"recipient_id": ""}, {"sender_id": ""},
     {"recipient_id": "a/b"}, {"recipient_id": "r" * 129}],
)
def test_receive_sms_bad_input_returns_422(client: TestClient, upstreams: FakeUpstreams, overrides: dict) -> None:
    assert _send(client, **overrides)[0] == 422
    assert upstreams.stored == []


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}])
def test_receive_sms_without_valid_key_returns_401(
    client: TestClient, upstreams: FakeUpstreams, headers: dict
) -> None:
    response = client.post("/sms", json=MESSAGE, headers=headers)
    assert response.status_code == 401 and "X-API-Key" in response.json()["detail"]
    assert upstreams.stored == []


def test_metrics_count_pushed_and_queued(client: TestClient, upstreams: FakeUpstreams) -> None:
    _send(client)
    text = client.get("/metrics").text
    assert 'spamops_inbox_messages_total{outcome="pushed"}' in text
    assert "spamops_inbox_retry_queue_depth" in text


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["status"] == "ready"
