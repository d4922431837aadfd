"""Train one model version from Feast's offline store and save it as a versioned artifact.

The split is seeded and grouped by duplicate text. Models v2 and v3 use the tokenizer fitted on the
same training split (`fit_tokenizer_on_split`); training checks that the split ids match.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from training.artifacts import save_artifact
from training.data import (
    dataset_hash,
    feature_columns,
    feature_matrix,
    ids_hash,
    load_training_frame,
    open_store,
)
from training.evaluate import compute_metrics
from training.models import MODEL_DESCRIPTIONS, make_estimator
from training.splits import grouped_train_test_split
from training.tokenizer import SmsTokenizer, fit_tokenizer
from training.versions import LABEL_FIELD, LABEL_LEGEND, MODELS_DIR, get_spec, tokenizer_dir

RANDOM_STATE = 42
TEST_SIZE = 0.2
SPLIT_FILE = "split.json"


def split_frame(frame: pd.DataFrame, random_state: int = RANDOM_STATE) -> tuple[pd.DataFrame, pd.DataFrame]:
    labels = frame["label"].map({"ham": 0, "spam": 1}) if frame["label"].dtype == object else frame["label"]
    keyed = frame.assign(_stratify=labels.to_numpy())
    train, test = grouped_train_test_split(
        keyed, label_col="_stratify", test_size=TEST_SIZE, random_state=random_state
    )
    return train.drop(columns="_stratify"), test.drop(columns="_stratify")


def fit_tokenizer_on_split(raw: pd.DataFrame, models_dir: Path = MODELS_DIR) -> SmsTokenizer:
    """Fit the v2 tokenizer on the training split only, and record which ids that split held."""
    train, _ = split_frame(raw)
    tokenizer = fit_tokenizer(train["text"].tolist())
    directory = tokenizer_dir(models_dir)
    tokenizer.save(directory)
    split = {"train_ids_sha256": ids_hash(train["sms_id"]), "n_train": len(train), "random_state": RANDOM_STATE}
    (directory / SPLIT_FILE).write_text(json.dumps(split, indent=2) + "\n")
    return tokenizer


def _load_tokenizer_for(train_ids: pd.Series, models_dir: Path) -> SmsTokenizer:
    directory = tokenizer_dir(models_dir)
    recorded = json.loads((directory / SPLIT_FILE).read_text())["train_ids_sha256"]
    if recorded != ids_hash(train_ids):
        raise RuntimeError(f"the tokenizer in {directory} was fitted on another split; refit it first")
    return SmsTokenizer.load(directory)


def _metadata(version: str, frame: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    spec = get_spec(version)
    return {
        "version": version,
        "model": MODEL_DESCRIPTIONS[version],
        "feature_view": spec.feature_view,
        "feature_service": spec.training_feature_service,
        "online_feature_service": spec.online_feature_service,
        "feature_names": feature_columns(version),
        "time_freeze": spec.time_freeze.isoformat(),
        "label_legend": {str(key): value for key, value in LABEL_LEGEND.items()},
        "dataset_sha256": dataset_hash(frame, version),
        "train_ids_sha256": ids_hash(train["sms_id"]),
        "n_train": len(train),
        "n_test": len(test),
        "random_state": RANDOM_STATE,
        "sklearn_version": sklearn.__version__,
        "trained_at": datetime.now(UTC).isoformat(),
    }


def train_version(version: str, *, repo_path: Path, raw: pd.DataFrame, models_dir: Path = MODELS_DIR) -> dict[str, Any]:
    """Retrieve, split, fit, evaluate and save one version; return its metadata."""
    spec = get_spec(version)
    print(f"[{version}] reading {spec.training_feature_service} at {spec.time_freeze:%Y-%m-%d} from Feast")
    frame = load_training_frame(open_store(repo_path), spec, raw)
    train, test = split_frame(frame)
    n_ids = _load_tokenizer_for(train["sms_id"], models_dir).n_ids_ if version != "v1" else None
    print(f"[{version}] fitting on {len(train)} rows, testing on {len(test)}")
    estimator = make_estimator(version, n_ids=n_ids, random_state=RANDOM_STATE)
    estimator.fit(feature_matrix(train, version), train[LABEL_FIELD].to_numpy())
    metadata = _metadata(version, frame, train, test)
    for name, part in (("train_metrics", train), ("test_metrics", test)):
        proba = estimator.predict_proba(feature_matrix(part, version))[:, 1]
        metadata[name] = compute_metrics(part[LABEL_FIELD].to_numpy(dtype=np.int64), proba)
    written = save_artifact(estimator, metadata, spec.model_dir(models_dir))
    f1 = metadata["test_metrics"]["f1_spam"]
    print(f"[{version}] test F1 (spam) {f1:.4f}; saved to {spec.model_dir(models_dir)}")
    return written
