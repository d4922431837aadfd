"""A lone surrogate anywhere in a JSON body is a 422 naming where, on any service built by create_service_app."""

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.common.app import create_service_app
from api.common.settings import BaseServiceSettings
from api.common.unicode import lone_surrogates


class Body(BaseModel):
    text: str
    items: list[str] = []


@pytest.fixture
def client() -> TestClient:
    app = create_service_app("unicode_test", BaseServiceSettings(logs_fraction=0.0))

    @app.post("/echo")
    async def echo(body: Body) -> Body:
        return body

    return TestClient(app)


def _post(client: TestClient, raw: str) -> tuple[int, dict]:
    response = client.post("/echo", content=raw.encode(), headers={"Content-Type": "application/json"})
    return response.status_code, response.json()


@pytest.mark.parametrize(("raw", "loc"), [
    ('{"text": "\\ud800"}', ["body", "text"]),
    ('{"text": "ok", "items": ["fine", "a\\uDFFFb"]}', ["body", "items", 1]),
    ('{"text": "ok", "\\ud83d": 1}', ["body", "<key>"]),
])
def test_lone_surrogate_is_422_with_location(client: TestClient, raw: str, loc: list) -> None:
    status, body = _post(client, raw)
    assert status == 422
    assert [error["loc"] for error in body["detail"]] == [loc]


def test_surrogate_pair_and_plain_text_pass(client: TestClient) -> None:
    assert _post(client, '{"text": "\\ud83d\\ude00 hi"}') == (200, {"text": "😀 hi", "items": []})
    assert _post(client, json.dumps({"text": "héllo"}))[0] == 200


def test_invalid_json_with_escape_still_gets_fastapis_422(client: TestClient) -> None:
    status, body = _post(client, '{"text": "\\ud800"')
    assert status == 422 and body["detail"][0]["type"] == "json_invalid"


def test_lone_surrogates_walks_nested_values() -> None:
    assert list(lone_surrogates({"a": [{"b": "\ud800"}], "c": "ok"})) == [("body", "a", 0, "b")]
