"""CORS for services the browser calls directly (the inbox page on :8080 is another origin).

Each service lists the origins it trusts in its settings (`CORS_ORIGINS`, comma-separated) and calls
`add_cors(app, settings.cors_origins)` in `create_app`. No origins means no CORS headers at all, so a
service that the browser never calls stays closed by default.
"""

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

# What the inbox page sends and reads; anything else stays forbidden cross-origin.
ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
ALLOWED_HEADERS = ("Content-Type", "X-Request-Id", "X-Caller-Id")
EXPOSED_HEADERS = ("X-Request-Id",)
PREFLIGHT_MAX_AGE_SECONDS = 600


def add_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Allow `origins` (exact scheme://host:port, or "*") to call `app` from a browser; no-op when empty.

    Call it after the app's other middleware so CORS is the outermost layer: preflights are answered
    before routing, and error responses from inner layers still carry the CORS headers.
    Credentials are not allowed: the page sends no cookies, and "*" with credentials is unsafe.
    """
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
