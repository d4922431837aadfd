"""Leak-free splits: duplicate texts share a group, and groups never straddle train and test.

The data holds many near-verbatim repeats (chain SMS, copy-pasted YouTube spam). Splitting rows at
random would put the same text on both sides and overstate every metric, so all splits here group by
a normalized text and stratify on the label as far as the groups allow.
"""

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from training.features import clean_text

_NON_WORD = re.compile(r"\s+")


def normalize_for_grouping(text: str) -> str:
    """Key under which two texts count as duplicates: cleaned of markup, lowercased, spaces collapsed."""
    return _NON_WORD.sub(" ", clean_text(text).lower()).strip()


def text_groups(texts: Iterable[str]) -> np.ndarray:
    """Integer group id per text; equal ids mean duplicate texts after normalization."""
    keys = pd.Series([normalize_for_grouping(str(text)) for text in texts], dtype=object)
    codes, _ = pd.factorize(keys)
    return codes.astype(np.int64)


def grouped_cv(n_splits: int = 5, random_state: int = 42) -> StratifiedGroupKFold:
    """Stratified, grouped, shuffled K-fold splitter; pass `groups=text_groups(texts)` to `split`."""
    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)


def _n_splits_for(test_size: float) -> int:
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    return max(2, round(1.0 / test_size))


def grouped_train_test_split(
    df: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
    test_size: float = 0.2,
    random_state: int = 42,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split `df` into (train, test) with duplicate texts on one side and labels stratified.

    The test side is one fold of a StratifiedGroupKFold with round(1 / test_size) folds, so its size is
    approximately `test_size` (exactly a multiple of 1/k).
    """
    splitter = grouped_cv(n_splits=_n_splits_for(test_size), random_state=random_state)
    groups = text_groups(df[text_col])
    train_idx, test_idx = next(splitter.split(df, df[label_col], groups=groups))
    return df.iloc[train_idx], df.iloc[test_idx]
