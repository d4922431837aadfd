"""The web client's server side: the page, its assets, /config.json, and the `/api` backend that holds the key."""

import os
import re
from collections.abc import Iterator

import pytest
from aiohttp import web
from fastapi.testclient import TestClient
from pydantic import ValidationError

# `api.web.main` builds its module-level app from the environment at import time.
os.environ.setdefault("SPAMOPS_API_KEY", "test-api-key")

from api.web.main import create_app
from api.web.routes import STATIC_DIR
from api.web.settings import WebSettings
from tests.fixtures.fake_upstream import FakeUpstream, running_upstream

WEB_KEY = "web-secret-key-123"
KEYS = f"web:{WEB_KEY}:read,ops:ops-secret-key:admin"


def web_settings(**values: object) -> WebSettings:
    # No shared key, so the web key is the only one the backend can send.
    return WebSettings(spamops_api_keys=KEYS, spamops_api_key=None, **values)  # type: ignore[arg-type]


async def backend(request: web.Request) -> web.StreamResponse:
    """user-data, model serving and the proxy in one: echoes what a route needs to see the forwarding."""
    key = request.headers.get("X-API-Key")
    if request.path.startswith("/sms/"):
        headers = {"Link": f'<http://users.internal:8111{request.path}?before=abc&limit=1>; rel="next"'}
        if request.query.get("before") == "abc":
            headers = {}
        body = [{"sms_id": "s1", "user": request.path, "key_ok": key == WEB_KEY, "query": dict(request.query)}]
        return web.json_response(body, headers=headers)
    if request.path == "/model/v3/text_to_prediction":
        return web.json_response({"top": {"label": "spam", "value": 0.9}, "key_ok": key == WEB_KEY})
    if request.path == "/get-online-features":
        return web.json_response({"detail": "not here"}, status=403)
    return web.json_response({"detail": "no route"}, status=404)


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with running_upstream(backend) as server:
        yield server


@pytest.fixture
def client(upstream: FakeUpstream) -> Iterator[TestClient]:
    settings = web_settings(user_data_url=upstream.url, model_serving_url=upstream.url,
                            feature_proxy_url=upstream.url, web_architecture="ii")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_config_json_reflects_settings_and_holds_no_urls(client: TestClient) -> None:
    response = client.get("/config.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "architecture": "II",
        "model_version": "v3",
        "feature_service": "sms_features_2",
        "feature_name": "features",
        "fetch_timeout_ms": 3000,
    }


def test_config_json_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_ARCHITECTURE", "I")
    monkeypatch.setenv("WEB_MODEL_VERSION", "v1")
    monkeypatch.setenv("SPAMOPS_API_KEYS", KEYS)
    monkeypatch.delenv("SPAMOPS_API_KEY")
    with TestClient(create_app(WebSettings())) as client:  # type: ignore[call-arg]
        config = client.get("/config.json").json()
    assert (config["architecture"], config["model_version"]) == ("I", "v1")


@pytest.mark.parametrize(
    "values",
    [
        {"web_architecture": "III"},
        {"web_model_version": "3"},
        {"web_architecture": "II", "web_model_version": "v1"},  # v1 has no v2 token ids to read
        {"user_data_url": "users.test:8111"},
        {"model_serving_url": "http://host/model"},
        {"web_fetch_timeout_ms": 0},
        {"web_caller_name": "nobody"},  # no key for it, and no shared key
    ],
)
def test_settings_bad_values_are_rejected(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        web_settings(**values)


def test_api_sms_forwards_with_the_web_key_and_rewrites_the_link(client: TestClient) -> None:
    response = client.get("/api/sms/fiona", params={"limit": 1, "junk": "x"})
    assert response.status_code == 200
    [item] = response.json()
    assert item["user"] == "/sms/fiona" and item["key_ok"] is True
    assert item["query"] == {"limit": "1"}  # only the paging parameters are forwarded
    assert response.headers["Link"] == '</api/sms/fiona?before=abc&limit=1>; rel="next"'
    last = client.get(response.links["next"]["url"])
    assert last.json()[0]["query"] == {"before": "abc", "limit": "1"}
    assert "Link" not in last.headers


def test_api_sms_applies_the_user_id_rule(client: TestClient) -> None:
    assert client.get("/api/sms/a%20b").status_code == 422
    assert client.get("/api/sms/...").status_code == 422


def test_api_predict_forwards_with_the_web_key(client: TestClient) -> None:
    response = client.post("/api/model/v3/text_to_prediction", json={"text": "win"})
    assert response.json() == {"top": {"label": "spam", "value": 0.9}, "key_ok": True}
    assert client.post("/api/model/v3/recent_call_log", json={}).status_code == 422  # not a page endpoint


def test_api_keeps_the_upstream_status_and_detail(client: TestClient) -> None:
    response = client.post("/api/get-online-features", json={"feature_service": "labeled_sms_1"})
    assert (response.status_code, response.json()) == (403, {"detail": "not here"})


def test_api_upstream_down_is_503() -> None:
    settings = web_settings(user_data_url="http://127.0.0.1:9", upstream_timeout_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/sms/fiona")
    assert response.status_code == 503 and "detail" in response.json()


def test_no_key_reaches_the_page(client: TestClient) -> None:
    # Everything the page loads: its HTML, script, style, config, and every JSON answer it gets.
    bodies = [client.get(path).text for path in ("/", "/static/app.js", "/static/style.css", "/config.json")]
    page = client.get("/api/sms/fiona")
    bodies += [page.text, str(page.headers), client.post("/api/model/v3/text_to_prediction", json={"text": "x"}).text]
    bodies.append(client.post("/api/get-online-features", json={}).text)
    for text in bodies:
        assert WEB_KEY not in text and "ops-secret-key" not in text


def test_index_serves_the_inbox_page_with_the_demo_login_note(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for element_id in ("login-form", "user-name", "refresh-button", "messages", "message-template"):
        assert f'id="{element_id}"' in response.text
    assert "Demo login" in response.text


@pytest.mark.parametrize(("asset", "media"), [("app.js", "javascript"), ("style.css", "text/css")])
def test_static_assets_are_served(client: TestClient, asset: str, media: str) -> None:
    response = client.get(f"/static/{asset}")
    assert response.status_code == 200
    assert media in response.headers["content-type"]


def test_page_loads_nothing_from_other_hosts() -> None:
    # No CDN: every src/href in the page is a local path, so the page works with no network.
    html = (STATIC_DIR / "index.html").read_text()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references
    assert all(ref.startswith("/static/") for ref in references)
    assert "//" not in (STATIC_DIR / "style.css").read_text().replace("http://", "")


def test_page_script_calls_only_its_own_origin_and_never_injects_html() -> None:
    script = (STATIC_DIR / "app.js").read_text()
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert "http://" not in script and "X-API-Key" not in script


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/metrics").status_code == 200
