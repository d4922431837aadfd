"""Grouped, stratified cross-validation of the model versions (scripts/cross_validate.py).

The tokenizer is fitted inside each fold on the training folds only, as production fits it on the
training split only.
"""

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from training.evaluate import compute_metrics
from training.features import v1_feature_matrix
from training.models import make_estimator, single_row_latency
from training.splits import grouped_cv, grouped_train_test_split, text_groups
from training.tokenizer import fit_tokenizer

METRIC_KEYS = ("precision_spam", "recall_spam", "f1_spam", "accuracy", "roc_auc")


def fold_inputs(
    version: str, texts: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Model inputs of one fold: v1 features, or token ids from a tokenizer fitted on the train fold only."""
    if version == "v1":
        return v1_feature_matrix(texts[train_idx]), v1_feature_matrix(texts[test_idx]), None
    tokenizer = fit_tokenizer(list(texts[train_idx]))
    return tokenizer.transform(texts[train_idx]), tokenizer.transform(texts[test_idx]), tokenizer.n_ids_


def cross_validate_versions(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    versions: Sequence[str] = ("v1", "v2", "v3"),
    n_splits: int = 5,
    random_state: int = 42,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Per version, per metric, the value on each grouped stratified fold (labels: 1 = spam)."""
    text_array = np.asarray(list(texts), dtype=object)
    y = np.asarray(labels, dtype=np.int64)
    folds = grouped_cv(n_splits, random_state).split(text_array, y, groups=text_groups(text_array))
    scores: dict[str, dict[str, list[float]]] = {v: {key: [] for key in METRIC_KEYS} for v in versions}
    for train_idx, test_idx in folds:
        # v2 and v3 share the tokenizer of a fold, as they share it in production.
        cache: dict[bool, tuple[np.ndarray, np.ndarray, int | None]] = {}
        for version in versions:
            key = version == "v1"
            if key not in cache:
                cache[key] = fold_inputs(version, text_array, train_idx, test_idx)
            X_train, X_test, n_ids = cache[key]
            model = make_estimator(version, n_ids=n_ids, random_state=random_state).fit(X_train, y[train_idx])
            metrics = compute_metrics(y[test_idx], model.predict_proba(X_test)[:, 1])
            for metric in METRIC_KEYS:
                scores[version][metric].append(float(metrics[metric]))
            if on_step is not None:
                on_step(version)
    return scores


def summarize(scores: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Mean and (population) standard deviation of each metric over the folds."""
    return {key: {"mean": float(np.mean(v)), "std": float(np.std(v))} for key, v in scores.items()}


def version_latency(
    version: str, texts: Sequence[str], labels: Sequence[int], *, n_calls: int = 1000, random_state: int = 42
) -> dict[str, float]:
    """Single-row predict_proba latency of `version` fitted on a grouped 80% split, timed on the rest."""
    frame = pd.DataFrame({"text": list(texts), "label": np.asarray(labels, dtype=np.int64)})
    train, test = grouped_train_test_split(frame, random_state=random_state)
    X_train, X_test, n_ids = fold_inputs(
        version, frame["text"].to_numpy(dtype=object), train.index.to_numpy(), test.index.to_numpy()
    )
    model = make_estimator(version, n_ids=n_ids, random_state=random_state).fit(X_train, train["label"])
    return single_row_latency(model, X_test, n_calls=n_calls)
