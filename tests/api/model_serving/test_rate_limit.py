"""The rate limit holds across 2 workers (api.common.serve) within 10 %, on SQLite and on Cassandra."""

import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cassandra.cluster import Session

from tests.fixtures.cassandra import CassandraEndpoint, cassandra_env, fresh_keyspace
from tests.fixtures.processes import free_port

LIMIT = 300
WINDOW = 4.0
CLIENTS = 8


def _hammer(url: str, until: float) -> Counter[str]:
    seen: Counter[str] = Counter()
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < until:
            response = client.get(url)
            seen[response.text if response.status_code == 200 else str(response.status_code)] += 1
    return seen


def _wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stdout.read()  # type: ignore[union-attr]
        try:
            httpx.get(url + "/docs", timeout=1)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def _run(env: dict[str, str]) -> Counter[str]:
    port = free_port()
    argv = [sys.executable, "-m", "api.common.serve", "tests.api.model_serving.rate_limit_app:app",
            "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(argv, env={**env, "RATE_LIMIT": str(LIMIT), "RATE_WINDOW": str(WINDOW)},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, process)
        time.sleep(1.0)  # both workers listening
        until = time.monotonic() + WINDOW * 0.9  # within one window: nothing expires meanwhile
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(lambda _: _hammer(url + "/", until), range(CLIENTS)))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return sum(results, Counter())


def _check(seen: Counter[str]) -> None:
    admitted = {pid: n for pid, n in seen.items() if pid != "429"}
    print(f"\nadmitted per worker {admitted}, refused {seen['429']}")
    assert len(admitted) == 2, "both workers must have admitted requests"
    assert seen["429"] > LIMIT / 2, "the load must exceed the limit by far"
    assert 0.9 * LIMIT <= sum(admitted.values()) <= 1.1 * LIMIT, admitted


@pytest.mark.slow
def test_limit_holds_across_two_workers_on_sqlite(tmp_path: Path) -> None:
    _check(_run({**os.environ, "STORAGE_BACKEND": "sqlite", "SQLITE_PATH": str(tmp_path / "app.db")}))


@pytest.mark.slow
@pytest.mark.cassandra
def test_limit_holds_across_two_workers_on_cassandra(
    cassandra_endpoint: CassandraEndpoint, cassandra_session: Session
) -> None:
    env = cassandra_env(cassandra_endpoint, fresh_keyspace(cassandra_session))
    _check(_run({**os.environ, "STORAGE_BACKEND": "cassandra", **env}))
