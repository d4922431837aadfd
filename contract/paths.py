"""Where the project's files are: one home for the root, the run directory and the default locations."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = PROJECT_ROOT / ".run"
MODELS_DIR = PROJECT_ROOT / "models"
FEATURE_REPO_DIR = PROJECT_ROOT / "feature_repo"
RAW_DATA_PATH = PROJECT_ROOT / "raw_data" / "raw_dataset.csv"

# Every settings class reads this file (relative to the working directory) under the environment.
# SPAMOPS_ENV_FILE names another one, and an empty value none: the test suite sets that, so that a
# developer's .env (which `make up` writes) cannot change what the tests run against.
ENV_FILE = os.environ.get("SPAMOPS_ENV_FILE", ".env") or None
