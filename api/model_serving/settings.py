"""Model-serving settings: one class, read from the environment and `.env`.

Version names are checked against the registry when the app starts (api.model_serving.registry), so
reading settings loads no model code.
"""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from api.common.settings import BaseServiceSettings, FeatureRepoSettings, split_csv
from contract.paths import MODELS_DIR

MAX_TEXT_LENGTH = 5_000  # characters; longer than any SMS or comment in the data by far
MAX_BATCH_SIZE = 256


class ModelServingSettings(BaseServiceSettings, FeatureRepoSettings):
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

    @field_validator("spam_model_versions", "spam_model_plugins", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("spam_model_versions")
    @classmethod
    def _some_versions(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("SPAM_MODEL_VERSIONS is empty; name at least one version, e.g. v1,v2,v3")
        return list(dict.fromkeys(value))


@lru_cache
def get_settings() -> ModelServingSettings:
    return ModelServingSettings()
