"""API-key access check for write endpoints (user-data POST, inbox POST).

A service that needs it mixes `ApiKeySettings` into its settings class: `SPAMOPS_API_KEY` has no
default, so a missing key stops start-up with a message naming the variable. Routes then declare
`dependencies=[Depends(require_api_key)]`; the key is read from `request.app.state.settings`.
"""

import hmac
from typing import Annotated, Any

from fastapi import Header, HTTPException, Request, status
from pydantic import BaseModel, SecretStr, model_validator

API_KEY_HEADER = "X-API-Key"
API_KEY_ENV = "SPAMOPS_API_KEY"


class ApiKeySettings(BaseModel):
    """Mixin for a BaseServiceSettings subclass whose service has write endpoints."""

    spamops_api_key: SecretStr

    @model_validator(mode="before")
    @classmethod
    def _key_is_set(cls, data: Any) -> Any:
        # Without this, pydantic says only "spamops_api_key: Field required".
        value = data.get("spamops_api_key") if isinstance(data, dict) else None
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str) or not value.strip():
            raise ValueError(
                f"{API_KEY_ENV} is not set: write endpoints need a shared API key "
                f"(set it in the environment or .env; clients send it as the {API_KEY_HEADER} header)"
            )
        return data


def api_key_matches(given: str | None, expected: SecretStr) -> bool:
    """Constant-time comparison, so response timing does not leak how much of a guess was right."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.get_secret_value().encode("utf-8"))


async def require_api_key(
    request: Request, x_api_key: Annotated[str | None, Header(alias=API_KEY_HEADER)] = None
) -> None:
    """Dependency: 401 with a JSON detail unless the header carries the service's key."""
    expected: SecretStr = request.app.state.settings.spamops_api_key
    if not api_key_matches(x_api_key, expected):
        detail = f"missing {API_KEY_HEADER} header" if x_api_key is None else f"invalid {API_KEY_HEADER}"
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=detail,
                            headers={"WWW-Authenticate": "ApiKey"})
