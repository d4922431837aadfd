"""Benchmark the model-serving API from a separate load-generator process (DESIGN §9).

HTTP mode (the server must already run, e.g. `uvicorn api.model_serving.main:app --port 8000`):
    python scripts/bench_serving.py --endpoint text_to_prediction --requests 5000 --concurrency 16
    python scripts/bench_serving.py --endpoint sms_to_prediction --concurrency 1 --requests 2000
Two builds side by side, one client alternating between them request by request (see run_paired):
    python scripts/bench_serving.py --versions v3 --url http://127.0.0.1:9510 --against http://127.0.0.1:9610
In-process inference mode (single-row predict_proba per version, no HTTP):
    python scripts/bench_serving.py --inference --requests 2000

Texts and ids come from the dev CSV, cycled in order, so requests vary; `--cache skip` (default)
sends skip_cache=true so cache hits do not hide the model's cost. Prints one JSON object per
run and a markdown table (for docs/benchmarks.md). Exit status 1 if any request failed.
"""

import argparse
import asyncio
import csv
import json
import math
import shlex
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvloop
from benchlib import DEV_CSV, PROJECT_ROOT, RawConnection, http_request, latency_ms

sys.path.insert(0, str(PROJECT_ROOT))  # run as a plain script from anywhere

# "health" (GET /health, no model) is the same server's trivial endpoint: the reference for a run's machine speed.
ENDPOINTS = ("text_to_prediction", "sms_to_prediction", "text_to_features", "health")
Body = tuple[str, bytes]  # (path, JSON body); an empty body is a GET


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="model-serving base URL")
    parser.add_argument("--versions", default="v1,v2,v3", help="comma-separated versions; requests rotate")
    parser.add_argument("--endpoint", choices=ENDPOINTS, default="text_to_prediction")
    parser.add_argument("--requests", type=int, default=3000, help="measured requests (per version: --inference)")
    parser.add_argument("--warmup", type=int, default=300, help="unmeasured requests first")
    parser.add_argument("--concurrency", type=int, default=1, help="concurrent keep-alive connections")
    parser.add_argument("--against", default="", help="a second server's URL: one client alternates between "
                        "--url and it, request by request (see run_paired); the same key goes to both")
    parser.add_argument("--cache", choices=("skip", "use"), default="skip", help="send skip_cache true/false")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw", help="see benchlib.RawConnection")
    parser.add_argument("--data", type=Path, default=DEV_CSV, help="CSV with sms_id,text columns")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    parser.add_argument("--api-key", default="", help="send as X-API-Key (give the key a high RATE_LIMIT_CALLERS "
                        "limit); anonymous callers are rate limited per address")
    parser.add_argument("--distinct", type=int, default=0,
                        help="cycle over only the first N rows (feature-cache hits for sms_to_prediction)")
    parser.add_argument("--inference", action="store_true", help="time predict_proba in-process instead")
    parser.add_argument("--models-dir", type=Path, default=None, help="--inference: artifacts directory")
    parser.add_argument(
        "--wrk-script", type=Path, default=None, help="write a wrk Lua script sending the same requests, and exit"
    )
    args = parser.parse_args(argv)
    if args.against and (args.concurrency != 1 or args.client != "raw" or args.inference):
        parser.error("--against runs one raw client: it takes neither --concurrency, --client httpx nor --inference")
    return args


def load_rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["sms_id"], row["text"]) for row in csv.DictReader(handle) if row["text"].strip()]


def summarise(latencies: list[float], *, elapsed: float, errors: int, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **extra,
        "count": len(latencies),
        "errors": errors,
        **latency_ms(latencies),
        "throughput_rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else None,
    }


def request_bodies(args: argparse.Namespace, rows: list[tuple[str, str]]) -> list[Body]:
    """Rotate over versions and cycle through the CSV rows."""
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    skip = args.cache == "skip"
    bodies: list[Body] = []
    if args.endpoint == "health":
        return [("/health", b"")] * (args.warmup + args.requests)
    for i in range(args.warmup + args.requests):
        sms_id, text = rows[i % len(rows)]
        payload = {"sms_id": sms_id} if args.endpoint == "sms_to_prediction" else {"text": text}
        path = f"/model/{versions[i % len(versions)]}/{args.endpoint}"
        bodies.append((path, json.dumps({**payload, "skip_cache": skip}).encode()))
    return bodies


class RawClient:
    def __init__(self, url: str, timeout: float, api_key: str) -> None:
        self.url, self.timeout = url, timeout
        self.key_header = f"X-API-Key: {api_key}\r\n" if api_key else ""

    def prepare(self, bodies: list[Body]) -> list[bytes]:
        """Whole requests, encoded before the clock starts."""
        return [http_request(self.url, path, body, self.key_header) for path, body in bodies]

    async def worker(self, queue: Iterator[bytes], record: "Recorder") -> None:
        connection = await RawConnection.open(self.url, self.timeout)
        try:
            for request in queue:  # shared iterator: each request is sent exactly once
                connection = await self.send(connection, request, record)
        finally:
            connection.close()

    async def send(self, connection: RawConnection, request: bytes, record: "Recorder") -> RawConnection:
        """One timed request; the connection to use next (a new one after a failure)."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                status = str((await connection.send(request))[0])
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            status = type(exc).__name__
            connection.close()
            connection = await RawConnection.open(self.url, self.timeout)
        record(status, time.perf_counter() - started)
        return connection


class HttpxClient:
    def __init__(self, url: str, timeout: float, concurrency: int, api_key: str) -> None:
        import httpx

        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        headers = {"content-type": "application/json", **({"x-api-key": api_key} if api_key else {})}
        self.client = httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout, headers=headers)
        self.errors = (httpx.HTTPError,)

    def prepare(self, bodies: list[Body]) -> list[Body]:
        return bodies

    async def worker(self, queue: Iterator[Body], record: "Recorder") -> None:
        for path, body in queue:
            started = time.perf_counter()
            try:
                response = await (self.client.post(path, content=body) if body else self.client.get(path))
                status = str(response.status_code)
            except self.errors as exc:
                status = type(exc).__name__
            record(status, time.perf_counter() - started)


class Recorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.measuring = False

    def __call__(self, status: str, elapsed: float) -> None:
        if self.measuring:
            self.statuses[status] += 1
            self.latencies.append(elapsed if status == "200" else math.nan)


async def wait_until_healthy(url: str, timeout: float) -> None:
    """The server may still be loading models: poll /health instead of counting connect errors."""
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=2.0) as client:
        while True:
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not become healthy within {timeout:.0f} s")
            await asyncio.sleep(0.2)


async def run_http(args: argparse.Namespace) -> dict[str, Any]:
    rows = load_rows(args.data)
    bodies = request_bodies(args, rows[: args.distinct] if args.distinct else rows)
    await wait_until_healthy(args.url, 60.0)
    client = (
        RawClient(args.url, args.timeout, args.api_key)
        if args.client == "raw"
        else HttpxClient(args.url, args.timeout, args.concurrency, args.api_key)
    )
    record = Recorder()
    requests = client.prepare(bodies)
    warmup = iter(requests[: args.warmup])
    await asyncio.gather(*(client.worker(warmup, record) for _ in range(args.concurrency)))
    record.measuring = True
    measured = iter(requests[args.warmup :])
    started = time.perf_counter()
    await asyncio.gather(*(client.worker(measured, record) for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - started
    good = [x for x in record.latencies if not math.isnan(x)]
    extra = {
        "mode": "http",
        "client": args.client,
        "endpoint": args.endpoint,
        "versions": args.versions,
        "concurrency": args.concurrency,
        "cache": args.cache,
        "statuses": dict(record.statuses),
    }
    return summarise(good, elapsed=elapsed, errors=len(record.latencies) - len(good), extra=extra)


async def run_paired(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One client alternating between two servers request by request, the order swapped every pair: both
    builds see one-client load at the same moments, so the machine's drift (up to 3x between days, and
    10-20 % within minutes here) falls on both alike."""
    bodies = request_bodies(args, load_rows(args.data))
    urls = (args.url, args.against)
    for url in urls:
        await wait_until_healthy(url, 60.0)
    clients = [RawClient(url, args.timeout, args.api_key) for url in urls]
    requests = [client.prepare(bodies) for client in clients]
    connections = [await RawConnection.open(url, args.timeout) for url in urls]
    records = [Recorder(), Recorder()]
    for i in range(len(bodies)):
        for record in records:
            record.measuring = i >= args.warmup
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            connections[side] = await clients[side].send(connections[side], requests[side][i], records[side])
    for connection in connections:
        connection.close()
    results = []
    for url, record in zip(urls, records, strict=True):
        good = [x for x in record.latencies if not math.isnan(x)]
        extra = {"mode": "paired", "url": url, "endpoint": args.endpoint, "versions": args.versions,
                 "concurrency": 1, "cache": args.cache, "statuses": dict(record.statuses)}
        results.append(summarise(good, elapsed=sum(good), errors=len(record.latencies) - len(good), extra=extra))
    for key in ("p50_ms", "mean_ms"):
        results[1][f"{key[:-3]}_ratio_to_url"] = round(results[1][key] / results[0][key], 3)
    return results


def run_inference(args: argparse.Namespace) -> list[dict[str, Any]]:
    from api.model_serving.registry import load_models
    from training.versions import MODELS_DIR

    texts = [text for _, text in load_rows(args.data)]
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    results = []
    for model in load_models(versions, args.models_dir or MODELS_DIR):
        rows = [model.text_to_features(texts[i % len(texts)]) for i in range(args.warmup + args.requests)]
        latencies = []
        for i, row in enumerate(rows):
            started = time.perf_counter()
            model.features_to_predictions([row])
            if i >= args.warmup:
                latencies.append(time.perf_counter() - started)
        results.append(
            summarise(
                latencies, elapsed=sum(latencies), errors=0, extra={"mode": "inference", "version": model.version}
            )
        )
    return results


WRK_SCRIPT = """
i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local r = requests[(i - 1) % #requests + 1]
  return wrk.format(nil, r[1], nil, r[2])
end
done = function(summary, latency, requests)
  io.write(string.format("p50 %.3f ms, p99 %.3f ms, non-2xx %d\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
"""


def write_wrk_script(args: argparse.Namespace, path: Path) -> None:
    """A cross-check with a load generator written in C: `wrk -t2 -c16 -d15s -s PATH URL`."""
    # Lua long brackets keep the (ASCII) JSON byte for byte; quoted strings would reinterpret its escapes.
    bodies = request_bodies(args, load_rows(args.data))
    if any(b"]==]" in body for _, body in bodies):
        raise SystemExit("a request body contains ]==]; cannot quote it for Lua")
    lines = [f'  {{"{path}", [==[{body.decode()}]==]}},' for path, body in bodies]
    path.write_text("requests = {\n" + "\n".join(lines) + "\n}\n" + WRK_SCRIPT, encoding="utf-8")


def markdown_row(result: dict[str, Any], command: str) -> str:
    what = result.get("endpoint") or f"predict_proba {result.get('version')}"
    return (
        f"| {what} | {result.get('versions', result.get('version'))} | {result.get('concurrency', 1)} "
        f"| {result.get('cache', '-')} | {result['p50_ms']} | {result['p99_ms']} | {result['throughput_rps']} "
        f"| {result['errors']} | `{command}` |"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.wrk_script:
        write_wrk_script(args, args.wrk_script)
        print(f"wrk -t2 -c{args.concurrency} -d15s -s {args.wrk_script} {args.url}")
        return 0
    command = "python scripts/bench_serving.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    if args.inference:
        results = run_inference(args)
    elif args.against:
        results = uvloop.run(run_paired(args))
    else:
        results = [uvloop.run(run_http(args))]
    for result in results:
        result["command"] = command
        print(json.dumps(result))
    print("| what | versions | concurrency | cache | p50 ms | p99 ms | req/s | errors | command |")
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        print(markdown_row(result, command))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
