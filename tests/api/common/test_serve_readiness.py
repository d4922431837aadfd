"""A killed model-serving worker's replacement is warm when it accepts, and /metrics never goes backwards.

Model serving runs as `make up` runs it (ops.topology: api.common.serve, 2 workers). A load generator
in its own process sends text_to_prediction on fresh connections while this test scrapes /metrics; one
worker is SIGKILLed; the test waits until the replacement listens (two listening sockets on the port
again) and lets the load run on. Issue 12's bound: from the kill on, no request takes more than
ALLOWED_EXTRA_MS over the usual p99 (measured in the same run, before the kill), and the only failures
allowed are requests the dead worker held (sent by then).
The replacement starts niced (api.common.serve) and is back at the supervisor's priority, every thread
of it, once it listens: started at the usual priority, its imports and loading took the surviving
worker's CPU and requests waited up to 0.5 s. A replacement that listened before its lifespan finished
held connections for seconds; one that listened cold made its first requests pay 134-146 ms (lazy
routes, threadpoolctl, a full collection over the start-up heap: api.model_serving.main._warm_up).
The request counter summed over the workers must never fall, and must count every request served.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ops import processes
from ops.topology import platform_services
from tests.fixtures.processes import free_port, listeners

CLIENTS = 4
BASELINE_SECONDS = 4.0
AFTER_READY_SECONDS = 4.0
# Issue 12's bound, while the replacement starts and after. While one worker served alone, requests used
# to wait 50-120 ms over the usual p99, all in flight together: full collections in the survivor, which
# walked ~3,000 reset connections that uvicorn kept alive (api.common.http_protocol), and this test's own
# scrapes, which built an httpx client each time. Without both, the worst was 15-56 ms over, in 10 runs,
# but CI's full suite on 2 cores once saw a lone 110 ms, 0.5 s after the kill, while this test read
# /proc/net/tcp every 20 ms (replacement_listens).
ALLOWED_EXTRA_MS = 100.0
BODY = json.dumps({"text": "WINNER!! Claim your free prize now", "skip_cache": True})
ROUTE = "/model/v3/text_to_prediction"
SCRAPE_SECONDS = 0.2


def workers(pid: int) -> list[int]:
    """The supervisor's worker processes (multiprocessing's spawn children; not its resource tracker)."""
    found = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [child for child in found if b"spawn_main" in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):  # it ended since the supervisor's children were listed
        return b""


def niceness(pid: int) -> set[int]:
    """The nice values of a process's threads (Linux keeps one per thread)."""
    values = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            values.add(int((task / "stat").read_text().rsplit(")", 1)[1].split()[16]))
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
    return values


def wait_for(condition: object, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return time.monotonic()


def served(scraper: httpx.Client) -> float | None:
    """ROUTE's 200s in /metrics, summed over the workers; None if the scrape failed (it may hit the dead one)."""
    try:
        text = scraper.get("/metrics").text
    except httpx.TransportError:
        return None
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("spamops_http_requests_total{") and f'route="{ROUTE}"' in line
               and 'status="200"' in line)


def scrape_until(scraper: httpx.Client, stop: threading.Event, counts: list[float]) -> None:
    while not stop.wait(SCRAPE_SECONDS):
        if (count := served(scraper)) is not None:
            counts.append(count)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


@pytest.mark.slow
def test_a_killed_workers_replacement_accepts_warm_and_metrics_never_go_backwards(
    feast_repo: Path, models_dir: Path, tmp_path: Path
) -> None:
    service = platform_services({"model_serving": free_port()}, repo=feast_repo)["model_serving"]
    env = {"SPAM_MODEL_VERSIONS": "v1,v2,v3", "MODELS_DIR": str(models_dir), "FEATURE_REPO_PATH": str(feast_repo),
           "SQLITE_PATH": str(tmp_path / "serving.db"), "LOG_LEVEL": "WARNING",
           "SPAMOPS_API_KEY": "readiness-test-key", "RATE_LIMIT_ANONYMOUS": "0"}
    server = processes.start(service, tmp_path, env)
    usual = niceness(os.getpid()).pop()  # the supervisor's, as its parent's
    out = tmp_path / "load.json"
    stop_scraping, counts = threading.Event(), list[float]()
    # One client for every scrape: httpx.get builds a client, and its TLS context, each time (~40 ms of
    # this process's CPU on a quiet machine), which every 0.2 s took CPU from the load it measures.
    scraper_client = httpx.Client(base_url=service.url, timeout=5)
    try:
        processes.wait_healthy(service, timeout=120, process=server)
        wait_for(lambda: listeners(service.port) == 2, 60, "both workers to listen")
        argv = [sys.executable, "-m", "tests.api.common.load_client", service.url, ROUTE, str(CLIENTS), str(out), BODY]
        load = subprocess.Popen(argv, stdin=subprocess.PIPE)
        scraper = threading.Thread(target=scrape_until, args=(scraper_client, stop_scraping, counts))
        scraper.start()
        time.sleep(BASELINE_SECONDS)
        first = workers(server.pid)
        killed_at = time.monotonic()
        os.kill(first[0], signal.SIGKILL)
        closed_at = wait_for(lambda: listeners(service.port) == 1, 5, "the dead worker's socket to close")
        wait_for(lambda: len(set(workers(server.pid)) - set(first)) == 1, 10, "the replacement to start")
        [replacement] = set(workers(server.pid)) - set(first)
        starting: set[int] = set()  # every nice value seen on its threads while it starts

        def replacement_listens() -> bool:
            nice = niceness(replacement)
            starting.update(nice)
            # A read of /proc/net/tcp walks the kernel's whole TCP table (~12 ms of CPU on this machine), and
            # read every 20 ms while the survivor served alone it took a core's share from it: read it only
            # once the replacement is back at the usual priority, which it takes just before it listens.
            return nice == {usual} and listeners(service.port) == 2

        ready_at = wait_for(replacement_listens, 120, "the replacement to listen")
        listening = niceness(replacement)
        time.sleep(AFTER_READY_SECONDS)
        load.stdin.close()  # type: ignore[union-attr]  # the generator stops and writes its results
        assert load.wait(timeout=30) == 0
        stop_scraping.set()
        scraper.join()
        final = served(scraper_client)  # after the load, so it counts every request
        assert final is not None, "the last /metrics scrape failed"
        counts.append(final)
    finally:
        stop_scraping.set()
        scraper_client.close()
        processes.stop_group(server.pid)
        server.wait(timeout=10)
    assert min(usual + 19, 19) in starting and listening == {usual}, (usual, starting, listening)
    results = json.loads(out.read_text())
    _check_metrics(counts, sum(1 for *_, ok in results if ok))
    _check_latency(results, killed_at, closed_at, ready_at)


def _check_metrics(counts: list[float], ok: int) -> None:
    assert len(counts) > 20 and counts == sorted(counts), counts
    # Every answered request was counted, the dead worker's included; it may have counted a few more
    # (answered, but its client lost the answer).
    assert counts[-1] >= ok, (counts[-1], ok)


def _check_latency(results: list[list[float]], killed_at: float, closed_at: float, ready_at: float) -> None:
    before = [latency for started, latency, ok in results if started + latency < killed_at and ok]
    after = [(started, latency, ok) for started, latency, ok in results if started + latency >= killed_at]
    slow = [(round(started - killed_at, 2), round(latency * 1000)) for started, latency, _ in after
            if latency > p99(before) + ALLOWED_EXTRA_MS / 1000]
    errors = [round(started - killed_at, 2) for started, _, ok in after if not ok]
    served_after_ready = sum(1 for started, _, ok in after if ok and started > ready_at)
    worst_after = max(latency for _, latency, _ in after)
    print(f"\nusual p99 {p99(before) * 1000:.1f} ms over {len(before)} requests; after the kill: {len(after)} "
          f"requests, max {worst_after * 1000:.1f} ms, {len(errors)} failed; replacement listening "
          f"{ready_at - killed_at:.1f} s after the kill, {served_after_ready} requests after that")
    assert len(before) > 100 and served_after_ready > 100, (len(before), served_after_ready)
    assert not slow, (f"usual p99 {p99(before) * 1000:.1f} ms, replacement listening {ready_at - killed_at:.1f} s "
                      f"after the kill; (s after kill, ms) over the limit: {slow[:20]}")
    # Only requests sent before the dead worker's socket closed can have landed on it (in flight, or queued
    # in its accept backlog, which is why a client can lose two; a loaded machine takes 0.1-0.2 s to tear
    # the process down); anything sent later must succeed.
    late = [at for at in errors if at > closed_at - killed_at]
    assert not late, f"failed requests at (s after kill): {errors}"
