"""Feature proxy: `uvicorn api.feature_proxy.main:app --port 8999`.

The browser-facing door to `feast serve`: it forwards `POST /get-online-features` for allow-listed,
label-free feature services only, with timeouts, error mapping and CORS. One aiohttp session (the
shared client, api.common.http) is created in the lifespan, inside the serving loop, and closed there.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.common.app import create_service_app
from api.feature_proxy.routes import router
from api.feature_proxy.settings import FeatureProxySettings, get_settings
from api.feature_proxy.upstream import FeatureServer

SERVICE = "feature_proxy"
logger = logging.getLogger(__name__)


def create_app(settings: FeatureProxySettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.feature_server = FeatureServer(settings)
        logger.info(
            "proxying",
            extra={"upstream": settings.feature_server_url, "allowed": settings.proxy_allowed_feature_services},
        )
        try:
            yield
        finally:
            await app.state.feature_server.close()

    app = create_service_app(SERVICE, settings, lifespan=lifespan, readiness=_readiness)
    app.include_router(router)
    return app


async def _readiness(app: FastAPI) -> dict[str, str] | None:
    feature_server = getattr(app.state, "feature_server", None)
    if feature_server is None:
        return None
    return {"feature_server": "ok" if await feature_server.healthy() else "failed"}


app = create_app()
