"""A load generator for the serve tests, run as its own process so it never shares a GIL with the server.

    python -m tests.api.common.load_client URL PATH CLIENTS OUT.json [BODY_JSON]

It runs until its stdin is closed (or MAX_SECONDS), then writes the results to OUT.json. Each client
thread sends requests back to back, each on a fresh connection (so new connections keep landing on
whichever workers listen), and records when it started (CLOCK_MONOTONIC, which other
processes on the machine share), how long it took, and whether it failed.

A connection is closed with a reset (SO_LINGER 0), not a FIN, so it leaves no TIME_WAIT socket behind.
With `Connection: close` every request left one for 60 s: ~10,000 rows in /proc/net/tcp by the time a
worker was killed, so each read of it by the serve test (to count listening sockets, every 20 ms while
the replacement started) took 130-210 ms of kernel time on a loaded machine, and requests in flight
stalled for 150-320 ms; without TIME_WAIT the table holds ~100 rows and the stalls were 130-170 ms there.
"""

import http.client
import json
import socket
import struct
import sys
import threading
import time
from urllib.parse import urlsplit

TIMEOUT = 10.0
MAX_SECONDS = 120.0
ABORT_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() resets, so no TIME_WAIT is left anywhere


def one_request(host: str, port: int, path: str, body: bytes | None) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.connect()
        connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ABORT_ON_CLOSE)
        connection.request("POST" if body else "GET", path, body=body, headers={"Content-Type": "application/json"})
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
