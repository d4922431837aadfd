"""Web client: `uvicorn api.web.main:app --port 8080` serves the inbox page.

The page is plain HTML, CSS and JS (no build step, no CDN). It calls user-data, model-serving and the
feature proxy straight from the browser, at the URLs it reads from `/config.json`; those services must
allow this origin in their CORS settings.
"""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.common.errors import register_error_handlers
from api.common.logging import configure_logging
from api.common.metrics import make_metrics_router
from api.common.middleware import ObservabilityMiddleware
from api.web.routes import STATIC_DIR, router
from api.web.schemas import Health
from api.web.settings import WebSettings, get_settings

SERVICE = "web"


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(title="spamops web client", version="1.0")
    app.state.settings = settings
    app.add_middleware(ObservabilityMiddleware, service=SERVICE, logs_fraction=settings.logs_fraction)
    register_error_handlers(app)
    app.include_router(router)
    app.include_router(make_metrics_router())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/health", tags=["ops"])
    async def health() -> Health:
        return Health(status="ok")

    return app


app = create_app()
