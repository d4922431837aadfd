"""What every spamops FastAPI app shares: settings on `app.state`, request ids, metrics and sampled logs,
the error shape, CORS from settings, `/metrics`, `/health`, (given a check) `/ready`, and `/docs`.

`/docs` is Swagger UI served from the pinned `swagger-ui-bundle-v2` package (its version is Swagger UI's),
never from a CDN, so the API docs work on an air-gapped machine. ReDoc is off: no package ships it pinned.
"""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from api.common.cors import add_cors
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
DOCS_ASSETS_PATH = "/docs-assets"
# No validator badge: Swagger UI would send the spec to validator.swagger.io.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


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
    _add_docs(app)
    return app


def _add_docs(app: FastAPI) -> None:
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    async def docs(request: Request) -> HTMLResponse:
        # Under root_path, so the page also works behind a proxy that mounts the service under a prefix.
        root = request.scope.get("root_path", "")
        assets = root + DOCS_ASSETS_PATH
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


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
