"""Train one model version from Feast's offline store and save it as a versioned artifact.

Everything version-specific comes from its declaration (training.versions). The split is seeded and
grouped by duplicate text. A feature set with fitted state (the v2 tokenizer) is fitted on the same
training split first (`fit_tokenizer_on_split`); training checks that the split ids match.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from contract.feature_store import LABEL_FIELD, LABEL_LEGEND
from contract.paths import MODELS_DIR
from training.artifacts import save_artifact
from training.data import dataset_hash, load_training_frame, open_store
from training.evaluate import compute_metrics
from training.feature_sets import TOKEN_IDS, ids_hash
from training.splits import grouped_train_test_split
from training.tokenizer import SmsTokenizer
from training.versions import ModelVersion, get_version

RANDOM_STATE = 42
TEST_SIZE = 0.2


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
    encoder = TOKEN_IDS.fit(train["text"].tolist())
    TOKEN_IDS.save(encoder, models_dir, train["sms_id"])
    return encoder.tokenizer


def _metadata(version: ModelVersion, frame: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    contract = version.feature_set.contract
    return {
        "version": version.name,
        "model": version.description,
        "feature_set": contract.name,
        "feature_view": contract.view,
        "feature_service": contract.training_service,
        "online_feature_service": contract.online_service,
        "feature_names": list(contract.fields),
        "time_freeze": version.time_freeze.isoformat(),
        "label_legend": {str(key): value for key, value in LABEL_LEGEND.items()},
        "dataset_sha256": dataset_hash(frame, version),
        "train_ids_sha256": ids_hash(train["sms_id"]),
        "n_train": len(train),
        "n_test": len(test),
        "random_state": RANDOM_STATE,
        "sklearn_version": sklearn.__version__,
        "trained_at": datetime.now(UTC).isoformat(),
    }


def train_version(
    version: str | ModelVersion, *, repo_path: Path, raw: pd.DataFrame, models_dir: Path = MODELS_DIR
) -> dict[str, Any]:
    """Retrieve, split, fit, evaluate and save one version (a name or a declaration); return its metadata."""
    declared = get_version(version)
    name, features = declared.name, declared.feature_set
    print(f"[{name}] reading {features.contract.training_service} at {declared.time_freeze:%Y-%m-%d} from Feast")
    frame = load_training_frame(open_store(repo_path), declared, raw)
    train, test = split_frame(frame)
    encoder = features.load(models_dir, train_ids=train["sms_id"])
    print(f"[{name}] fitting on {len(train)} rows, testing on {len(test)}")
    estimator = declared.make_estimator(encoder, RANDOM_STATE)
    estimator.fit(features.frame_to_matrix(train), train[LABEL_FIELD].to_numpy())
    metadata = _metadata(declared, frame, train, test)
    for key, part in (("train_metrics", train), ("test_metrics", test)):
        proba = estimator.predict_proba(features.frame_to_matrix(part))[:, 1]
        metadata[key] = compute_metrics(part[LABEL_FIELD].to_numpy(dtype=np.int64), proba)
    written = save_artifact(estimator, metadata, declared.model_dir(models_dir))
    f1 = metadata["test_metrics"]["f1_spam"]
    print(f"[{name}] test F1 (spam) {f1:.4f}; saved to {declared.model_dir(models_dir)}")
    return written
