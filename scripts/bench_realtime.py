"""Benchmark the real-time path from a separate load-generator process (DESIGN §9).

Needs the platform running on loopback (feast serve, model serving, user-data, inbox), e.g.:
    SPAMOPS_API_KEY=... python scripts/bench_realtime.py --requests 300 --concurrency 1
    SPAMOPS_API_KEY=... python scripts/bench_realtime.py --requests 1000 --concurrency 16

Latency: each client POSTs a message to the inbox and waits until a read of `feast serve`
/get-online-features finds the message's v2 features PRESENT. One sample (p50/p99 over all) is the
time from sending the POST until the message is known to be online:
- A 201 promises the features were online before the answer was sent (the inbox answers only after
  feast serve's online push returned 200). The first read after the answer must find them; then the
  sample is the answer's time. A 201 that read does not find is a broken promise: counted
  (`late_201`, exit status 1), and its sample is the time of the read that finds it.
- A 202 (push pending) is polled until found; its sample is the time of the read that finds it.
So the sample never depends on how often the watcher reads, and the watcher can read every
`--poll-interval` (50 ms) instead of continuously: continuous reads took about half of feast serve's
CPU, which the write path under test needs. One watcher reads every message waiting in one request
per poll; how long after its answer a 201 was confirmed is reported too. A client sends its next
message as soon as its answer arrives (as a telco's webhook would), while the read that confirms the
last one runs beside it; the run, and the throughput's clock, end when every message is confirmed.
The load generator sends with the lean keep-alive client that `bench_serving.py`, the serving rate's
benchmark, uses (`benchlib.RawConnection`), on uvloop as the services run: on 2 cores its CPU is taken
from the servers under test, and with aiohttp on asyncio's own loop it was ~0.2-0.3 ms per message,
against ~0.1 now (`cpu_ms_per_msg.load_generator`), so the two benchmarks of one round now cost their
servers the same. Each client keeps one connection to the inbox; the watcher keeps its own.
Every message's text is new to the platform (a token per run), so no run is helped by model serving's
cache holding an earlier run's texts. Throughput: messages per second over the whole run. Requests
are bounded (--requests <= 20000) and only loopback URLs are accepted. Prints one JSON object and a
markdown table. Exit status 1 if any message failed or never appeared online.
"""

import argparse
import asyncio
import json
import os
import secrets
import shlex
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvloop
from benchlib import RawConnection, group_cpu_seconds, http_request, percentile

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_REQUESTS = 20_000
TEXTS = (
    "WINNER!! You have been selected to receive a £900 prize reward! Call 09061701461 to claim",
    "Are we still on for lunch today?",
    "URGENT! Your mobile number has won a 2,000 bonus caller prize. Call 09058094455 now",
    "Running 10 mins late, save me a seat",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inbox-url", default="http://127.0.0.1:8222")
    parser.add_argument("--feature-server-url", default="http://127.0.0.1:6566")
    parser.add_argument("--api-key", default=os.environ.get("SPAMOPS_API_KEY"), help="default: $SPAMOPS_API_KEY")
    parser.add_argument("--requests", type=int, default=300, help=f"measured messages (at most {MAX_REQUESTS})")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured messages first")
    parser.add_argument("--concurrency", type=int, default=1, help="concurrent clients")
    parser.add_argument("--recipient", default="bench", help="user id the messages are sent to")
    parser.add_argument("--poll-interval", type=float, default=0.05, help="seconds between online reads")
    parser.add_argument("--deadline", type=float, default=30.0, help="give up on a message after this many seconds")
    parser.add_argument("--run-dir", type=Path, default=None,
                        help="the platform's run directory (.run, or scripts/bench_platform.py's): also report each "
                             "service's CPU milliseconds per measured message (warm-up included, polling too), "
                             "and the load generator's own")
    args = parser.parse_args(argv)
    # Every text new to the platform, as real messages are: with the same texts in each run, model serving
    # answered the inbox's features calls from its cache from the second run on (~0.1 ms less per message).
    args.run_id = secrets.token_hex(4)
    if not args.api_key:
        parser.error("an API key is needed: --api-key or SPAMOPS_API_KEY")
    if not 1 <= args.requests <= MAX_REQUESTS or not 1 <= args.concurrency <= 256 or args.warmup < 0:
        parser.error(f"--requests must be 1..{MAX_REQUESTS}, --concurrency 1..256, --warmup >= 0")
    for url in (args.inbox_url, args.feature_server_url):
        if urlsplit(url).hostname not in LOOPBACK:
            parser.error(f"{url}: only loopback URLs are allowed")
    return args


@dataclass
class Results:
    visible_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    confirm_ms: list[float] = field(default_factory=list)  # a 201's answer until the read that found it
    late_201: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    never_online: int = 0
    transport_errors: int = 0


TRANSPORT_ERRORS = (OSError, TimeoutError, asyncio.IncompleteReadError)


class StatusError(Exception):
    """An answer other than 200 to the watcher's read."""


class Client:
    """One keep-alive connection, opened on first use and again after a failure; each request within `timeout`."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self._connection: RawConnection | None = None

    async def post(self, path: str, body: dict[str, Any], headers: str = "") -> tuple[int, Any]:
        request = http_request(self.url, path, json.dumps(body).encode(), headers)
        try:
            async with asyncio.timeout(self.timeout):
                if self._connection is None:
                    self._connection = await RawConnection.open(self.url, self.timeout)
                status, content = await self._connection.send(request)
        except TRANSPORT_ERRORS:
            self.close()
            raise
        try:
            return status, json.loads(content)
        except ValueError:  # a plain-text error page: its status is what counts
            return status, None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class OnlineWatcher:
    """Polls `feast serve` for all messages in flight at once; `seen(sms_id)` waits for one of them."""

    def __init__(self, client: Client, poll_interval: float, results: Results) -> None:
        self.client, self.poll_interval, self.results = client, poll_interval, results
        self.waiting: dict[str, asyncio.Future[tuple[float, bool]]] = {}
        self.first_read: set[str] = set()  # waiting, and no read has started since
        self._poller: asyncio.Task[None] | None = None

    async def seen(self, sms_id: str, timeout: float) -> tuple[float, bool] | None:
        """(perf_counter() when a read found the message online, whether it was the first read after this
        call); None if not within `timeout`."""
        future: asyncio.Future[tuple[float, bool]] = asyncio.get_running_loop().create_future()
        self.waiting[sms_id] = future
        self.first_read.add(sms_id)
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll())
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            self.waiting.pop(sms_id, None)
            self.first_read.discard(sms_id)

    async def _poll(self) -> None:
        try:
            while self.waiting:
                asked, first = list(self.waiting), self.first_read
                self.first_read = set()
                try:
                    present = await self._present(asked)
                except (*TRANSPORT_ERRORS, StatusError) as exc:  # counted; read again next time
                    self.results.transport_errors += 1
                    print(f"transport error: {exc!r}", file=sys.stderr)
                    present = []
                at = time.perf_counter()
                for sms_id in present:
                    future = self.waiting.pop(sms_id, None)
                    if future is not None and not future.done():
                        future.set_result((at, sms_id in first))
                await asyncio.sleep(self.poll_interval)
        finally:
            self._poller = None

    async def _present(self, sms_ids: list[str]) -> list[str]:
        body = {"features": ["sms_features2:features"], "entities": {"sms_id": sms_ids}}
        status, data = await self.client.post("/get-online-features", body)
        if status != 200:
            raise StatusError(f"feast serve answered {status}")
        statuses = data["results"][data["metadata"]["feature_names"].index("features")]["statuses"]
        return [sms_id for sms_id, status in zip(sms_ids, statuses, strict=True) if status == "PRESENT"]


async def one_message(client: Client, args: argparse.Namespace, i: int,
                      results: Results | None) -> tuple[int, str, float, float] | None:
    """POST one message: (status, sms_id, sent, answered) for a 201 or 202, else None."""
    text = f"{TEXTS[i % len(TEXTS)]} #{args.run_id}-{i}"
    body = {"recipient_id": args.recipient, "sender_id": f"bench-{i}", "sms_text": text}
    started = time.perf_counter()
    status, answer = await client.post("/sms", body, f"X-API-Key: {args.api_key}\r\n")
    posted = time.perf_counter()
    if results is not None:
        results.statuses[status] += 1
        results.post_ms.append((posted - started) * 1000)
    return (status, answer["sms_id"], started, posted) if status in (201, 202) else None


async def confirm(watcher: OnlineWatcher, args: argparse.Namespace, answered: tuple[int, str, float, float],
                  results: Results | None) -> None:
    """Wait until the message is read online, and record its sample (module docstring)."""
    status, sms_id, started, posted = answered
    seen = await watcher.seen(sms_id, args.deadline - (posted - started))
    if results is None:
        return
    if seen is None:
        results.never_online += 1
        return
    at, first_read = seen
    if status == 201:
        results.confirm_ms.append((at - posted) * 1000)
        if first_read:
            at = posted  # online before the answer, as promised, and now confirmed
        else:
            results.late_201 += 1
    results.visible_ms.append((at - started) * 1000)


async def run(args: argparse.Namespace) -> tuple[Results, float]:
    results = Results()
    inboxes = [Client(args.inbox_url, args.deadline) for _ in range(args.concurrency)]
    reader = Client(args.feature_server_url, args.deadline)
    watcher = OnlineWatcher(reader, args.poll_interval, results)
    try:
        for i in range(args.warmup):
            if (answered := await one_message(inboxes[0], args, -1 - i, None)) is not None:
                await confirm(watcher, args, answered, None)
        confirmations: set[asyncio.Task[None]] = set()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(args.requests):
            queue.put_nowait(i)

        async def worker(client: Client) -> None:
            while not queue.empty():
                try:
                    answered = await one_message(client, args, queue.get_nowait(), results)
                except TRANSPORT_ERRORS as exc:  # counted and reported, not fatal
                    results.transport_errors += 1
                    print(f"transport error: {exc!r}", file=sys.stderr)
                    continue
                if answered is not None:  # confirmed beside the next message, which goes out now
                    task = asyncio.create_task(confirm(watcher, args, answered, results))
                    confirmations.add(task)
                    task.add_done_callback(confirmations.discard)

        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in inboxes))
        await asyncio.gather(*confirmations)  # the run ends when every message is known to be online
        return results, time.perf_counter() - started
    finally:
        for client in (*inboxes, reader):
            client.close()


def report(args: argparse.Namespace, results: Results, elapsed: float, command: str) -> dict[str, Any]:
    return {
        "benchmark": "inbox POST until features readable online (feast serve)",
        "command": command,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "statuses": {str(k): v for k, v in sorted(results.statuses.items())},
        "never_online": results.never_online,
        "late_201": results.late_201,
        "transport_errors": results.transport_errors,
        "visible_p50_ms": round(percentile(results.visible_ms, 0.50), 2),
        "visible_p99_ms": round(percentile(results.visible_ms, 0.99), 2),
        "post_p50_ms": round(percentile(results.post_ms, 0.50), 2),
        "post_p99_ms": round(percentile(results.post_ms, 0.99), 2),
        "confirmed_p99_ms_after_201": round(percentile(results.confirm_ms, 0.99), 2) if results.confirm_ms else None,
        "throughput_msgs_per_s": round(args.requests / elapsed, 1),
    }


def markdown(row: dict) -> str:
    return (
        "| concurrency | requests | POST→online p50 | p99 | POST p50 | p99 | msgs/s | statuses | command |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        f"| {row['concurrency']} | {row['requests']} | {row['visible_p50_ms']} ms | {row['visible_p99_ms']} ms "
        f"| {row['post_p50_ms']} ms | {row['post_p99_ms']} ms | {row['throughput_msgs_per_s']} "
        f"| {row['statuses']} | `{row['command']}` |"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cpu_before = group_cpu_seconds(args.run_dir) if args.run_dir else {}
    own_cpu = time.process_time()
    results, elapsed = uvloop.run(run(args))
    own_cpu = time.process_time() - own_cpu
    command = "python scripts/bench_realtime.py " + shlex.join(a for a in (argv or sys.argv[1:]) if a != args.api_key)
    row = report(args, results, elapsed, command)
    if args.run_dir:
        cpu_after = group_cpu_seconds(args.run_dir)
        row["cpu_ms_per_msg"] = {name: round(1000 * (cpu_after[name] - used) / args.requests, 2)
                                 for name, used in cpu_before.items() if name in cpu_after}
        # The same work per message whatever build it drives: a gauge of the machine's speed in this run. It also
        # falls when the platform leaves it more of the 2 cores (docs/benchmarks.md, "The interpreter").
        row["cpu_ms_per_msg"]["load_generator"] = round(1000 * own_cpu / args.requests, 3)
    print(json.dumps(row))
    print(markdown(row))
    failed = sum(v for k, v in results.statuses.items() if k not in (201, 202)) + results.never_online
    failed += results.late_201
    failed += results.transport_errors
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
