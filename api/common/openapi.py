"""The answers every route can give whatever its own code does, added to each service's OpenAPI once.

FastAPI documents a route's declared responses and its 422; the shared plumbing adds more: a body
that is not parseable JSON is a 400, one above MAX_BODY_BYTES a 413, and a route behind the API key a
401 (no or unknown key) or 403 (a key without the scope). Each is documented here, on the routes where
it can happen, with the one error shape (`ErrorDetail`) the handlers in errors.py send.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.common.errors import ErrorDetail

_ERROR_REF = {"$ref": "#/components/schemas/ErrorDetail"}
BODY_ERRORS = {"400": "the body is not parseable JSON", "413": "the body is larger than MAX_BODY_BYTES"}
KEY_ERRORS = {"401": "no X-API-Key header, or a key that is not configured",
              "403": "the key is valid but lacks the scope this route needs"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _add_common_responses(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    extra = {**(BODY_ERRORS if "requestBody" in operation else {}),
             **(KEY_ERRORS if operation.get("security") else {})}
    for status, description in extra.items():
        responses.setdefault(status, _error_response(description))


def document_common_responses(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Replace `app.openapi` with one that adds the shared answers (built once, then cached)."""

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()  # FastAPI's own, which it caches in app.openapi_schema
            schema.setdefault("components", {}).setdefault("schemas", {})["ErrorDetail"] = (
                ErrorDetail.model_json_schema())
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    _add_common_responses(operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return openapi
