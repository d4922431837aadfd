"""A minimal app around the real RateLimiter and stores, for the multi-worker test: `/` answers 200 with
the worker's pid while caller "c" is under RATE_LIMIT (per RATE_WINDOW seconds), else 429."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from api.common.settings import BaseServiceSettings
from api.common.storage import make_stores
from api.model_serving.rate_limit import RateLimiter

LIMIT = int(os.environ.get("RATE_LIMIT", "300"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    stores = make_stores(BaseServiceSettings())
    app.state.limiter = RateLimiter(stores.rate_counts, window_seconds=float(os.environ["RATE_WINDOW"]),
                                    sync_seconds=0.1)
    yield
    app.state.limiter.close()
    stores.close()


app = FastAPI(lifespan=lifespan)


@app.get("/", response_class=PlainTextResponse)
async def limited() -> PlainTextResponse:
    retry = app.state.limiter.admit("c", "v1", LIMIT)
    return PlainTextResponse(str(os.getpid()), status_code=200 if retry is None else 429)
