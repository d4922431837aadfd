"""CPU per `POST /sms` of the inbox app itself, in-process: middleware, auth, validation and the answer.

    python scripts/bench_inbox_route.py --requests 5000
    valgrind --tool=callgrind python scripts/bench_inbox_route.py --requests 1000   # and --requests 0

The app is the inbox's own (`api.inbox.main.create_app`), called as ASGI with no socket and no lifespan. A
stand-in pipeline answers every message at once, so this measures what each message pays on its own, not
the upstream calls it shares with its batch. Prints CPU µs per request (median and mean of
`time.process_time_ns`) as JSON and a markdown row. Exit status 1 unless every answer is 201.

On a machine whose speed drifts within minutes, count instructions instead: callgrind's total for
`--requests N` minus its total for `--requests 0` (the same start-up and warm-up), divided by N, is the
instructions per request, which two builds give the same way whatever else the machine is doing.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from typing import Any

import uvloop  # the services' loop
from benchlib import PROJECT_ROOT

BENCH_KEY = "bench-inbox-route-key"
os.environ.setdefault("SPAMOPS_API_KEY", BENCH_KEY)  # api.inbox.main builds its module-level app at import
sys.path.insert(0, str(PROJECT_ROOT))  # this tree's app, whichever build the virtual environment installed

from api.inbox.main import create_app  # noqa: E402
from api.inbox.pipeline import Outcome  # noqa: E402
from api.inbox.schemas import Incoming  # noqa: E402
from api.inbox.settings import InboxSettings  # noqa: E402

MESSAGE = {"recipient_id": "bench-user", "sender_id": "+15550001",
           "sms_text": "Are we still on for lunch today? Call me back when you can."}
SMS_ID = "0f0e0d0c-0b0a-1908-0706-050403020100"


class AnsweringPipeline:
    """Every message stored and pushed at once: the route's own work is all that is left."""

    async def receive(self, incoming: Incoming) -> Outcome:
        return Outcome(SMS_ID, pushed=True, reason="stored and features pushed")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="measured requests (0: start-up and warm-up only)")
    parser.add_argument("--warmup", type=int, default=300)
    args = parser.parse_args(argv)
    if args.requests < 0 or args.warmup < 0:
        parser.error("--requests and --warmup must be >= 0")
    return args


def request_scope(body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8222"), (b"content-type", b"application/json"),
               (b"x-api-key", BENCH_KEY.encode()), (b"content-length", str(len(body)).encode()),
               (b"idempotency-key", b"bench-key-0001")]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/sms", "raw_path": b"/sms", "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8222), "state": {}}


async def post(app: Any, body: bytes) -> int:
    """One request through the whole ASGI app; returns its status."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(request_scope(body), receive, send)
    return statuses[0]


async def measure(requests: int, warmup: int) -> tuple[list[int], list[int]]:
    app = create_app(InboxSettings(spamops_api_key=BENCH_KEY, logs_fraction=0.0))  # type: ignore[call-arg]
    app.state.pipeline = AnsweringPipeline()
    body = json.dumps(MESSAGE).encode()
    statuses = [await post(app, body) for _ in range(warmup)]
    cpu_ns = []
    for _ in range(requests):
        started = time.process_time_ns()
        statuses.append(await post(app, body))
        cpu_ns.append(time.process_time_ns() - started)
    return statuses, cpu_ns


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    statuses, cpu_ns = uvloop.run(measure(args.requests, args.warmup))
    command = "python scripts/bench_inbox_route.py " + " ".join(argv if argv is not None else sys.argv[1:])
    result = {
        "benchmark": "inbox POST /sms in-process (ASGI, answering pipeline)",
        "command": command.strip(),
        "requests": args.requests,
        "statuses": {str(status): statuses.count(status) for status in sorted(set(statuses))},
        "cpu_us_median": round(statistics.median(cpu_ns) / 1000, 1) if cpu_ns else None,
        "cpu_us_mean": round(statistics.fmean(cpu_ns) / 1000, 1) if cpu_ns else None,
    }
    print(json.dumps(result))
    print("| requests | CPU µs median | CPU µs mean | statuses | command |\n|---|---|---|---|---|")
    print(f"| {args.requests} | {result['cpu_us_median']} | {result['cpu_us_mean']} | {result['statuses']} "
          f"| `{result['command']}` |")
    return 0 if set(statuses) <= {201} else 1


if __name__ == "__main__":
    raise SystemExit(main())
