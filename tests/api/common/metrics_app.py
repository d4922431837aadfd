"""A minimal FastAPI app for the serve tests' metrics: `/` counts a request and answers the worker's pid."""

import os

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import Counter

from api.common.metrics import make_metrics_router

HITS = Counter("spamops_test_hits_total", "Requests to / of the metrics test app")

app = FastAPI()
app.include_router(make_metrics_router())


@app.get("/", response_class=PlainTextResponse)
async def hit() -> str:
    HITS.inc()
    return str(os.getpid())
