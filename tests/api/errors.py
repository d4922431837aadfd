"""The bodies of our error answers, for tests to compare against."""

from typing import Any

from api.common.errors import validation_error


def invalid(msg: str, loc: tuple[str | int, ...] = ("body",)) -> dict[str, Any]:
    """A domain 422 (api.common.errors.InvalidInput) in the validation-error shape the OpenAPI promises."""
    return {"detail": [validation_error(loc, msg)]}
