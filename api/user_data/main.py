"""User-data app: `uvicorn api.user_data.main:app --port 8111`.

The stores (SQLite or Cassandra, from STORAGE_BACKEND) are opened once in the lifespan.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.common.app import create_service_app
from api.common.storage import Stores, make_stores
from api.user_data.routes import router
from api.user_data.settings import UserDataSettings, get_settings

SERVICE = "user_data"
logger = logging.getLogger(__name__)


def create_app(settings: UserDataSettings | None = None, *, stores: Stores | None = None) -> FastAPI:
    """Build the app. Tests may inject stores; injected stores are not closed here."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.stores = stores if stores is not None else await run_in_threadpool(make_stores, settings)
        logger.info("serving", extra={"storage_backend": settings.storage_backend})
        try:
            yield
        finally:
            if stores is None:
                app.state.stores.close()

    app = create_service_app(SERVICE, settings, lifespan=lifespan, readiness=_readiness)
    app.include_router(router)
    return app


async def _readiness(app: FastAPI) -> dict[str, str] | None:
    if not hasattr(app.state, "stores"):
        return None
    try:
        await run_in_threadpool(app.state.stores.ping)
    except Exception as exc:
        logger.warning("readiness check failed", extra={"error": repr(exc)})
        return {"stores": f"failed: {type(exc).__name__}"}
    return {"stores": "ok"}


app = create_app()
