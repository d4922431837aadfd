"""Repeated grouped cross-validation of the model versions (scripts/cross_validate.py).

Protocol: `n_repeats` partitions of the data into `n_splits` grouped, stratified folds
(`training.splits.repeated_grouped_folds`, groups from `text_groups` with template families), each
partition with its own seed. The tokenizer is fitted inside each fold on the training folds only, as
production fits it on the training split only. A fold (~1,200 texts) is about the size of the
held-out set (1,520), so the spread of fold scores is the spread to expect on one new set of that
size; the lower bound used to choose between candidates is `mean - 1 sd` of the fold scores (sample
sd), and the 10th percentile is reported beside it.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from training.evaluate import compute_metrics
from training.feature_sets import Encoder
from training.models import single_row_latency
from training.splits import grouped_train_test_split, repeated_grouped_folds, text_groups
from training.versions import ModelVersion, get_version

METRIC_KEYS = ("precision_spam", "recall_spam", "f1_spam", "accuracy", "roc_auc", "brier")
FoldScores = dict[str, list[float]]
OOF_KEY = "first_repeat_oof_spam_proba"


FoldInputs = tuple[np.ndarray, np.ndarray, Encoder]


def fold_inputs(
    version: ModelVersion,
    texts: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    tokenizer_params: Mapping[str, Any] | None = None,
) -> FoldInputs:
    """Model inputs of one fold and the encoder behind them, fitted on the train fold only."""
    encoder = version.feature_set.fit(list(texts[train_idx]), tokenizer_params)
    return encoder.texts_to_matrix(texts[train_idx]), encoder.texts_to_matrix(texts[test_idx]), encoder


def cross_validate_versions(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    versions: Sequence[str] = ("v1", "v2", "v3"),
    n_splits: int = 5,
    n_repeats: int = 5,
    random_state: int = 42,
    tokenizer_params: Mapping[str, Any] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, FoldScores]:
    """Per version, per metric, the value on each of the n_repeats × n_splits folds (labels: 1 = spam).

    Under `OOF_KEY`, each version also gets the out-of-fold spam probability of every text from the
    first repeat, for reliability curves and misclassified examples.
    """
    text_array = np.asarray(list(texts), dtype=object)
    y = np.asarray(labels, dtype=np.int64)
    groups = text_groups(text_array, spam=y == 1)
    scores: dict[str, FoldScores] = {v: {key: [] for key in METRIC_KEYS} for v in versions}
    folds = repeated_grouped_folds(y, groups, n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)
    for version in versions:
        scores[version][OOF_KEY] = [float("nan")] * len(y)
    for repeat, train_idx, test_idx in folds:
        # Versions on one feature set share its encoder of a fold, as they share it in production.
        cache: dict[str, FoldInputs] = {}
        for version in versions:
            declared = get_version(version)
            key = declared.feature_set.contract.name
            if key not in cache:
                cache[key] = fold_inputs(declared, text_array, train_idx, test_idx, tokenizer_params)
            X_train, X_test, encoder = cache[key]
            model = declared.make_estimator(encoder, random_state).fit(X_train, y[train_idx])
            spam_proba = model.predict_proba(X_test)[:, 1]
            metrics = compute_metrics(y[test_idx], spam_proba)
            if repeat == 0:
                for row, value in zip(test_idx.tolist(), spam_proba.tolist(), strict=True):
                    scores[version][OOF_KEY][row] = value
            for metric in METRIC_KEYS:
                scores[version][metric].append(float(metrics[metric]))
            if on_step is not None:
                on_step(version)
    return scores


def summarize(scores: FoldScores) -> dict[str, dict[str, float]]:
    """Per metric over the folds: mean, sample sd, lower bound (mean - sd), 10th percentile, minimum."""
    summary = {}
    for key in METRIC_KEYS:
        values = scores[key]
        mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
        summary[key] = {
            "mean": mean,
            "sd": sd,
            "lower": mean - sd,
            "p10": float(np.percentile(values, 10)),
            "min": float(np.min(values)),
        }
    return summary


def reliability(y: np.ndarray, spam_proba: np.ndarray, n_bins: int = 10) -> list[dict[str, float]]:
    """Reliability curve: per equal-width probability bin, the count, mean predicted and observed spam rate."""
    bins = np.minimum((spam_proba * n_bins).astype(np.int64), n_bins - 1)
    curve = []
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            curve.append({"bin": b / n_bins, "n": int(inside.sum()), "predicted": float(spam_proba[inside].mean()),
                          "observed": float(y[inside].mean())})  # fmt: skip
    return curve


def version_latency(
    version: str, texts: Sequence[str], labels: Sequence[int], *, n_calls: int = 1000, random_state: int = 42
) -> dict[str, float]:
    """Single-row predict_proba latency of `version` fitted on a grouped 80% split, timed on the rest."""
    frame = pd.DataFrame({"text": list(texts), "label": np.asarray(labels, dtype=np.int64)})
    train, test = grouped_train_test_split(frame, random_state=random_state)
    declared = get_version(version)
    X_train, X_test, encoder = fold_inputs(
        declared, frame["text"].to_numpy(dtype=object), train.index.to_numpy(), test.index.to_numpy()
    )
    model = declared.make_estimator(encoder, random_state).fit(X_train, train["label"])
    return single_row_latency(model, X_test, n_calls=n_calls)
