"""Client CPU per request of the async HTTP clients the services could use, against one trivial server.

    python scripts/bench_http_clients.py --requests 5000 --concurrency 16

Starts a trivial uvicorn app (one worker, httptools, uvloop) in its own process, then for each client
posts the same small JSON body `--requests` times from `--concurrency` tasks sharing one client, and
reports the client process's CPU time per request (`time.process_time`, which excludes the server),
the server's CPU per request (from /proc of the server process) and requests/s. Prints JSON lines and
a markdown table. The client that costs least CPU per request, at equal correctness, is the one the
inbox uses (docs/benchmarks.md).
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

BODY = {"recipient_id": "bench", "sender_id": "s", "sms_text": "Are we still on for lunch today?"}
SERVER_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.post("/echo")
async def echo(body: dict) -> dict:
    return {"ok": True, "n": len(body)}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(port: int, directory: str) -> subprocess.Popen:
    with open(os.path.join(directory, "trivial_app.py"), "w") as file:
        file.write(SERVER_APP)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "trivial_app:app", "--port", str(port), "--no-access-log",
         "--log-level", "warning", "--loop", "uvloop", "--http", "httptools"],
        cwd=directory, start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/echo", json=BODY, timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("trivial server did not start")


async def drive(send: Callable[[], Awaitable[None]], requests: int, concurrency: int) -> None:
    remaining = iter(range(requests))

    async def worker() -> None:
        for _ in remaining:
            await send()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def with_httpx(url: str, requests: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=5.0, limits=limits) as client:
        async def send() -> None:
            (await client.post(url, json=BODY)).raise_for_status()

        await drive(send, requests, concurrency)


async def with_aiohttp(url: str, requests: int, concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=5.0)) as session:
        async def send() -> None:
            async with session.post(url, json=BODY) as response:
                response.raise_for_status()
                await response.json()

        await drive(send, requests, concurrency)


CLIENTS = {"httpx": with_httpx, "aiohttp": with_aiohttp}


def measure(name: str, url: str, server_pid: int, requests: int, concurrency: int) -> dict:
    asyncio.run(CLIENTS[name](url, 200, concurrency))  # warm-up: connections, imports
    cpu, server_cpu, wall = time.process_time(), process_cpu_seconds(server_pid), time.perf_counter()
    asyncio.run(CLIENTS[name](url, requests, concurrency))
    wall = time.perf_counter() - wall
    return {
        "client": name, "requests": requests, "concurrency": concurrency,
        "client_cpu_us_per_request": round((time.process_time() - cpu) / requests * 1e6, 1),
        "server_cpu_us_per_request": round((process_cpu_seconds(server_pid) - server_cpu) / requests * 1e6, 1),
        "requests_per_s": round(requests / wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="alternate the clients this many times")
    args = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        server = start_server(port, directory)
        try:
            rows = [measure(name, f"http://127.0.0.1:{port}/echo", server.pid, args.requests, args.concurrency)
                    for _ in range(args.rounds) for name in CLIENTS]
        finally:
            os.killpg(server.pid, signal.SIGKILL)
    for row in rows:
        print(json.dumps(row))
    print("| client | concurrency | client CPU µs/req | server CPU µs/req | req/s |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['client']} | {row['concurrency']} | {row['client_cpu_us_per_request']} "
              f"| {row['server_cpu_us_per_request']} | {row['requests_per_s']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
