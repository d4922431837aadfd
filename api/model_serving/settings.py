"""Model-serving settings: one class, read from the environment and `.env`.

Version names are checked against the registry when the app starts (api.model_serving.registry), so
reading settings loads no model code.
"""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from api.common.auth import ApiKeySettings
from api.common.settings import BaseServiceSettings, FeatureRepoSettings, split_csv
from contract.paths import MODELS_DIR

MAX_TEXT_LENGTH = 5_000  # characters; longer than any SMS or comment in the data by far
MAX_BATCH_SIZE = 256
ALL_VERSIONS = "*"  # MAX_FEATURE_AGE_SECONDS's key for a limit without a version


class ModelServingSettings(BaseServiceSettings, FeatureRepoSettings, ApiKeySettings):
    # SPAM_MODEL_VERSIONS="v1, v2,v3": order kept, blanks and duplicates dropped.
    spam_model_versions: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["v1", "v2", "v3"])
    # SPAM_MODEL_PLUGINS="package.module:ClassName,...": extra versions served beside the built-ins.
    spam_model_plugins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    models_dir: Path = MODELS_DIR

    cache_ttl_seconds: int = Field(default=3600, ge=1)
    # In-process LRU in front of the persisted cache: a hit costs a dict lookup, no thread hop.
    memory_cache_size: int = Field(default=10_000, ge=0)
    max_text_length: int = Field(default=MAX_TEXT_LENGTH, ge=1)
    max_batch_size: int = Field(default=MAX_BATCH_SIZE, ge=1)
    # Most single-row predictions one predict call takes from the queue (batching.py); 1 turns batching off.
    predict_batch_max: int = Field(default=32, ge=1)
    # Bodies above this get a 413 before parsing; a full batch of maximal texts is ~1.3 MB.
    max_body_bytes: int = Field(default=4_000_000, ge=1024)
    call_log_window_seconds: int = Field(default=3600, ge=1)
    call_log_max_limit: int = Field(default=100, ge=1)
    # Store call-log texts as they are rather than as sha256 + length (issue 12: the log is readable).
    call_log_raw_inputs: bool = False
    # In-process cache of online feature rows for sms_to_prediction: a row may be served up to this
    # long after a push replaced it (per worker). 0 turns it off.
    feature_cache_ttl_seconds: float = Field(default=5.0, ge=0)
    feature_cache_maxsize: int = Field(default=10_000, ge=0)
    # MAX_FEATURE_AGE_SECONDS="3600" (every version) or "v2=600,v3=600"; unset: no limit. Older
    # online features make sms_to_prediction answer 409.
    max_feature_age_seconds: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    # Requests per caller and version over a sliding window (0: no limit). Anonymous callers are
    # counted per client address; RATE_LIMIT_CALLERS="bench:1000000,inbox:100000" sets a key's own limit.
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    rate_limit_anonymous: int = Field(default=600, ge=0)
    rate_limit_keyed: int = Field(default=6000, ge=0)
    # The platform's own inbox is not limited: it asks for one batch of features per batch of messages.
    rate_limit_callers: Annotated[dict[str, int], NoDecode] = Field(default_factory=lambda: {"inbox": 0})
    # How often each worker shares its counts; the limit can overshoot by about what arrives in one interval.
    rate_limit_sync_seconds: float = Field(default=0.1, gt=0)

    @field_validator("spam_model_versions", "spam_model_plugins", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("max_feature_age_seconds", mode="before")
    @classmethod
    def _parse_ages(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value.strip() and "=" not in value:
            return {ALL_VERSIONS: value.strip()}
        pairs = [item.partition("=") for item in split_csv(value)]
        if any(not version.strip() or not sep for version, sep, _ in pairs):
            raise ValueError("MAX_FEATURE_AGE_SECONDS: expected seconds, or version=seconds pairs: v2=600,v3=600")
        return {version.strip(): seconds.strip() for version, _, seconds in pairs}

    @field_validator("rate_limit_callers", mode="before")
    @classmethod
    def _parse_caller_limits(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        pairs = [item.partition(":") for item in split_csv(value)]
        if any(not name.strip() or not sep for name, sep, _ in pairs):
            raise ValueError("RATE_LIMIT_CALLERS: expected name:limit pairs, e.g. bench:1000000")
        return {name.strip(): limit.strip() for name, _, limit in pairs}

    def rate_limit(self, caller: str, *, keyed: bool) -> int:
        """The caller's requests per window and version; 0 means no limit."""
        if keyed and caller in self.rate_limit_callers:
            return self.rate_limit_callers[caller]
        return self.rate_limit_keyed if keyed else self.rate_limit_anonymous

    @field_validator("max_feature_age_seconds")
    @classmethod
    def _positive_ages(cls, value: dict[str, float]) -> dict[str, float]:
        if any(seconds <= 0 for seconds in value.values()):
            raise ValueError("MAX_FEATURE_AGE_SECONDS: ages must be positive")
        return value

    def max_feature_age_by_version(self, served: list[str]) -> dict[str, float]:
        """The limit for each served version that has one; a limit for a version not served is refused."""
        unknown = [v for v in self.max_feature_age_seconds if v != ALL_VERSIONS and v not in served]
        if unknown:
            raise ValueError(f"MAX_FEATURE_AGE_SECONDS names {', '.join(unknown)}, not served ({', '.join(served)})")
        default = self.max_feature_age_seconds.get(ALL_VERSIONS)
        limits = {v: self.max_feature_age_seconds.get(v, default) for v in served}
        return {v: limit for v, limit in limits.items() if limit is not None}

    @field_validator("spam_model_versions")
    @classmethod
    def _some_versions(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("SPAM_MODEL_VERSIONS is empty; name at least one version, e.g. v1,v2,v3")
        return list(dict.fromkeys(value))


@lru_cache
def get_settings() -> ModelServingSettings:
    return ModelServingSettings()
