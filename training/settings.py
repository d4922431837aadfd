"""Where training reads and writes; notebooks and scripts take these from the environment (SPAMOPS_*)."""

import os
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from training.versions import FEATURE_REPO_DIR, MODELS_DIR, PROJECT_ROOT

# Every settings class reads this file (relative to the working directory) under the environment.
# SPAMOPS_ENV_FILE names another one, and an empty value none: the test suite sets that, so that a
# developer's .env (which `make up` writes) cannot change what the tests run against.
ENV_FILE = os.environ.get("SPAMOPS_ENV_FILE", ".env") or None


class TrainingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPAMOPS_", env_file=ENV_FILE, extra="ignore")

    feature_repo: Path = FEATURE_REPO_DIR
    models_dir: Path = MODELS_DIR
    raw_data: Path = PROJECT_ROOT / "raw_data" / "raw_dataset.csv"
    notebook_timeout_seconds: int = 900


@lru_cache
def get_training_settings() -> TrainingSettings:
    return TrainingSettings()
