"""Batch-job settings: where the models and the Feast repository are (MODELS_DIR, FEATURE_REPO_PATH, ...)."""

from pathlib import Path

from api.common.settings import FeatureRepoSettings
from contract.paths import MODELS_DIR


class BatchSettings(FeatureRepoSettings):
    models_dir: Path = MODELS_DIR
