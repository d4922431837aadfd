"""Web client: `python -m api.common.serve api.web.main:app --port 8080 --workers 1` serves the inbox page.

The page is plain HTML, CSS and JS (no build step, no CDN). Its scripts call only this server (same
origin, `/api/...`), which forwards to user-data, model serving and the feature proxy with its own key;
one aiohttp session for that is made in the lifespan and closed there.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.common.app import create_service_app
from api.web.routes import STATIC_DIR, router
from api.web.settings import WebSettings, get_settings
from api.web.upstream import Backends

SERVICE = "web"


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.backends = Backends(settings)
        try:
            yield
        finally:
            await app.state.backends.close()

    app = create_service_app(SERVICE, settings, lifespan=lifespan)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


app = create_app()
