"""Settings every service shares; each service subclasses `BaseServiceSettings` once."""

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, SecretStr, StringConstraints, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contract.paths import ENV_FILE, FEATURE_REPO_DIR, RUN_DIR

# `VAR=` in `.env` means "not set" (env_ignore_empty): a blank optional path would otherwise become ".".
_SETTINGS_CONFIG = SettingsConfigDict(
    env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
)
# The web client's origins (api/web serves the inbox page on :8080), which calls the APIs directly.
DEFAULT_CORS_ORIGINS = ("http://127.0.0.1:8080", "http://localhost:8080")
_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")

# Where another service listens: scheme://host[:port], no path; a trailing slash is dropped so that
# f"{url}/path" never doubles it.
ServiceUrl = Annotated[
    str, StringConstraints(pattern=r"^https?://[^/\s]+/?$"), AfterValidator(lambda url: url.rstrip("/"))
]


def split_csv(value: Any) -> Any:
    """Turn "a, b,,c" into ["a", "b", "c"]; leave lists alone (env values arrive as strings)."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return value


def parse_origins(value: object) -> object:
    """Settings helper: "http://a:8080, http://b/" → ["http://a:8080", "http://b"].

    A trailing slash is dropped because browsers send the Origin header without one and
    the middleware compares strings exactly; anything that is not scheme://host[:port] or "*" is refused.
    """
    items = split_csv(value)
    if not isinstance(items, list):
        return items
    origins = [item.rstrip("/") for item in items]
    bad = [origin for origin in origins if origin != "*" and not _ORIGIN.match(origin)]
    if bad:
        raise ValueError(f"CORS_ORIGINS entries must look like http://host:port or '*', got {', '.join(bad)}")
    return list(dict.fromkeys(origins))


class BaseServiceSettings(BaseSettings):
    """Environment (and `.env`) driven; field names map to upper-case variables, e.g. LOGS_FRACTION."""

    model_config = _SETTINGS_CONFIG

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Share of requests that get a detailed access-log line; errors are always logged.
    logs_fraction: float = Field(default=0.01, ge=0.0, le=1.0)

    # Request bodies above this get a 413 before they are parsed; services that take batches raise it.
    max_body_bytes: int = Field(default=64_000, ge=1024)

    storage_backend: Literal["sqlite", "cassandra"] = "sqlite"
    sqlite_path: Path = RUN_DIR / "spamops.db"

    cassandra_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cassandra_port: int = Field(default=9042, ge=1, le=65535)
    cassandra_keyspace: str = Field(default="spamops", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,47}$")
    cassandra_local_dc: str = "datacenter1"
    cassandra_request_timeout: float = Field(default=5.0, gt=0)
    # DataStax Astra DB: the secure connect bundle replaces hosts; username/password are the token's
    # client id and secret (or "token" and the AstraCS token).
    cassandra_secure_bundle_path: Path | None = None
    cassandra_username: str | None = None
    cassandra_password: SecretStr | None = None

    # Browser origins allowed to call this service (the inbox page); empty means no CORS headers.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_CORS_ORIGINS))

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("cassandra_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        return parse_origins(value)

    @model_validator(mode="after")
    def _cassandra_needs_hosts(self) -> "BaseServiceSettings":
        if self.storage_backend == "cassandra" and not (self.cassandra_hosts or self.cassandra_secure_bundle_path):
            raise ValueError(
                "STORAGE_BACKEND=cassandra needs CASSANDRA_HOSTS (comma-separated, e.g. 10.0.0.1,10.0.0.2)"
                " or, for Astra DB, CASSANDRA_SECURE_BUNDLE_PATH"
            )
        return self


class FeatureRepoSettings(BaseSettings):
    """Where the Feast repository is, and which of its configs to use (the Cassandra one in production)."""

    model_config = _SETTINGS_CONFIG

    feature_repo_path: Path = FEATURE_REPO_DIR
    # e.g. FEAST_FS_YAML_FILE=feature_store.cassandra.yaml (relative to feature_repo_path) for Cassandra.
    feast_fs_yaml_file: Path | None = None

    @property
    def feast_yaml_path(self) -> Path | None:
        path = self.feast_fs_yaml_file
        if path is None:
            return None
        return path if path.is_absolute() else self.feature_repo_path / path


class ServerSettings(BaseSettings):
    """How api.common.serve runs a service, whichever it is (the apps themselves never read this)."""

    model_config = SettingsConfigDict(env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore")

    # Proxies whose X-Forwarded-For uvicorn honours (IPs or CIDRs, "*" for any); a client elsewhere never
    # chooses its own address. Empty, the default, trusts none, not even loopback (uvicorn's own default).
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _split_ips(cls, value: Any) -> Any:
        return split_csv(value)
