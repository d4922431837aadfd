"""Domain errors shared by services, mapped once to FastAPI's `{"detail": ...}` shape."""

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """Base class: `detail` is a short sentence that clients (and tests) can read."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """A syntactically valid request whose content is unacceptable (empty text, too long, ...)."""

    status_code = 422


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


async def _domain_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if exc.status_code >= 500:
        logger.warning("upstream failure: %s", exc.detail)
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})


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
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
