"""`POST /batch/sms`, `GET /pending`, `POST /pending/clear`: the inbox's exactly-once write path, on SQLite."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.common.ids import time_uuid
from api.user_data.settings import MAX_TEXT_LENGTH, UserDataSettings
from tests.api.user_data.conftest import AUTH

FEATURES = list(range(30))


def _item(user: str = "fiona", *, key: str | None = None, text: str = "hello", **extra: object) -> dict:
    body = {"user_id": user, "sms_id": str(time_uuid()), "sender_id": "max", "sms_text": text,
            "idempotency_key": key, "features": FEATURES}
    return {**body, **extra}


def _batch(client: TestClient, *items: dict) -> list[dict]:
    response = client.post("/batch/sms", json={"items": list(items)}, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _pending(client: TestClient, **params: object) -> list[dict]:
    response = client.get("/pending", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_batch_creates_messages_readable_in_inbox_with_pending_push(client: TestClient) -> None:
    first, second = _item(key="k-1", text="one"), _item("max", text="two", features=None)
    results = _batch(client, first, second)
    assert results == [
        {"sms_id": first["sms_id"], "status": "created", "pending": True},
        {"sms_id": second["sms_id"], "status": "created", "pending": True},
    ]
    assert client.get(f"/sms/fiona/{first['sms_id']}").json()["sms_text"] == "one"
    assert _pending(client) == [
        {"sms_id": first["sms_id"], "user_id": "fiona", "sms_text": "one", "features": FEATURES},
        {"sms_id": second["sms_id"], "user_id": "max", "sms_text": "two", "features": None},
    ]


def test_batch_retry_with_key_is_replayed_with_first_id(client: TestClient) -> None:
    first = _item(key="retry-key")
    _batch(client, first)
    [result] = _batch(client, _item(key="retry-key"))
    assert result == {"sms_id": first["sms_id"], "status": "replayed", "pending": True}
    assert [m["sms_id"] for m in client.get("/sms/fiona").json()] == [first["sms_id"]]


def test_batch_key_reused_for_other_text_is_key_conflict(client: TestClient) -> None:
    _batch(client, _item(key="reused", text="first"))
    other = _item(key="reused", text="second")
    assert _batch(client, other) == [{"sms_id": other["sms_id"], "status": "key_conflict", "pending": False}]
    assert client.get(f"/sms/fiona/{other['sms_id']}").status_code == 404


def test_batch_replay_after_clear_reports_not_pending(client: TestClient) -> None:
    first = _item(key="cleared-key")
    _batch(client, first)
    assert client.post("/pending/clear", json={"sms_ids": [first["sms_id"]]}, headers=AUTH).status_code == 204
    assert _batch(client, _item(key="cleared-key"))[0] == {"sms_id": first["sms_id"], "status": "replayed",
                                                           "pending": False}


def test_batch_over_max_batch_size_returns_413(client: TestClient, user_data_settings: UserDataSettings) -> None:
    items = [_item(text=f"m{i}") for i in range(user_data_settings.max_batch_size + 1)]
    response = client.post("/batch/sms", json={"items": items}, headers=AUTH)
    assert response.status_code == 413
    assert "limit is" in response.json()["detail"]
    assert client.get("/sms/fiona").json() == []


def test_batch_of_max_size_with_longest_texts_is_accepted(client: TestClient,
                                                          user_data_settings: UserDataSettings) -> None:
    items = [_item(text="é" * MAX_TEXT_LENGTH) for _ in range(user_data_settings.max_batch_size)]
    assert len(_batch(client, *items)) == user_data_settings.max_batch_size


@pytest.mark.parametrize(
    "change",
    [
        {"sms_id": str(uuid.uuid4())},
        {"sms_id": None},
        {"sms_id": "not-a-uuid"},
        {"user_id": "a b"},
        {"user_id": ""},
        {"sender_id": "  "},
        {"sms_text": "   \n"},
        {"sms_text": "x" * (MAX_TEXT_LENGTH + 1)},
        {"idempotency_key": ""},
        {"features": FEATURES[:29]},
        {"features": [*FEATURES, 1]},
        {"features": [1.5] * 30},
        {"features": ["1"] * 30},
        {"features": [-1] * 30},
        {"features": [True] * 30},
    ],
)
def test_batch_bad_item_returns_422_and_stores_nothing(client: TestClient, change: dict) -> None:
    response = client.post("/batch/sms", json={"items": [_item(text="good"), _item(**change)]}, headers=AUTH)
    assert response.status_code == 422, change
    assert response.json()["detail"][0]["loc"][:3] == ["body", "items", 1]
    assert client.get("/sms/fiona").json() == []


def test_batch_empty_returns_422(client: TestClient) -> None:
    assert client.post("/batch/sms", json={"items": []}, headers=AUTH).status_code == 422


def test_pending_is_oldest_first_limited_and_filtered_by_age(client: TestClient) -> None:
    now = datetime.now(UTC)
    ages = [40, 300, 120, 0]
    items = [_item(text=f"age {age}", sms_id=str(time_uuid(now - timedelta(seconds=age)))) for age in ages]
    _batch(client, *items)
    assert [p["sms_text"] for p in _pending(client)] == ["age 300", "age 120", "age 40", "age 0"]
    assert [p["sms_text"] for p in _pending(client, limit=2)] == ["age 300", "age 120"]
    assert [p["sms_text"] for p in _pending(client, older_than_seconds=60)] == ["age 300", "age 120"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"older_than_seconds": -1}, {"limit": "x"}])
def test_pending_bad_query_returns_422(client: TestClient, params: dict) -> None:
    assert client.get("/pending", params=params, headers=AUTH).status_code == 422


def test_clear_pending_is_idempotent_and_ignores_unknown_ids(client: TestClient) -> None:
    kept, cleared = _item(text="kept"), _item(text="cleared")
    _batch(client, kept, cleared)
    body = {"sms_ids": [cleared["sms_id"], str(time_uuid())]}
    for _ in range(2):
        response = client.post("/pending/clear", json=body, headers=AUTH)
        assert response.status_code == 204 and response.content == b""
    assert [p["sms_id"] for p in _pending(client)] == [kept["sms_id"]]


@pytest.mark.parametrize("body", [{"sms_ids": ["nope"]}, {"sms_ids": [str(uuid.uuid4())]}, {}])
def test_clear_pending_bad_body_returns_422(client: TestClient, body: dict) -> None:
    assert client.post("/pending/clear", json=body, headers=AUTH).status_code == 422


def test_clear_pending_over_max_batch_size_returns_413(client: TestClient,
                                                       user_data_settings: UserDataSettings) -> None:
    ids = [str(time_uuid()) for _ in range(user_data_settings.max_batch_size + 1)]
    assert client.post("/pending/clear", json={"sms_ids": ids}, headers=AUTH).status_code == 413


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("post", "/batch/sms", {"items": []}), ("get", "/pending", None), ("post", "/pending/clear", {"sms_ids": []})],
)
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}])
def test_exactly_once_routes_without_valid_key_return_401(
    anonymous: TestClient, method: str, path: str, body: dict | None, headers: dict
) -> None:
    response = anonymous.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]


def test_openapi_documents_every_status(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    documented = {
        # Every route with a body also answers 400 (unparseable JSON) and 413 (api.common.openapi).
        ("/sms/{user_id}", "post"): {"200", "201", "400", "401", "403", "409", "413", "422"},
        ("/sms/{user_id}", "get"): {"200", "401", "403", "422"},
        ("/sms/{user_id}/{sms_id}", "get"): {"200", "401", "403", "404", "422"},
        ("/batch/sms", "post"): {"200", "400", "401", "403", "413", "422"},
        ("/pending", "get"): {"200", "401", "403", "422"},
        ("/pending/clear", "post"): {"204", "400", "401", "403", "413", "422"},
    }
    for (path, method), statuses in documented.items():
        assert set(paths[path][method]["responses"]) == statuses, path
