"""Metrics for a model version on any labelled CSV.

    python -m training.evaluate --version v1 --data ../shared/data/sms_spam_dev.csv

prints JSON: accuracy, and precision, recall and F1 for spam, ROC AUC and the Brier score of the spam
probability (mean squared error; lower is better calibrated and sharper).
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from contract.paths import MODELS_DIR
from training.artifacts import load_artifact
from training.raw_data import RawDataError, read_raw_csv
from training.versions import VERSIONS, ModelVersion, get_version


def compute_metrics(y_true: np.ndarray, spam_proba: np.ndarray, threshold: float = 0.5) -> dict[str, float | int]:
    y_pred = (spam_proba >= threshold).astype(np.int64)
    metrics = {
        "accuracy": accuracy_score(y_true, y_pred),
        "precision_spam": precision_score(y_true, y_pred, zero_division=0),
        "recall_spam": recall_score(y_true, y_pred, zero_division=0),
        "f1_spam": f1_score(y_true, y_pred, zero_division=0),
        "roc_auc": roc_auc_score(y_true, spam_proba) if len(set(y_true)) == 2 else float("nan"),
        "brier": brier_score_loss(y_true, spam_proba, pos_label=1),
    }
    return {"n": len(y_true), **{key: round(float(value), 6) for key, value in metrics.items()}}


def texts_to_matrix(version: ModelVersion, texts: Sequence[str], models_dir: Path = MODELS_DIR) -> np.ndarray:
    """Model input for raw texts, computed exactly as the offline sources and serving compute it."""
    return version.feature_set.load(models_dir).texts_to_matrix(texts)


def evaluate_csv(version: str | ModelVersion, data: Path, models_dir: Path = MODELS_DIR) -> dict[str, float | int]:
    declared = get_version(version)
    raw = read_raw_csv(data)
    artifact = load_artifact(declared.model_dir(models_dir))
    proba = artifact.estimator.predict_proba(texts_to_matrix(declared, raw["text"].tolist(), models_dir))[:, 1]
    return compute_metrics((raw["label"] == "spam").to_numpy(dtype=np.int64), proba)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print JSON metrics of a model version on a labelled CSV.")
    parser.add_argument("--version", required=True, choices=sorted(VERSIONS))
    parser.add_argument("--data", required=True, type=Path, help="CSV with columns sms_id,text,label")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    args = parser.parse_args(argv)
    try:
        metrics = evaluate_csv(args.version, args.data, args.models_dir)
    except (RawDataError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"version": args.version, "data": str(args.data), **metrics}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
