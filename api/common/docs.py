"""`/docs`: Swagger UI served from the pinned `swagger-ui-bundle-v2` package (its version is Swagger UI's),
never from a CDN, so the API docs work on an air-gapped machine. ReDoc is off: no package ships it pinned.

Every spamops app installs it, and so does `feast serve` (feature_repo/static_artifacts.py), which is why
this module imports only FastAPI and the bundle: it adds almost nothing to the feature server's start-up.
"""

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
# FastAPI's default pages, both loading their scripts from cdn.jsdelivr.net: an app built with the defaults
# (Feast's) has them, and an offline machine shows them blank.
CDN_PAGES = {DOCS_PATH, "/redoc"}
DOCS_ASSETS_PATH = "/docs-assets"
# No validator badge: Swagger UI would send the spec to validator.swagger.io.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def add_docs(app: FastAPI) -> None:
    """Serve the bundle's assets and a `/docs` page that loads them, in place of the app's own `/docs` and
    `/redoc` if it has them."""
    # Starlette matches routes per request, in order, so this also works on an app that is already serving.
    app.router.routes[:] = [route for route in app.router.routes if getattr(route, "path", None) not in CDN_PAGES]
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

    app.add_api_route(DOCS_PATH, docs, methods=["GET"], include_in_schema=False)
