"""Named, scoped API keys: parsing, refusals that never echo a key, scope checks, the FastAPI dependencies."""

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.common.auth import (
    KEY_OPTIONAL,
    ApiKeySettings,
    AuthenticatedCaller,
    Caller,
    caller_of,
    match_key,
    outbound_api_key,
    parse_api_keys,
    require_scope,
    require_user_scope,
)

KEYS = "web:K1-web:read,inbox:K2-inbox:read+write,telco:K3-telco:write,ops:K4-ops:admin,fiona:K5-fiona:read@fiona"


def settings(keys: str | None = KEYS, shared: str | None = None) -> ApiKeySettings:
    return ApiKeySettings(spamops_api_keys=keys, spamops_api_key=shared)


def test_parse_api_keys_reads_names_and_scopes() -> None:
    keys = {key.name: key for key in parse_api_keys(KEYS)}
    assert keys["inbox"].scopes == {"read", "write"}
    assert keys["fiona"].scopes == {"read@fiona"}
    assert keys["telco"].key.get_secret_value() == "K3-telco"


def test_parse_api_keys_shared_key_is_admin_named_shared() -> None:
    (key,) = parse_api_keys("", "S3cret")
    assert key.caller() == Caller(name="shared", scopes=frozenset({"admin"}), keyed=True)


def test_parse_api_keys_key_may_hold_colons() -> None:
    (key,) = parse_api_keys("web:a:b:c:read")
    assert key.key.get_secret_value() == "a:b:c" and key.scopes == {"read"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("web:SECRET-1:bogus", r"entry 1 \('web'\): scopes must be"),
        ("web:SECRET-1:read+", r"entry 1 \('web'\): scopes must be"),
        ("web:SECRET-1:read@..", r"entry 1 \('web'\): scopes must be"),
        ("ok:SECRET-0:read,web:SECRET-1", r"entry 2 \('web'\): the key is missing"),
        ("web::read", r"entry 1 \('web'\): the key is missing"),
        ("w b:SECRET-1:read", r"entry 1: the name must be"),
        ("web:SECRET-1:read,web:SECRET-2:write", "names must be unique: web"),
        ("a:SECRET-1:read,b:SECRET-1:write", "keys must be unique: a, b share a key"),
    ],
)
def test_settings_refuse_malformed_entry_without_echoing_key(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        settings(raw)
    assert "SECRET" not in str(info.value)


def test_settings_refuse_shared_name_twice() -> None:
    with pytest.raises(ValidationError, match="names must be unique: shared"):
        settings("shared:K9:read", shared="S3cret")


@pytest.mark.parametrize(("keys", "shared"), [(None, None), ("", ""), (" , ", "  ")])
def test_settings_without_any_key_fail_naming_the_variables(keys: str | None, shared: str | None) -> None:
    with pytest.raises(ValidationError, match=r"no API key is set: set SPAMOPS_API_KEYS .* or SPAMOPS_API_KEY"):
        settings(keys, shared)


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.user_data.settings import UserDataSettings

    monkeypatch.setenv("SPAMOPS_API_KEYS", "web:K1:read")
    monkeypatch.setenv("SPAMOPS_API_KEY", "S")
    names = [key.name for key in UserDataSettings(_env_file=None).api_keys]  # type: ignore[call-arg]
    assert names == ["web", "shared"]


@pytest.mark.parametrize(
    ("scopes", "scope", "user_id", "allowed"),
    [
        ({"read"}, "read", "fiona", True),
        ({"read"}, "read", None, True),
        ({"read"}, "write", None, False),
        ({"read@fiona"}, "read", "fiona", True),
        ({"read@fiona"}, "read", "otto", False),
        ({"read@fiona"}, "read", None, False),
        ({"read@fiona"}, "write", "fiona", False),
        ({"write"}, "read", "fiona", False),
        ({"admin"}, "write", None, True),
        ({"admin"}, "read", "otto", True),
        (set(), "read", "fiona", False),
    ],
)
def test_caller_may(scopes: set[str], scope: str, user_id: str | None, allowed: bool) -> None:
    assert Caller(name="c", scopes=frozenset(scopes), keyed=True).may(scope, user_id) is allowed


def test_match_key_finds_the_exact_key_only() -> None:
    keys = parse_api_keys(KEYS)
    assert match_key("K2-inbox", keys) is not None and match_key("K2-inbox", keys).name == "inbox"  # type: ignore[union-attr]
    assert match_key("K2-inbo", keys) is None
    assert match_key("", keys) is None
    assert match_key("ü", keys) is None


def test_outbound_api_key_prefers_own_name_then_shared() -> None:
    both = settings(shared="S3cret")
    assert outbound_api_key(both, "inbox") == "K2-inbox"
    assert outbound_api_key(both, "nobody") == "S3cret"
    with pytest.raises(ValueError, match="no API key for caller 'nobody'"):
        outbound_api_key(settings(), "nobody")


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.state.settings = settings()

    @app.get("/me")
    async def me(caller: AuthenticatedCaller) -> dict[str, object]:
        return {"name": caller.name, "keyed": caller.keyed}

    @app.post("/write")
    async def write(caller: Annotated[Caller, Depends(require_scope("write"))]) -> dict[str, str]:
        return {"name": caller.name}

    @app.get("/sms/{user_id}")
    async def inbox(user_id: str, caller: Annotated[Caller, Depends(require_user_scope("read"))]) -> dict[str, str]:
        return {"name": caller.name, "user": user_id}

    @app.get("/open", openapi_extra=KEY_OPTIONAL)
    async def open_route(request: Request) -> dict[str, object]:
        caller = caller_of(request)
        return {"name": caller.name, "keyed": caller.keyed, "scopes": sorted(caller.scopes)}

    return TestClient(app)


def key(value: str) -> dict[str, str]:
    return {"X-API-Key": value}


def test_authenticated_caller_is_named_by_its_key(client: TestClient) -> None:
    assert client.get("/me", headers=key("K3-telco")).json() == {"name": "telco", "keyed": True}


@pytest.mark.parametrize(("headers", "detail"), [({}, "missing X-API-Key header"), (key("nope"), "invalid X-API-Key")])
def test_authenticated_caller_without_valid_key_is_401(
    client: TestClient, headers: dict[str, str], detail: str
) -> None:
    response = client.get("/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response.headers["WWW-Authenticate"] == "ApiKey"


def test_require_scope_403_names_the_caller_and_scope(client: TestClient) -> None:
    response = client.post("/write", headers=key("K1-web"))
    assert response.status_code == 403
    assert response.json() == {"detail": "caller web lacks the write scope"}
    assert client.post("/write", headers=key("K4-ops")).json() == {"name": "ops"}
    assert client.post("/write").status_code == 401


@pytest.mark.parametrize(
    ("value", "user", "status"),
    [("K5-fiona", "fiona", 200), ("K5-fiona", "otto", 403), ("K1-web", "otto", 200), ("K3-telco", "fiona", 403),
     ("K4-ops", "otto", 200), ("wrong", "fiona", 401)],
)
def test_require_user_scope_checks_the_path_user(client: TestClient, value: str, user: str, status: int) -> None:
    assert client.get(f"/sms/{user}", headers=key(value)).status_code == status


def test_caller_without_key_is_the_client_address(client: TestClient) -> None:
    # X-Caller-Id is never read; X-Forwarded-For is uvicorn's business (tests/api/common/test_serve_proxy.py).
    response = client.get("/open", headers={"X-Caller-Id": "ops", "X-Forwarded-For": "10.9.9.9"})
    assert response.json() == {"name": "addr:testclient", "keyed": False, "scopes": []}


def test_caller_with_key_is_keyed_and_wrong_key_is_401(client: TestClient) -> None:
    assert client.get("/open", headers=key("K2-inbox")).json() == {
        "name": "inbox", "keyed": True, "scopes": ["read", "write"]}
    assert client.get("/open", headers=key("wrong")).status_code == 401


def test_keyed_routes_document_the_api_key_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The caller's API key."}
    assert schema["paths"]["/write"]["post"]["security"] == [{"APIKeyHeader": []}]
    assert schema["paths"]["/open"]["get"]["security"] == [{"APIKeyHeader": []}, {}]  # the key is optional
