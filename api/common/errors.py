"""Domain errors shared by services, mapped once to FastAPI's `{"detail": ...}` shape."""

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """Base class: `detail` is a short sentence that clients (and tests) can read."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """A syntactically valid request whose content is unacceptable (empty text, too long, ...).

    Answered in the shape of FastAPI's own validation errors (`detail` is a list with `loc` and `msg`),
    because that is what every route's OpenAPI promises for 422."""

    status_code = 422

    def __init__(self, detail: str, loc: tuple[str | int, ...] = ("body",)) -> None:
        super().__init__(detail)
        self.loc = loc


class InvalidFeatures(InvalidInput):
    """A feature vector with the wrong length, type or range for the model version."""


class NotFound(DomainError):
    status_code = 404


class PayloadTooLarge(DomainError):
    """A batch larger than the configured limit."""

    status_code = 413


class UpstreamError(DomainError):
    """A dependency answered, but wrongly (bad status, bad body)."""

    status_code = 502


class UpstreamUnavailable(DomainError):
    """A dependency could not be reached or timed out."""

    status_code = 503


class UpstreamTimeout(UpstreamUnavailable):
    """A dependency did not connect or answer within the budget: a 503 like any unavailability,
    unless a service maps it otherwise (the feature proxy answers 504)."""


class ErrorDetail(BaseModel):
    """The body of every non-422 error answer."""

    detail: str


def validation_error(loc: tuple[str | int, ...], msg: str, error_type: str = "value_error") -> dict[str, Any]:
    """One item of a 422's `detail` list, as FastAPI's schema `ValidationError` describes it."""
    return {"type": error_type, "loc": list(loc), "msg": msg, "input": None}


async def _domain_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if exc.status_code >= 500:
        logger.warning("upstream failure: %s", exc.detail)
    if isinstance(exc, InvalidInput):
        return JSONResponse(status_code=422, content={"detail": [validation_error(exc.loc, exc.detail)]})
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})


async def _http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette's Allow names only the first route matching the path; a path served by several
        # routes (GET in one router, POST in another) must list them all.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _json_safe(value: Any) -> Any:
    """NaN/inf are legal in Python's JSON parser but not in a strict JSON response: render them as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, str):  # a lone surrogate would fail the response's UTF-8 encoding
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, int | float | bool) or value is None:
        return value
    return str(value)


async def _validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    # FastAPI's default handler echoes the input; with NaN in it, rendering would fail with a 500.
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": _json_safe(list(exc.errors()))})


def register_error_handlers(app: FastAPI) -> None:
    """Map every DomainError subclass by its status code, and make validation errors always renderable."""
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(HTTPException, _http_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
