"""Batch-scoring fixtures: a sample of the dev data in both input formats, and the trained models."""

import os
from pathlib import Path

import pandas as pd
import pytest

from api.model_serving.models import SpamModel
from batch.scoring import load_model

# test_scoring.py imports model serving's main.py, which builds its module-level app on import.
os.environ.setdefault("SPAMOPS_API_KEY", "test-api-key")

SAMPLE_ROWS = 300


@pytest.fixture(scope="session")
def sample(raw_dev: pd.DataFrame) -> pd.DataFrame:
    """Spam and ham both, and texts that pandas would read as missing or as numbers."""
    frame = raw_dev[["sms_id", "text"]].head(SAMPLE_ROWS).reset_index(drop=True)
    frame.loc[0, "text"], frame.loc[1, "text"], frame.loc[2, "text"] = "NA", "", "12345"
    return frame


@pytest.fixture(scope="session")
def sample_csv(sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "sample.csv"
    sample.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def sample_parquet(sample: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "sample.parquet"
    sample.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="session")
def v3_model(models_dir: Path) -> SpamModel:
    return load_model("v3", models_dir)
