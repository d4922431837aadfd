"""The answers every route can give whatever its own code does, added to each service's OpenAPI once.

FastAPI documents a route's declared responses and its 422; the shared plumbing adds more: a body
that is not parseable JSON is a 400, one above MAX_BODY_BYTES a 413, and a route behind the API key a
401 (no or unknown key) or 403 (a key without the scope). Each is documented here, on the routes where
it can happen, with the one error shape the handlers in errors.py send: `ErrorDetail`, or for a 422
FastAPI's validation-error list.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.common.auth import API_KEY_SCHEME, api_key_header
from api.common.errors import ErrorDetail

_ERROR_REF = {"$ref": "#/components/schemas/ErrorDetail"}
_VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}
BODY_ERRORS = {"400": "the body is not parseable JSON", "413": "the body is larger than MAX_BODY_BYTES"}
KEY_ERRORS = {"401": "no X-API-Key header, or a key that is not configured",
              "403": "the key is valid but lacks the scope this route needs"}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _add_common_responses(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    security = operation.get("security", [])
    # A route whose key is optional (api.common.auth.KEY_OPTIONAL) refuses only a wrong key, never a scope.
    key_errors = {"401": KEY_ERRORS["401"]} if {} in security else KEY_ERRORS
    extra = {**(BODY_ERRORS if "requestBody" in operation else {}), **(key_errors if security else {})}
    for status, description in extra.items():
        responses.setdefault(status, {"description": description})


def _add_error_bodies(operation: dict[str, Any]) -> None:
    """An error answer documented by description only gets the body the handlers really send."""
    for status, response in operation.get("responses", {}).items():
        if status[0] in "45" and "content" not in response:
            response["content"] = _json_content(_VALIDATION_REF if status == "422" else _ERROR_REF)


def document_common_responses(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Replace `app.openapi` with one that adds the shared answers (built once, then cached)."""

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()  # FastAPI's own, which it caches in app.openapi_schema
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {})["ErrorDetail"] = ErrorDetail.model_json_schema()
            # Routes that resolve their caller themselves (KEY_OPTIONAL) name the scheme without a dependency.
            if any(API_KEY_SCHEME in requirement for path_item in schema.get("paths", {}).values()
                   for operation in path_item.values() for requirement in operation.get("security", [])):
                components.setdefault("securitySchemes", {}).setdefault(
                    API_KEY_SCHEME, api_key_header.model.model_dump(mode="json", by_alias=True, exclude_none=True))
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    _add_common_responses(operation)
                    _add_error_bodies(operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return openapi
