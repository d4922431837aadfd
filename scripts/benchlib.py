"""What the benchmark scripts share: the dev data's location, latency percentiles, services' CPU use, and
the lean HTTP/1.1 client their load generators send with."""

import asyncio
import math
import os
import statistics
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_CSV = PROJECT_ROOT.parent / "shared" / "data" / "sms_spam_dev.csv"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation), so p99 is a latency some request really had."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else float("nan")


def latency_ms(seconds: list[float]) -> dict[str, float | None]:
    """p50, p99 and mean in milliseconds of latencies given in seconds."""
    if not seconds:
        return {"p50_ms": None, "p99_ms": None, "mean_ms": None}
    return {
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 3),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 3),
    }


def group_cpu_seconds(run_dir: Path) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each service's process group, from a run directory's
    `NAME.pid` files (ops.processes: each service is its own process group). Linux /proc only."""
    groups = {int(path.read_text()): path.stem for path in run_dir.glob("*.pid") if "." not in path.stem}
    used = dict.fromkeys(groups.values(), 0.0)
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process exited meanwhile
            continue
        name = groups.get(int(fields[2]))
        if name is not None:
            used[name] += (int(fields[11]) + int(fields[12])) / ticks
    return used


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client: pre-encoded requests (`http_request`), Content-Length responses.

    On 2 cores the load generator competes with the servers under test for CPU, and a general client
    costs more per request than this: httpx several times more, aiohttp with asyncio's loop about twice
    (bench_realtime's load generator, docs/benchmarks.md). bench_serving and bench_realtime both send
    with it, so a benchmark and the serving rate it is compared with cost their servers alike.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str, timeout: float) -> "RawConnection":
        parts = urlsplit(url)
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """(status, body) of one request; raises OSError or asyncio.IncompleteReadError if the connection fails."""
        self.writer.write(request)
        response_head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in response_head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return int(response_head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def http_request(url: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
    """A whole request for `RawConnection.send`: POST with a JSON body, GET without; `headers` are lines
    ending in CRLF."""
    method = "POST" if body else "GET"
    return (f"{method} {path} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\nContent-Type: application/json\r\n"
            f"{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body)
