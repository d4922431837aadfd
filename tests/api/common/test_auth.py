"""The API-key check: constant-time comparison, 401 JSON answers, settings refuse a missing key."""

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from api.common.auth import ApiKeySettings, api_key_matches, require_api_key


def test_api_key_matches_only_the_exact_key() -> None:
    key = SecretStr("k3y-ü")
    assert api_key_matches("k3y-ü", key)
    assert not api_key_matches("k3y", key)
    assert not api_key_matches("", key)
    assert not api_key_matches(None, key)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_settings_without_key_fail_naming_the_variable(value: str | None) -> None:
    data = {} if value is None else {"spamops_api_key": value}
    with pytest.raises(ValidationError, match="SPAMOPS_API_KEY is not set"):
        ApiKeySettings(**data)


def test_require_api_key_guards_a_route() -> None:
    app = FastAPI()
    app.state.settings = ApiKeySettings(spamops_api_key="right")

    @app.post("/write", dependencies=[Depends(require_api_key)])
    async def write() -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    assert client.post("/write", headers={"X-API-Key": "right"}).json() == {"ok": True}
    missing = client.post("/write")
    assert missing.status_code == 401 and missing.json() == {"detail": "missing X-API-Key header"}
    assert client.post("/write", headers={"X-API-Key": "wrong"}).json() == {"detail": "invalid X-API-Key"}
