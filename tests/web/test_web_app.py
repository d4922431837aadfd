"""The web client's server side: the page, its assets and /config.json from settings."""

import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.web.main import create_app
from api.web.routes import STATIC_DIR
from api.web.settings import WebSettings


@pytest.fixture
def client() -> TestClient:
    settings = WebSettings(
        user_data_url="http://users.test:8111/", feature_proxy_url="http://proxy.test:8999", web_architecture="ii"
    )
    return TestClient(create_app(settings))


def test_config_json_reflects_settings(client: TestClient) -> None:
    response = client.get("/config.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "user_data_url": "http://users.test:8111",
        "model_serving_url": "http://127.0.0.1:8000",
        "feature_proxy_url": "http://proxy.test:8999",
        "architecture": "II",
        "model_version": "v3",
        "feature_service": "sms_features_2",
        "feature_name": "features",
        "fetch_timeout_ms": 3000,
    }


def test_config_json_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_ARCHITECTURE", "I")
    monkeypatch.setenv("WEB_MODEL_VERSION", "v1")
    monkeypatch.setenv("MODEL_SERVING_URL", "http://10.1.2.3:8000")
    config = TestClient(create_app(WebSettings())).get("/config.json").json()
    assert (config["architecture"], config["model_version"], config["model_serving_url"]) == (
        "I",
        "v1",
        "http://10.1.2.3:8000",
    )


@pytest.mark.parametrize(
    "values",
    [
        {"web_architecture": "III"},
        {"web_model_version": "3"},
        {"web_architecture": "II", "web_model_version": "v1"},  # v1 has no v2 token ids to read
        {"user_data_url": "users.test:8111"},
        {"model_serving_url": "http://host/model"},
        {"web_fetch_timeout_ms": 0},
    ],
)
def test_settings_bad_values_are_rejected(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        WebSettings(**values)


def test_index_serves_the_inbox_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for element_id in ("login-form", "user-name", "refresh-button", "messages", "message-template"):
        assert f'id="{element_id}"' in response.text


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


def test_page_script_never_injects_html() -> None:
    # Message texts come from strangers: the script must only ever set textContent.
    script = (STATIC_DIR / "app.js").read_text()
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/metrics").status_code == 200
