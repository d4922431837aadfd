"""`/docs` of every service renders in headless Chromium with every non-loopback host unreachable.

The five apps and `feast serve` run as real processes (the browser tests' platform, plus an inbox wired
to it); the browser's proxy for any other host is a closed port, so a page that needs a CDN stays blank.
`feast serve` gets its page from feature_repo/static_artifacts.py; the last two tests run that hook through
Feast's own loader, in-process.
"""

import asyncio
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from feast.feature_server import load_static_artifacts
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from contract.paths import FEATURE_REPO_DIR, PROJECT_ROOT
from ops.topology import platform_services
from tests.fixtures.processes import free_port, running
from tests.web.conftest import API_KEY, WebPlatform

pytestmark = pytest.mark.slow
WAIT_SECONDS = 15.0
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
FASTAPI_CDN_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
SERVICES = ["feature_server", "model_serving", "user_data", "inbox", "feature_proxy", "web"]
# What shows the page is the feature server's own, not some other app's.
OPERATIONS_OF_NOTE = {"feature_server": {"/push", "/get-online-features"}}
# An absolute or protocol-relative URL's host, wherever it appears in a page (attributes, scripts).
URL_HOST = re.compile(r"(?:https?:)?//([\w.-]+)")


@pytest.fixture(scope="module")
def service_urls(web_platform: WebPlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    inbox = platform_services({"inbox": free_port()})["inbox"]
    env = {
        "PYTHONPATH": str(PROJECT_ROOT),
        "SPAMOPS_API_KEY": API_KEY,
        "STORAGE_BACKEND": "sqlite",
        "SQLITE_PATH": str(tmp_path_factory.mktemp("docs_inbox") / "inbox.db"),
        "USER_DATA_URL": web_platform.user_data_url,
        "MODEL_SERVING_URL": web_platform.model_serving_url,
        "FEATURE_SERVER_URL": web_platform.feature_server_url,
        "LOG_LEVEL": "WARNING",
    }
    with running(inbox, tmp_path_factory.mktemp("docs_run"), env):
        yield {
            "feature_server": web_platform.feature_server_url,
            "model_serving": web_platform.model_serving_url,
            "user_data": web_platform.user_data_url,
            "inbox": inbox.url,
            "feature_proxy": web_platform.feature_proxy_url,
            "web": web_platform.web_urls["I"],
        }


def openapi(base_url: str) -> dict[str, Any]:
    return httpx.get(f"{base_url}/openapi.json", timeout=10).raise_for_status().json()


def operation_count(spec: dict[str, Any]) -> int:
    return sum(1 for item in spec["paths"].values() for method in item if method in HTTP_METHODS)


def rendered_operations(driver: WebDriver, expected: int) -> int:
    """Swagger UI's operation rows once it has drawn them all (0 if it never draws: a blank page)."""
    with contextlib.suppress(TimeoutException):
        WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= expected
        )
    return len(driver.find_elements(By.CSS_SELECTOR, ".opblock"))


def rendered_paths(driver: WebDriver) -> set[str]:
    elements = driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    return {element.get_attribute("data-path") for element in elements}


def requested_hosts(driver: WebDriver) -> set[str]:
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return {urlsplit(url).hostname or "" for url in [driver.current_url, *urls]}


@pytest.mark.parametrize("service", SERVICES)
def test_docs_render_with_external_hosts_blocked(
    offline_browser: WebDriver, service_urls: dict[str, str], service: str, tmp_path: Path
) -> None:
    base_url = service_urls[service]
    spec = openapi(base_url)
    expected = operation_count(spec)
    assert expected > 0

    offline_browser.get(f"{base_url}/docs")
    drawn = rendered_operations(offline_browser, expected)
    offline_browser.save_screenshot(str(tmp_path / f"docs_{service}.png"))

    assert drawn == expected, f"{service}: {drawn} of {expected} operations rendered"
    paths = rendered_paths(offline_browser)
    assert paths == set(spec["paths"])
    assert OPERATIONS_OF_NOTE.get(service, set()) <= paths
    assert offline_browser.find_element(By.CSS_SELECTOR, ".info .title").text.startswith(spec["info"]["title"])
    assert requested_hosts(offline_browser) <= LOOPBACK_HOSTS


@pytest.mark.parametrize("service", SERVICES)
def test_docs_html_references_no_external_host(service_urls: dict[str, str], service: str) -> None:
    base_url = service_urls[service]
    page = httpx.get(f"{base_url}/docs", timeout=10).raise_for_status()
    assert "swagger-ui-bundle.js" in page.text
    assert set(URL_HOST.findall(page.text)) <= LOOPBACK_HOSTS
    # FastAPI's other default page loads ReDoc from a CDN: no service keeps it.
    assert httpx.get(f"{base_url}/redoc", timeout=10).status_code == 404


def test_offline_browser_cannot_reach_a_cdn(offline_browser: WebDriver, service_urls: dict[str, str]) -> None:
    # What makes the test above mean something: FastAPI's default docs page would load this and fail.
    offline_browser.get(f"{service_urls['web']}/health")
    outcome = offline_browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {mode: 'no-cors'}).then(() => done('loaded'), (e) => done('failed: ' + e));",
        FASTAPI_CDN_CSS,
    )
    assert outcome.startswith("failed"), outcome


def test_feast_hook_installs_offline_docs() -> None:
    app = FastAPI()  # FastAPI's defaults, as Feast builds its app: /docs and /redoc from a CDN
    asyncio.run(load_static_artifacts(app, SimpleNamespace(repo_path=str(FEATURE_REPO_DIR))))
    client = TestClient(app)
    assert set(URL_HOST.findall(client.get("/docs").text)) == set()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_feast_hook_failure_gets_past_feasts_loader() -> None:
    # Feast turns an Exception from the hook into a warning; the hook's failure must stop the worker instead.
    with pytest.raises(SystemExit, match="could not install /docs"):
        asyncio.run(load_static_artifacts(object(), SimpleNamespace(repo_path=str(FEATURE_REPO_DIR))))
