"""Feature proxy: `uvicorn api.feature_proxy.main:app --port 8999`.

The browser-facing door to `feast serve`: it forwards `POST /get-online-features` for allow-listed,
label-free feature services only, with timeouts, error mapping and CORS. One shared httpx client is
created in the lifespan and closed there.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from api.common.app import create_service_app
from api.feature_proxy.routes import router
from api.feature_proxy.settings import FeatureProxySettings, get_settings
from api.feature_proxy.upstream import feature_server_healthy, make_feature_server_client

SERVICE = "feature_proxy"
logger = logging.getLogger(__name__)


def create_app(settings: FeatureProxySettings | None = None, *, client: httpx.AsyncClient | None = None) -> FastAPI:
    """Build the app. Tests may inject a client (e.g. over httpx.MockTransport); an injected one is not closed."""
    settings = settings or get_settings()

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

    app = create_service_app(SERVICE, settings, lifespan=lifespan, readiness=_readiness)
    app.include_router(router)
    return app


async def _readiness(app: FastAPI) -> dict[str, str] | None:
    client = getattr(app.state, "feature_server_client", None)
    if client is None:
        return None
    return {"feature_server": "ok" if await feature_server_healthy(client) else "failed"}


app = create_app()
