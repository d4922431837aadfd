"""Leak-free splits: near-duplicate texts and spam template families never straddle train and test.

The data holds many repeats: chain SMS, copy-pasted YouTube spam, and spam campaigns that send one
template with other numbers, prices or names. Splitting rows at random, or grouping only exact
duplicates, puts a campaign on both sides and overstates every metric (docs/models.md measures by how
much). So texts are linked when
- their normalized keys are equal (markup removed, numbers/links/money as class tokens, lowercased),
- or their sets of token unigrams and bigrams overlap with Jaccard >= NEAR_DUPLICATE (a changed name
  or a few words),
- or both are spam and overlap with Jaccard >= TEMPLATE_FAMILY (one campaign's variants),
and groups are the connected components of those links. Splits stratify on the label as far as the
groups allow. The pairwise overlap is one sparse product, O(n^2) in the worst case: fine for the
dev file (6,008 rows, about 1 s), to be revisited for data 100x larger.
"""

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import StratifiedGroupKFold

from training.features import clean_text
from training.tokenizer import normalize_spans, tokenize

NEAR_DUPLICATE = 0.7
TEMPLATE_FAMILY = 0.5
_SPACES = re.compile(r"\s+")


def normalize_for_grouping(text: str) -> str:
    """Exact-duplicate key: cleaned of markup, class tokens for numbers etc., lowercased, spaces collapsed."""
    return _SPACES.sub(" ", normalize_spans(clean_text(text)).lower()).strip()


def _shingle_matrix(texts: Sequence[str]) -> sp.csr_matrix:
    """Binary (texts × shingles) matrix of token unigrams and bigrams."""
    index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for row, text in enumerate(texts):
        tokens = tokenize(text)
        shingles = set(tokens) | {f"{a} {b}" for a, b in itertools.pairwise(tokens)}
        for shingle in shingles:
            rows.append(row)
            cols.append(index.setdefault(shingle, len(index)))
    data = np.ones(len(rows), dtype=np.float64)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(texts), max(len(index), 1)))


def _similar_pairs(texts: Sequence[str], spam: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    shingles = _shingle_matrix(texts)
    overlap = sp.triu(shingles @ shingles.T, k=1).tocoo()
    sizes = np.asarray(shingles.sum(axis=1)).ravel()
    jaccard = overlap.data / (sizes[overlap.row] + sizes[overlap.col] - overlap.data)
    linked = jaccard >= NEAR_DUPLICATE
    if spam is not None:
        linked |= (jaccard >= TEMPLATE_FAMILY) & spam[overlap.row] & spam[overlap.col]
    return overlap.row[linked], overlap.col[linked]


def text_groups(texts: Iterable[str], spam: Iterable[bool] | None = None) -> np.ndarray:
    """Integer group id per text (module docstring); pass `spam` (one flag per text) to group template families."""
    text_list = [str(text) for text in texts]
    n = len(text_list)
    exact, _ = pd.factorize(pd.Series([normalize_for_grouping(t) for t in text_list], dtype=object))
    spam_flags = None if spam is None else np.asarray(list(spam), dtype=bool)
    rows, cols = _similar_pairs(text_list, spam_flags)
    # Linking every text to a node of its exact key joins exact duplicates without n^2 pairs.
    rows = np.concatenate([rows, np.arange(n)])
    cols = np.concatenate([cols, n + exact])
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + exact.max() + 1,) * 2)
    _, component = connected_components(graph, directed=False)
    codes, _ = pd.factorize(component[:n])
    return codes.astype(np.int64)


def grouped_cv(n_splits: int = 5, random_state: int = 42) -> StratifiedGroupKFold:
    """Stratified, grouped, shuffled K-fold splitter; pass `groups=text_groups(texts, labels)` to `split`."""
    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)


def repeated_grouped_folds(
    y: np.ndarray, groups: np.ndarray, *, n_splits: int = 5, n_repeats: int = 5, random_state: int = 42
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(repeat, train_idx, test_idx) of `n_repeats` grouped K-fold partitions with seeds random_state + r."""
    placeholder = np.zeros(len(y))
    for repeat in range(n_repeats):
        for train_idx, test_idx in grouped_cv(n_splits, random_state + repeat).split(placeholder, y, groups):
            yield repeat, train_idx, test_idx


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
    # Labels are 0/1 in training frames and "ham"/"spam" in raw ones.
    groups = text_groups(df[text_col], spam=df[label_col].isin((1, "spam")).to_numpy())
    train_idx, test_idx = next(splitter.split(df, df[label_col], groups=groups))
    return df.iloc[train_idx], df.iloc[test_idx]
