"""Prometheus metrics shared by services, plus the `/metrics` route."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

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


def make_metrics_router() -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
