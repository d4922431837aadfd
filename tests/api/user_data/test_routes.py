"""User-data routes: store, read, page, validate, authorise."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import ValidationError

from api.common.ids import time_uuid
from api.user_data.settings import MAX_TEXT_LENGTH, UserDataSettings
from tests.api.user_data.conftest import AUTH, KEYS


def _post(client: TestClient, user: str = "fiona", text: str = "hello", **extra: object) -> dict:
    response = client.post(f"/sms/{user}", json={"sender_id": "max", "sms_text": text, **extra}, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_sms_returns_201_with_time_uuid(client: TestClient) -> None:
    body = _post(client)
    assert body["successful"] is True and body["msg"] == "stored"
    sms_id = uuid.UUID(body["sms_id"])
    assert sms_id.version == 1
    assert sms_id.node & (1 << 40), "the node must be random (multicast bit), not a MAC address"


def test_get_sms_returns_stored_message_with_utc_time(client: TestClient) -> None:
    before = datetime.now(UTC)
    sms_id = _post(client, text="Ünïcødé £5 !")["sms_id"]
    response = client.get(f"/sms/fiona/{sms_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["sms_text"] == "Ünïcødé £5 !" and body["sender_id"] == "max" and body["user_id"] == "fiona"
    received = datetime.fromisoformat(body["received_at"])
    assert received.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= received <= datetime.now(UTC) + timedelta(seconds=1)


def test_get_sms_malformed_uuid_returns_422_json(client: TestClient) -> None:
    response = client.get("/sms/fiona/not-a-uuid")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "sms_id"]


def test_get_sms_random_uuid_returns_422(client: TestClient) -> None:
    assert client.get(f"/sms/fiona/{uuid.uuid4()}").status_code == 422


def test_get_sms_unknown_returns_404_json(client: TestClient) -> None:
    response = client.get(f"/sms/fiona/{time_uuid()}")
    assert response.status_code == 404
    assert "no message" in response.json()["detail"]


def test_get_sms_of_another_user_returns_404(client: TestClient) -> None:
    sms_id = _post(client, user="fiona")["sms_id"]
    assert client.get(f"/sms/max/{sms_id}").status_code == 404


def _next_query(response: Response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.links["next"]["url"]).query)


def test_list_sms_is_a_list_newest_first_paged_by_link_header(client: TestClient) -> None:
    ids = [_post(client, text=f"message {i}")["sms_id"] for i in range(5)]
    first = client.get("/sms/fiona")  # default page size 3 in these settings
    assert [item["sms_id"] for item in first.json()] == ids[::-1][:3]
    assert first.links["next"]["url"].startswith("http://testserver/sms/fiona?")
    assert _next_query(first) == {"limit": ["3"], "before": [ids[2]]}
    second = client.get(first.links["next"]["url"])
    assert [item["sms_id"] for item in second.json()] == [ids[1], ids[0]]
    assert "Link" not in second.headers


def test_list_sms_link_keeps_the_page_size(client: TestClient) -> None:
    ids = [_post(client, text=f"m{i}")["sms_id"] for i in range(3)]
    first = client.get("/sms/fiona", params={"limit": 1})
    assert _next_query(first) == {"limit": ["1"], "before": [ids[2]]}
    assert [item["sms_id"] for item in client.get(first.links["next"]["url"]).json()] == [ids[1]]


def test_list_sms_exact_page_has_no_link(client: TestClient) -> None:
    for i in range(2):
        _post(client, text=f"m{i}")
    assert "Link" not in client.get("/sms/fiona", params={"limit": 2}).headers


def test_list_sms_unknown_user_is_empty(client: TestClient) -> None:
    assert client.get("/sms/nobody").json() == []


def test_openapi_documents_the_list_and_link_header(client: TestClient) -> None:
    ok = client.get("/openapi.json").json()["paths"]["/sms/{user_id}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["type"] == "array"
    assert "rel=\"next\"" in ok["headers"]["Link"]["description"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"before": "nope"}, {"before": str(uuid.uuid4())}])
def test_list_sms_bad_paging_returns_422(client: TestClient, params: dict) -> None:
    assert client.get("/sms/fiona", params=params).status_code == 422


def test_list_sms_limit_100_is_allowed(client: TestClient) -> None:
    assert client.get("/sms/fiona", params={"limit": 100}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"sender_id": "max", "sms_text": ""},
        {"sender_id": "max", "sms_text": "   \n"},
        {"sender_id": "max", "sms_text": "x" * (MAX_TEXT_LENGTH + 1)},
        {"sender_id": "", "sms_text": "hi"},
        {"sender_id": "  ", "sms_text": "hi"},
        {"sender_id": "m" * 129, "sms_text": "hi"},
        {"sms_text": "hi"},
        {"sender_id": "max", "sms_text": "hi", "sms_id": str(uuid.uuid4())},
    ],
)
def test_create_sms_invalid_body_returns_422(client: TestClient, body: dict) -> None:
    assert client.post("/sms/fiona", json=body, headers=AUTH).status_code == 422


def test_create_sms_max_length_text_is_accepted(client: TestClient) -> None:
    _post(client, text="x" * MAX_TEXT_LENGTH)


@pytest.mark.parametrize("user", ["u" * 129, "a b", "semi;colon", "...", "%2E%2E"])
def test_create_sms_invalid_user_id_returns_422(client: TestClient, user: str) -> None:
    response = client.post(f"/sms/{user}", json={"sender_id": "max", "sms_text": "hi"}, headers=AUTH)
    assert response.status_code == 422


def test_create_sms_identical_repeat_returns_200_same_shape(client: TestClient) -> None:
    sms_id = str(time_uuid())
    assert _post(client, text="retried", sms_id=sms_id)["sms_id"] == sms_id
    again = client.post("/sms/fiona", json={"sender_id": "max", "sms_text": "retried", "sms_id": sms_id}, headers=AUTH)
    assert again.status_code == 200
    assert again.json() == {"successful": True, "msg": "already stored", "sms_id": sms_id}
    assert [item["sms_id"] for item in client.get("/sms/fiona").json()] == [sms_id]


@pytest.mark.parametrize("change", [{"sms_text": "changed"}, {"sender_id": "mum"}])
def test_create_sms_same_id_other_content_returns_409_and_keeps_first(client: TestClient, change: dict) -> None:
    sms_id = str(time_uuid())
    _post(client, text="original", sms_id=sms_id)
    body = {"sender_id": "max", "sms_text": "original", "sms_id": sms_id, **change}
    response = client.post("/sms/fiona", json=body, headers=AUTH)
    assert response.status_code == 409
    assert "already holds another message" in response.json()["detail"]
    stored = client.get(f"/sms/fiona/{sms_id}").json()
    assert (stored["sender_id"], stored["sms_text"]) == ("max", "original")


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
def test_create_sms_without_valid_key_returns_401(client: TestClient, anonymous: TestClient, headers: dict) -> None:
    response = anonymous.post("/sms/fiona", json={"sender_id": "max", "sms_text": "hi"}, headers=headers)
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]
    assert client.get("/sms/fiona").json() == []


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["status"] == "ready"
    _post(client)
    assert 'route="/sms/{user_id}"' in client.get("/metrics").text


def test_settings_without_api_key_fail_with_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPAMOPS_API_KEY", raising=False)
    monkeypatch.delenv("SPAMOPS_API_KEYS", raising=False)
    with pytest.raises(ValidationError, match="no API key is set: set SPAMOPS_API_KEYS"):
        UserDataSettings(_env_file=None)  # type: ignore[call-arg]


def test_lone_surrogate_is_422_and_nothing_stored(client: TestClient) -> None:
    body = b'{"sender_id": "max", "sms_text": "hi \\ud800"}'
    response = client.post("/sms/fiona", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "sms_text"]
    assert client.get("/sms/fiona").json() == []


@pytest.mark.parametrize("path", ["/sms/fiona", f"/sms/fiona/{time_uuid()}"])
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}])
def test_read_inbox_without_valid_key_returns_401(anonymous: TestClient, path: str, headers: dict) -> None:
    response = anonymous.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "ApiKey"
    assert "X-API-Key" in response.json()["detail"]


@pytest.mark.parametrize(("caller", "user", "status"), [
    ("fiona", "fiona", 200), ("fiona", "otto", 403), ("web", "otto", 200), ("inbox", "fiona", 200),
    ("telco", "fiona", 403),
])
def test_read_inbox_needs_read_for_that_user(anonymous: TestClient, caller: str, user: str, status: int) -> None:
    response = anonymous.get(f"/sms/{user}", headers={"X-API-Key": KEYS[caller]})
    assert response.status_code == status
    if status == 403:
        assert response.json() == {"detail": f"caller {caller} lacks the read scope for user {user}"}


def test_read_one_message_of_another_user_returns_403(client: TestClient, anonymous: TestClient) -> None:
    sms_id = _post(client, user="otto")["sms_id"]
    assert anonymous.get(f"/sms/otto/{sms_id}", headers={"X-API-Key": KEYS["fiona"]}).status_code == 403
    assert anonymous.get(f"/sms/otto/{sms_id}", headers={"X-API-Key": KEYS["web"]}).status_code == 200


@pytest.mark.parametrize(("caller", "status"), [("web", 403), ("fiona", 403), ("telco", 201), ("inbox", 201)])
def test_create_sms_needs_write(anonymous: TestClient, caller: str, status: int) -> None:
    body = {"sender_id": "max", "sms_text": "hi"}
    assert anonymous.post("/sms/fiona", json=body, headers={"X-API-Key": KEYS[caller]}).status_code == status
