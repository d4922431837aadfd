"""Browser-test fixtures: the whole platform as real processes on free ports, and headless Chromium.

Processes (ops.topology's definitions, as `make up` runs them, on free ports): `feast serve`, model
serving (v1-v3), user data, the feature proxy, and one web app per page variant: architecture I,
architecture II, and architecture II whose proxy URL is a closed port or a socket that never answers
(to prove the fallback and the fetch deadline).
Every service allows every web origin (CORS).
"""

import contextlib
import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.remote.webdriver import WebDriver

from contract.paths import PROJECT_ROOT
from ops.topology import Service, platform_services
from tests.fixtures.platform import environment
from tests.fixtures.processes import free_port, running_all
from tests.web.seed import SeededSms, fetch_inbox, push_v2_features, run_seed_script, the_spam

API_KEY = "web-test-key"  # the shared (admin) key: the seed and the tests' own writes
# The page's backend reads under its own name with read only, as `make up` configures it.
WEB_KEYS = "web:web-page-test-key:read"
MODEL_VERSION = "v3"
# The flags these machines need: no sandbox as root, no GPU, and nothing that reaches the network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1000,1200",
)
# variant -> (WEB_ARCHITECTURE, the proxy the page is given: the real one, a closed port, or one that never answers)
WEB_VARIANTS = {
    "I": ("I", "live"),
    "II": ("II", "live"),
    "II-proxy-down": ("II", "closed"),
    "II-proxy-hangs": ("II", "silent"),
}
FETCH_TIMEOUT_MS = {"silent": "1500"}  # short, so the hung proxy costs the test little; others use 5000


@dataclass(frozen=True)
class WebPlatform:
    user_data_url: str
    model_serving_url: str
    feature_proxy_url: str
    feature_server_url: str
    web_urls: dict[str, str]
    inbox: list[SeededSms]  # newest first, as user-data lists it
    spam_id: str
    without_features_id: str


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """Completes TCP handshakes (the kernel does, from the backlog) and never answers: a hung upstream."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def topology(ports: dict[str, int], feast_repo: Path) -> dict[str, Service]:
    """The platform's services on this test's ports; the web app is a template for the variants."""
    return platform_services({**ports, "feature_proxy": ports["proxy"]}, repo=feast_repo)


def web_services(
    ports: dict[str, int], urls: dict[str, str], template: Service
) -> list[tuple[Service, dict[str, str]]]:
    services = []
    for variant, (architecture, proxy) in WEB_VARIANTS.items():
        env = {
            "SPAMOPS_API_KEYS": WEB_KEYS,
            "USER_DATA_URL": urls["user_data"],
            "MODEL_SERVING_URL": urls["model_serving"],
            "FEATURE_PROXY_URL": urls[proxy],
            "WEB_ARCHITECTURE": architecture,
            "WEB_MODEL_VERSION": MODEL_VERSION,
            "WEB_FETCH_TIMEOUT_MS": FETCH_TIMEOUT_MS.get(proxy, "5000"),
        }
        services.append((replace(template, name=f"web_{variant}", port=ports[f"web_{variant}"]), env))
    return services


def user_data_env(run_dir: Path) -> dict[str, str]:
    """What the user-data service and the seed script share: the same SQLite file."""
    return {"SPAMOPS_API_KEY": API_KEY, "STORAGE_BACKEND": "sqlite", "SQLITE_PATH": str(run_dir / "user_data.db")}


def backend_services(
    services: dict[str, Service], urls: dict[str, str], *, feast_repo: Path, models_dir: Path, run_dir: Path
) -> list[tuple[Service, dict[str, str]]]:
    origins = ",".join(urls[f"web_{variant}"] for variant in WEB_VARIANTS)
    common = {"PYTHONPATH": str(PROJECT_ROOT), "CORS_ORIGINS": origins, "LOG_LEVEL": "WARNING",
              "SPAMOPS_API_KEYS": WEB_KEYS}
    serving_env = {
        "SPAM_MODEL_VERSIONS": "v1,v2,v3",
        "MODELS_DIR": str(models_dir),
        "FEATURE_REPO_PATH": str(feast_repo),
        "SQLITE_PATH": str(run_dir / "model_serving.db"),
    }
    return [
        (services["feature_server"], {}),
        (services["model_serving"], {**common, **serving_env}),
        (services["user_data"], {**common, **user_data_env(run_dir)}),
        (services["feature_proxy"], {**common, "FEATURE_SERVER_URL": urls["feature_server"]}),
    ]


def seed(urls: dict[str, str], user_data_env: dict[str, str]) -> tuple[list[SeededSms], str, str]:
    """The demo seed for fiona; every message but the oldest (a ham one) gets its v2 features online."""
    run_seed_script(user_data_env)
    inbox = fetch_inbox(urls["user_data"], api_key=API_KEY)
    push_v2_features(inbox[:-1], model_serving_url=urls["model_serving"], feature_server_url=urls["feature_server"])
    return inbox, the_spam(inbox).sms_id, inbox[-1].sms_id


@pytest.fixture(scope="session")
def web_platform(feast_repo: Path, models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebPlatform]:
    run_dir = tmp_path_factory.mktemp("web_run")
    names = ["feature_server", "model_serving", "user_data", "proxy", *(f"web_{v}" for v in WEB_VARIANTS)]
    ports = {name: free_port() for name in names}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    with silent_server() as silent_url:
        urls.update(live=urls["proxy"], closed=f"http://127.0.0.1:{free_port()}", silent=silent_url)
        platform = topology(ports, feast_repo)
        services = [
            *backend_services(platform, urls, feast_repo=feast_repo, models_dir=models_dir, run_dir=run_dir),
            *web_services(ports, urls, platform["web"]),
        ]
        with running_all(services, run_dir):
            inbox, spam_id, without_features_id = seed(urls, {**os.environ, **user_data_env(run_dir)})
            yield WebPlatform(
                user_data_url=urls["user_data"],
                model_serving_url=urls["model_serving"],
                feature_proxy_url=urls["proxy"],
                feature_server_url=urls["feature_server"],
                web_urls={variant: urls[f"web_{variant}"] for variant in WEB_VARIANTS},
                inbox=inbox,
                spam_id=spam_id,
                without_features_id=without_features_id,
            )


# Every request to a host other than loopback goes to a closed port (Chromium keeps loopback direct), and
# no name but localhost resolves: what an air-gapped machine gives a page.
OFFLINE_FLAGS = (
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)


def chromium(profile: Path, extra_flags: tuple[str, ...] = ()) -> WebDriver:
    """Debian's chromium driven by its own chromedriver (same package version, so they always match)."""
    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.fail("chromium/chromedriver not found: run scripts/install_browser.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, *extra_flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = ChromeService(executable_path=driver_path, log_output=str(profile.parent / f"{profile.name}.log"))
    # Both paths are given, so Selenium Manager (which would try the network) is never consulted.
    with environment(SE_OFFLINE="true"):
        driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium_profile"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def offline_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium_offline_profile"), OFFLINE_FLAGS)
    try:
        yield driver
    finally:
        driver.quit()
