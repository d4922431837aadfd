"""Where training reads and writes; notebooks and scripts take these from the environment (SPAMOPS_*)."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from contract.paths import ENV_FILE, FEATURE_REPO_DIR, MODELS_DIR, RAW_DATA_PATH


class TrainingSettings(BaseSettings):
    # `SPAMOPS_MODELS_DIR=` (blank) means unset, not the working directory.
    model_config = SettingsConfigDict(env_prefix="SPAMOPS_", env_file=ENV_FILE, extra="ignore", env_ignore_empty=True)

    feature_repo: Path = FEATURE_REPO_DIR
    models_dir: Path = MODELS_DIR
    raw_data: Path = RAW_DATA_PATH
    notebook_timeout_seconds: int = 900


@lru_cache
def get_training_settings() -> TrainingSettings:
    return TrainingSettings()
