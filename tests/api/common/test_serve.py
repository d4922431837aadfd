"""api.common.serve: N workers, each on its own SO_REUSEPORT socket, so that connections spread."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from api.common.serve import check_port_free
from tests.fixtures.processes import free_port, listeners


def _serve(app: str, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "api.common.serve", app, "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _pids_seen(port: int, connections: int) -> set[str]:
    """One request on each of `connections` fresh keep-alive connections, opened together, once both workers
    listen (the first to listen would otherwise take every connection while the second still starts)."""
    deadline = time.monotonic() + 30
    while listeners(port) < 2:
        assert time.monotonic() < deadline, "the two workers never both listened"
        time.sleep(0.1)
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) for _ in range(connections)]
    try:
        while True:
            try:
                return {client.get("/").text for client in clients}
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        for client in clients:
            client.close()


def test_connections_spread_over_the_workers_and_sigterm_stops_them() -> None:
    port = free_port()
    process = _serve("tests.api.common.pid_app:app", port)
    try:
        pids = _pids_seen(port, 32)
        # 32 connections hashed over 2 sockets all land on one worker with probability 2**-31.
        assert len(pids) == 2, pids
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not any(_alive(int(pid)) for pid in pids)
    finally:
        process.kill()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_freezes_what_its_start_up_built(workers: int) -> None:
    """Full collections then walk only what was made since: they stopped the inbox for 31-82 ms under load."""
    port = free_port()
    process = _serve("tests.api.common.gc_app:app", port, workers)
    try:
        heap = _answer(port)
        # The interpreter, uvicorn and the app's imports: tens of thousands of objects, none walked again.
        assert heap["frozen"] > 20_000, heap
        assert heap["oldest"] < heap["frozen"] / 10, heap
    finally:
        process.kill()


def _answer(port: int) -> dict:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", timeout=5).json()
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the worker never answered"
            time.sleep(0.2)


def test_a_worker_that_dies_is_replaced() -> None:
    port = free_port()
    process = _serve("tests.api.common.pid_app:app", port)
    try:
        killed = min(_pids_seen(port, 32))
        os.kill(int(killed), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(seen := _pids_seen(port, 32)) < 2 or killed in seen:
            assert time.monotonic() < deadline, seen
            time.sleep(0.5)
        assert process.poll() is None
    finally:
        process.kill()


def test_an_app_that_cannot_start_stops_the_supervisor() -> None:
    process = _serve("tests.api.common.pid_app:no_such_app", free_port())
    try:
        assert process.wait(timeout=60) == 1
    finally:
        process.kill()


def test_workers_stop_when_the_supervisor_is_killed_outright() -> None:
    port = free_port()
    process = _serve("tests.api.common.pid_app:app", port)
    try:
        pids = _pids_seen(port, 32)
    finally:
        process.kill()
    process.wait(timeout=10)
    deadline = time.monotonic() + 30
    while any(_alive(int(pid)) for pid in pids):
        assert time.monotonic() < deadline, "orphaned workers still run"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_refuses_a_port_that_something_listens_on() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            check_port_free("127.0.0.1", port)
        process = _serve("tests.api.common.pid_app:app", port)
        try:
            assert process.wait(timeout=30) == 1
            assert b"cannot listen" in process.stdout.read()  # type: ignore[union-attr]
        finally:
            process.kill()


def _scrape_hits(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "feast_" not in text
    [line] = [line for line in text.splitlines() if line.startswith("spamops_test_hits_total ")]
    return float(line.split()[1])


def test_metrics_sum_all_workers_and_never_go_backwards_across_a_killed_worker() -> None:
    port = free_port()
    process = _serve("tests.api.common.metrics_app:app", port)
    try:
        pids = _pids_seen(port, 32)  # 32 requests, spread over both workers
        assert len(pids) == 2, pids
        assert _scrape_hits(port) == 32  # both workers' counts, whichever worker answers the scrape
        os.kill(int(min(pids)), signal.SIGKILL)
        scrapes = []
        deadline = time.monotonic() + 30
        while len(seen := _pids_seen(port, 8)) < 2 or min(pids) in seen:
            scrapes.append(_scrape_hits(port))
            assert time.monotonic() < deadline, seen
        scrapes.append(_scrape_hits(port))
        assert scrapes == sorted(scrapes) and scrapes[0] >= 32 + 8, scrapes  # the dead worker's counts stay
    finally:
        process.terminate()  # SIGTERM: the supervisor removes its metrics directory
        process.wait(timeout=30)
