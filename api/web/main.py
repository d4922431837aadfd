"""Web client: `uvicorn api.web.main:app --port 8080` serves the inbox page.

The page is plain HTML, CSS and JS (no build step, no CDN). It calls user-data, model-serving and the
feature proxy straight from the browser, at the URLs it reads from `/config.json`; those services must
allow this origin in their CORS settings.
"""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.common.app import create_service_app
from api.web.routes import STATIC_DIR, router
from api.web.settings import WebSettings, get_settings

SERVICE = "web"


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = create_service_app(SERVICE, settings)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


app = create_app()
