"""Who is calling: named, scoped API keys (DESIGN §5 "Callers").

A service mixes `ApiKeySettings` into its settings class. `SPAMOPS_API_KEYS` lists the callers as
comma-separated `name:key:scopes` entries, scopes joined by `+`:

    SPAMOPS_API_KEYS="web:K1:read,inbox:K2:read+write,telco:K3:write,ops:K4:admin,fiona:K5:read@fiona"

Scopes: `read` (any inbox), `read@<user_id>` (that user's inbox only), `write`, `admin` (everything).
The legacy single `SPAMOPS_API_KEY` is the simplest case: a caller named `shared` with scope admin.
A malformed entry stops start-up with a message naming the entry, never echoing its key.

Routes ask for a caller with `authenticated_caller`, `require_scope("write")`, `require_user_scope("read")`
(for routes with a `{user_id}` path parameter); a route open to anonymous callers calls `caller_of(request)`
and declares `openapi_extra=KEY_OPTIONAL`. Each returns a `Caller`. A keyed
caller's identity is its key's name; an anonymous one is its client address as uvicorn resolved it
(`X-Forwarded-For` counts only from FORWARDED_ALLOW_IPS, see api.common.serve). `X-Caller-Id` is never read.
"""

import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, PrivateAttr, SecretStr, field_validator, model_validator

from api.common.ids import is_user_id

API_KEY_HEADER = "X-API-Key"
API_KEY_ENV = "SPAMOPS_API_KEY"
API_KEYS_ENV = "SPAMOPS_API_KEYS"
SHARED_CALLER = "shared"  # the legacy SPAMOPS_API_KEY's caller name
READ, WRITE, ADMIN = "read", "write", "admin"
USER_READ_PREFIX = "read@"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Keys travel in a header: visible ASCII only, so a key that survives .env also survives HTTP.
_KEY = re.compile(r"^[\x21-\x7e]+$")

# auto_error=False: missing keys get our own 401 (with WWW-Authenticate: ApiKey); the scheme documents
# the header in every keyed route's OpenAPI entry.
api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="The caller's API key.")
ApiKeyHeaderDep = Annotated[str | None, Security(api_key_header)]


@dataclass(frozen=True)
class Caller:
    name: str
    scopes: frozenset[str]
    keyed: bool

    def may(self, scope: str, user_id: str | None = None) -> bool:
        """`may("read", "fiona")` holds for read, read@fiona and admin; `may("read")` only for read and admin."""
        if ADMIN in self.scopes or scope in self.scopes:
            return True
        return scope == READ and user_id is not None and f"{USER_READ_PREFIX}{user_id}" in self.scopes


@dataclass(frozen=True)
class ApiKey:
    name: str
    key: SecretStr
    scopes: frozenset[str]

    def caller(self) -> Caller:
        return Caller(name=self.name, scopes=self.scopes, keyed=True)


def _valid_scope(scope: str) -> bool:
    if scope in (READ, WRITE, ADMIN):
        return True
    return scope.startswith(USER_READ_PREFIX) and is_user_id(scope.removeprefix(USER_READ_PREFIX))


def parse_entry(entry: str, position: int) -> ApiKey:
    """One `name:key:scopes` entry; errors name the entry by position and name, never by key."""
    name, _, rest = entry.partition(":")
    key, _, scopes = rest.rpartition(":")  # scopes never hold ":", so a key may
    label = f"{API_KEYS_ENV} entry {position}" + (f" ({name!r})" if _NAME.match(name) else "")
    if not _NAME.match(name):
        raise ValueError(f"{label}: the name must be 1-64 of A-Z a-z 0-9 _ . - (format name:key:scopes)")
    if not key or not _KEY.match(key):
        raise ValueError(f"{label}: the key is missing or holds spaces or non-ASCII (format name:key:scopes)")
    # The scopes are not echoed: in a mistyped entry they may be a key.
    if not all(_valid_scope(scope) for scope in scopes.split("+")):
        raise ValueError(f"{label}: scopes must be read, read@<user_id>, write or admin, joined by '+'")
    return ApiKey(name=name, key=SecretStr(key), scopes=frozenset(scopes.split("+")))


def parse_api_keys(raw: str, shared: str | None = None) -> tuple[ApiKey, ...]:
    """All callers, the legacy shared key (if set) included; names and keys must be unique."""
    keys = [parse_entry(entry.strip(), i) for i, entry in enumerate(raw.split(","), start=1) if entry.strip()]
    if shared:
        if not _KEY.match(shared):
            raise ValueError(f"{API_KEY_ENV} holds spaces or non-ASCII")
        keys.append(ApiKey(name=SHARED_CALLER, key=SecretStr(shared), scopes=frozenset({ADMIN})))
    names = [key.name for key in keys]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"API key names must be unique: {', '.join(twice)} appear more than once"
                         f" ({SHARED_CALLER!r} is {API_KEY_ENV}'s)")
    values = [key.key.get_secret_value() for key in keys]
    if len(set(values)) < len(values):
        shared_names = [key.name for key in keys if values.count(key.key.get_secret_value()) > 1]
        raise ValueError(f"API keys must be unique: {', '.join(shared_names)} share a key")
    return tuple(keys)


class ApiKeySettings(BaseModel):
    """Mixin for a BaseServiceSettings subclass whose service has keyed endpoints or calls one."""

    # A validation error would otherwise quote the raw input, keys included.
    model_config = ConfigDict(hide_input_in_errors=True)

    spamops_api_key: SecretStr | None = None
    spamops_api_keys: SecretStr | None = None
    _api_keys: tuple[ApiKey, ...] = PrivateAttr(default=())

    @field_validator("spamops_api_key", "spamops_api_keys", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _parse_keys(self) -> "ApiKeySettings":
        # After validation both values are SecretStr, so an error here cannot echo a key.
        raw = self.spamops_api_keys.get_secret_value() if self.spamops_api_keys else ""
        shared = self.spamops_api_key.get_secret_value().strip() if self.spamops_api_key else None
        self._api_keys = parse_api_keys(raw, shared)
        if not self._api_keys:
            raise ValueError(
                f"no API key is set: set {API_KEYS_ENV} (name:key:scopes,...) or {API_KEY_ENV}"
                f" in the environment or .env; clients send a key as the {API_KEY_HEADER} header"
            )
        return self

    @property
    def api_keys(self) -> tuple[ApiKey, ...]:
        return self._api_keys


def outbound_api_key(settings: ApiKeySettings, name: str) -> str:
    """The key a service sends when it calls another under its own `name`; the shared key otherwise."""
    for key in settings.api_keys:
        if key.name == name:
            return key.key.get_secret_value()
    for key in settings.api_keys:
        if key.name == SHARED_CALLER:
            return key.key.get_secret_value()
    raise ValueError(f"no API key for caller {name!r}: add {name}:<key>:<scopes> to {API_KEYS_ENV}"
                     f" or set {API_KEY_ENV}")


def match_key(given: str, keys: tuple[ApiKey, ...]) -> ApiKey | None:
    """Constant time in which key matched: every key is compared, none is skipped after a hit."""
    given_bytes = given.encode("utf-8")
    found = None
    for key in keys:
        if hmac.compare_digest(given_bytes, key.key.get_secret_value().encode("utf-8")):
            found = key
    return found


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": "ApiKey"})


def _keyed_caller(request: Request, given: str) -> Caller:
    settings: ApiKeySettings = request.app.state.settings
    key = match_key(given, settings.api_keys)
    if key is None:
        raise _unauthorised(f"invalid {API_KEY_HEADER}")
    return key.caller()


def _required_caller(request: Request, given: str | None) -> Caller:
    if given is None:
        raise _unauthorised(f"missing {API_KEY_HEADER} header")
    return _keyed_caller(request, given)


async def authenticated_caller(request: Request, x_api_key: ApiKeyHeaderDep = None) -> Caller:
    """Dependency: the keyed caller, or 401 with a JSON detail."""
    return _required_caller(request, x_api_key)


def caller_of(request: Request) -> Caller:
    """The keyed caller if a key is sent (401 if it is wrong), else the client address.

    A plain call rather than a dependency for the hot routes: as three nested FastAPI dependencies (key
    scheme, caller, admission) it cost ~35 µs of CPU per request (measured), against ~120 µs for a whole
    trivial route."""
    given = request.headers.get(API_KEY_HEADER)
    if given is not None:
        return _keyed_caller(request, given)
    host = request.client.host if request.client else "unknown"
    return Caller(name=f"addr:{host}", scopes=frozenset(), keyed=False)


AuthenticatedCaller = Annotated[Caller, Depends(authenticated_caller)]
# `openapi_extra` for a route that calls `caller_of` itself: the key scheme, or OpenAPI's empty requirement
# `{}`, which says the key may be left out (api.common.openapi adds the scheme's definition).
API_KEY_SCHEME = api_key_header.scheme_name
KEY_OPTIONAL: dict[str, Any] = {"security": [{API_KEY_SCHEME: []}, {}]}


def _forbidden(caller: Caller, scope: str, user_id: str | None = None) -> HTTPException:
    target = f" for user {user_id}" if user_id is not None else ""
    return HTTPException(status_code=status.HTTP_403_FORBIDDEN,
                         detail=f"caller {caller.name} lacks the {scope} scope{target}")


# The scope checks below take the key header directly rather than through `AuthenticatedCaller`: FastAPI
# solves each nested dependency per request, and one level less saved ~20 us of the inbox's ~380 us
# `POST /sms` (measured in-process). The header stays a `Security` parameter, which documents the scheme.
def require_scope(scope: str) -> Callable[..., Awaitable[Caller]]:
    """Dependency factory: the keyed caller if it holds `scope` (or admin), else 401/403."""

    async def scoped_caller(request: Request, x_api_key: ApiKeyHeaderDep = None) -> Caller:
        caller = _required_caller(request, x_api_key)
        if not caller.may(scope):
            raise _forbidden(caller, scope)
        return caller

    return scoped_caller


def require_user_scope(scope: str) -> Callable[..., Awaitable[Caller]]:
    """As `require_scope`, for a route with a `{user_id}` path parameter: `read@<that user>` counts too."""

    async def user_scoped_caller(request: Request, x_api_key: ApiKeyHeaderDep = None) -> Caller:
        caller = _required_caller(request, x_api_key)
        user_id = request.path_params.get("user_id")
        if not caller.may(scope, user_id):
            raise _forbidden(caller, scope, user_id)
        return caller

    return user_scoped_caller


# Every 401/403 a keyed route may answer, for its `responses=`.
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": f"missing or unknown {API_KEY_HEADER}"},
    403: {"description": "the key's caller lacks the scope this route needs"},
}
