"""What every spamops FastAPI app shares: settings on `app.state`, request ids, metrics and sampled logs,
the error shape, CORS from settings, `/metrics`, `/health`, (given a check) `/ready`, and `/docs`
(api/common/docs.py: offline Swagger UI).
"""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api.common.cors import add_cors
from api.common.docs import add_docs
from api.common.errors import register_error_handlers
from api.common.logging import configure_logging
from api.common.metrics import make_metrics_router
from api.common.middleware import ObservabilityMiddleware
from api.common.openapi import document_common_responses
from api.common.settings import BaseServiceSettings
from api.common.unicode import UnicodeGuardMiddleware

# Returns None while the lifespan has not finished, else named checks; a check passes when it starts with "ok".
ReadinessCheck = Callable[[FastAPI], Awaitable[dict[str, str] | None]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


def create_service_app(
    service: str,
    settings: BaseServiceSettings,
    *,
    lifespan: Lifespan | None = None,
    readiness: ReadinessCheck | None = None,
) -> FastAPI:
    """`service` names the app ("user_data" → "spamops user data") and labels its metrics and logs."""
    configure_logging(settings.log_level)
    title = f"spamops {service.replace('_', ' ')}"
    app = FastAPI(title=title, version="1.0", lifespan=lifespan, max_body_size=settings.max_body_bytes,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.add_middleware(UnicodeGuardMiddleware)  # inside observability, so its 422s are counted
    app.add_middleware(ObservabilityMiddleware, service=service, logs_fraction=settings.logs_fraction)
    register_error_handlers(app)
    document_common_responses(app)
    add_cors(app, settings.cors_origins)  # the last middleware added is the outermost
    app.include_router(make_metrics_router())
    app.add_api_route("/health", _health, methods=["GET"], tags=["ops"])
    if readiness is not None:
        app.add_api_route("/ready", _ready_route(readiness), methods=["GET"], tags=["ops"],
                          responses={503: {"description": "starting up, or a dependency is not ready"}})
    add_docs(app)
    return app


async def _health() -> Health:
    return Health(status="ok")


def _ready_route(readiness: ReadinessCheck) -> Callable[[Request], Awaitable[Response]]:
    async def ready(request: Request) -> Response:
        checks = await readiness(request.app)
        if checks is None:
            return JSONResponse(status_code=503, content={"detail": "starting up"})
        if all(value.startswith("ok") for value in checks.values()):
            return JSONResponse(Readiness(status="ready", checks=checks).model_dump())
        return JSONResponse(status_code=503, content={"detail": "not ready", "checks": checks})

    return ready
