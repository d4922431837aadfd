"""A load generator for the serve tests, run as its own process so it never shares a GIL with the server.

    python -m tests.api.common.load_client URL PATH CLIENTS OUT.json [BODY_JSON]

It runs until its stdin is closed (or MAX_SECONDS), then writes the results to OUT.json. Each client
thread sends requests back to back, each on a fresh connection (so new connections keep landing on
whichever workers listen), and records when it started (CLOCK_MONOTONIC, which other
processes on the machine share), how long it took, and whether it failed.
"""

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

TIMEOUT = 10.0
MAX_SECONDS = 120.0


def one_request(host: str, port: int, path: str, body: bytes | None) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        headers = {"Content-Type": "application/json", "Connection": "close"}
        connection.request("POST" if body else "GET", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        connection.close()


def client(url: str, path: str, body: bytes | None, stop: threading.Event,
           results: list[tuple[float, float, bool]]) -> None:
    parts = urlsplit(url)
    while not stop.is_set():
        started = time.monotonic()
        ok = one_request(parts.hostname or "127.0.0.1", parts.port or 80, path, body)
        results.append((started, time.monotonic() - started, ok))


def main(argv: list[str]) -> None:
    url, path, clients, out = argv[:4]
    body = argv[4].encode() if len(argv) > 4 else None
    stop = threading.Event()
    results: list[tuple[float, float, bool]] = []
    threads = [threading.Thread(target=client, args=(url, path, body, stop, results)) for _ in range(int(clients))]
    for thread in threads:
        thread.start()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait(MAX_SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    with open(out, "w") as file:
        json.dump(results, file)


if __name__ == "__main__":
    main(sys.argv[1:])
