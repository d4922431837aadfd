"""User-data app: `uvicorn api.user_data.main:app --port 8111`.

The stores (SQLite or Cassandra, from STORAGE_BACKEND) are opened once in the lifespan.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.common.cors import add_cors
from api.common.errors import register_error_handlers
from api.common.logging import configure_logging
from api.common.metrics import make_metrics_router
from api.common.middleware import ObservabilityMiddleware
from api.common.storage import Stores, make_stores
from api.user_data.routes import router
from api.user_data.schemas import Health, Readiness
from api.user_data.settings import UserDataSettings, get_settings

SERVICE = "user_data"
logger = logging.getLogger(__name__)


def create_app(settings: UserDataSettings | None = None, *, stores: Stores | None = None) -> FastAPI:
    """Build the app. Tests may inject stores; injected stores are not closed here."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.stores = stores if stores is not None else await run_in_threadpool(make_stores, settings)
        logger.info("serving", extra={"storage_backend": settings.storage_backend})
        try:
            yield
        finally:
            if stores is None:
                app.state.stores.close()

    app = FastAPI(title="spamops user data", version="1.0", lifespan=lifespan, max_body_size=settings.max_body_bytes)
    app.state.settings = settings
    app.add_middleware(ObservabilityMiddleware, service=SERVICE, logs_fraction=settings.logs_fraction)
    register_error_handlers(app)
    add_cors(app, settings.cors_origins)  # last, so it is outermost
    app.include_router(router)
    app.include_router(make_metrics_router())
    _add_health_routes(app)
    return app


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/health", tags=["ops"])
    async def health() -> Health:
        return Health(status="ok")

    @app.get("/ready", tags=["ops"], responses={503: {"description": "storage is not reachable"}})
    async def ready(request: Request) -> Response:
        if not hasattr(request.app.state, "stores"):
            return JSONResponse(status_code=503, content={"detail": "starting up"})
        try:
            await run_in_threadpool(request.app.state.stores.ping)
        except Exception as exc:
            logger.warning("readiness check failed", extra={"error": repr(exc)})
            checks = {"stores": f"failed: {type(exc).__name__}"}
            return JSONResponse(status_code=503, content={"detail": "not ready", "checks": checks})
        return JSONResponse(Readiness(status="ready", checks={"stores": "ok"}).model_dump())


app = create_app()
