"""Feature proxy: `uvicorn api.feature_proxy.main:app --port 8999`.

The browser-facing door to `feast serve`: it forwards `POST /get-online-features` for allow-listed,
label-free feature services only, with timeouts, error mapping and CORS. One shared httpx client is
created in the lifespan and closed there.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from api.common.cors import add_cors
from api.common.errors import register_error_handlers
from api.common.logging import configure_logging
from api.common.metrics import make_metrics_router
from api.common.middleware import ObservabilityMiddleware
from api.feature_proxy.routes import router
from api.feature_proxy.schemas import Health, Readiness
from api.feature_proxy.settings import FeatureProxySettings, get_settings
from api.feature_proxy.upstream import feature_server_healthy, make_feature_server_client

SERVICE = "feature_proxy"
logger = logging.getLogger(__name__)


def create_app(settings: FeatureProxySettings | None = None, *, client: httpx.AsyncClient | None = None) -> FastAPI:
    """Build the app. Tests may inject a client (e.g. over httpx.MockTransport); an injected one is not closed."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    # httpx logs every call at INFO; one line per forwarded request would bypass LOGS_FRACTION sampling.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.feature_server_client = client or make_feature_server_client(settings)
        logger.info(
            "proxying",
            extra={"upstream": settings.feature_server_url, "allowed": settings.proxy_allowed_feature_services},
        )
        try:
            yield
        finally:
            if client is None:
                await app.state.feature_server_client.aclose()

    app = FastAPI(
        title="spamops feature proxy", version="1.0", lifespan=lifespan, max_body_size=settings.max_body_bytes
    )
    app.state.settings = settings
    app.add_middleware(ObservabilityMiddleware, service=SERVICE, logs_fraction=settings.logs_fraction)
    add_cors(app, settings.cors_origins)  # last, so it is outermost
    register_error_handlers(app)
    app.include_router(router)
    app.include_router(make_metrics_router())
    _add_health_routes(app)
    return app


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/health", tags=["ops"])
    async def health() -> Health:
        return Health(status="ok")

    @app.get("/ready", tags=["ops"], responses={503: {"description": "the feature server is not healthy"}})
    async def ready(request: Request) -> Response:
        client = getattr(request.app.state, "feature_server_client", None)
        if client is None:
            return JSONResponse(status_code=503, content={"detail": "starting up"})
        checks = {"feature_server": "ok" if await feature_server_healthy(client) else "failed"}
        if checks["feature_server"] == "ok":
            return JSONResponse(Readiness(status="ready", checks=checks).model_dump())
        return JSONResponse(status_code=503, content={"detail": "not ready", "checks": checks})


app = create_app()
