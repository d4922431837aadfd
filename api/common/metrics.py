"""Prometheus metrics shared by services, plus the `/metrics` route.

Under api.common.serve a service runs in several worker processes, and the supervisor sets
PROMETHEUS_MULTIPROC_DIR: each worker then writes its values to files there, and `/metrics` sums
the files of every worker, the dead ones included, so a scrape sees all workers and counts never
go backwards when one is replaced. A single-process run (uvicorn, tests) uses the default registry.
"""

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Whether this process keeps its values in files, which prometheus_client decides once, when it is first
# imported. The environment variable alone cannot tell: importing Feast sets it in any process that has
# not (feast.metrics), so a single-process service would otherwise scrape an empty directory.
FILE_BACKED = values.ValueClass is not values.MutexValue
# Feast registers its feature server's metrics on import; in our services they are never set.
UNUSED_PREFIXES = ("feast_",)

# Buckets tuned for a sub-10 ms service: the interesting part is 0.5–10 ms.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

HTTP_REQUESTS = Counter(
    "spamops_http_requests_total",
    "HTTP requests by route template and status",
    ["service", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "spamops_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["service", "route"],
    buckets=LATENCY_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "spamops_cache_lookups_total", "Cache lookups by cache, layer and result", ["cache", "layer", "result"]
)
BACKGROUND_FAILURES = Counter(
    "spamops_background_failures_total", "Background tasks that raised (logged, never surfaced)", ["task"]
)


class _Used:
    """A registry's metrics without the unused families."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        return (family for family in self.source.collect() if not family.name.startswith(UNUSED_PREFIXES))


def _source() -> CollectorRegistry:
    if not FILE_BACKED:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def make_metrics_router() -> APIRouter:
    router = APIRouter(tags=["ops"])
    used = _Used(_source())

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:  # plain def: reading every worker's files is blocking I/O
        return Response(generate_latest(used), media_type=CONTENT_TYPE_LATEST)  # type: ignore[arg-type]

    return router
