"""X-Forwarded-For counts only from FORWARDED_ALLOW_IPS (uvicorn's proxy handling, wired in api.common.serve);
X-Caller-Id never counts. Real processes on loopback, so the client address is 127.0.0.1."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from api.common.settings import ServerSettings
from tests.fixtures.processes import free_port

FORGED = {"X-Forwarded-For": "10.9.8.7", "X-Caller-Id": "ops"}


@pytest.fixture
def serve(request: pytest.FixtureRequest) -> Iterator[str]:
    """`python -m api.common.serve` with FORWARDED_ALLOW_IPS and worker count from the test's parameter."""
    trusted, workers = request.param
    port = free_port()
    env = {**os.environ, "FORWARDED_ALLOW_IPS": trusted}
    argv = [sys.executable, "-m", "api.common.serve", "tests.api.common.caller_app:app", "--port", str(port),
            "--workers", str(workers)]
    process = subprocess.Popen(argv, env=env, start_new_session=True)
    try:
        yield _wait_until_up(f"http://127.0.0.1:{port}")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_until_up(url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=2)
            return url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _caller(url: str, headers: dict[str, str]) -> str:
    return httpx.get(url, headers=headers, timeout=5).json()["name"]


def test_server_settings_trust_no_proxy_by_default() -> None:
    assert ServerSettings(_env_file=None).forwarded_allow_ips == []  # type: ignore[call-arg]


@pytest.mark.parametrize("serve", [("", 1), ("", 2), ("10.0.0.1", 1)], indirect=True,
                         ids=["none-trusted", "none-trusted-2-workers", "another-proxy-trusted"])
def test_forged_headers_from_a_non_proxy_change_nothing(serve: str) -> None:
    assert _caller(serve, FORGED) == "addr:127.0.0.1"
    assert _caller(serve, {"X-Caller-Id": "ops"}) == "addr:127.0.0.1"


@pytest.mark.parametrize("serve", [("127.0.0.1", 1), ("10.0.0.1, 127.0.0.0/8", 2)], indirect=True,
                         ids=["loopback-trusted", "cidr-trusted-2-workers"])
def test_forwarded_for_from_a_configured_proxy_is_honoured(serve: str) -> None:
    assert _caller(serve, FORGED) == "addr:10.9.8.7"
    assert _caller(serve, {"X-Forwarded-For": "10.9.8.7", "X-API-Key": "ops-key"}) == "ops"
