"""Grouped splits: duplicates never straddle train and test, labels stay stratified."""

import numpy as np
import pandas as pd

from training.splits import grouped_cv, grouped_train_test_split, normalize_for_grouping, text_groups


def _frame(n_groups: int = 100, copies: int = 3) -> pd.DataFrame:
    rows = []
    for group in range(n_groups):
        label = "spam" if group % 4 == 0 else "ham"
        for copy in range(copies):
            text = f"Message number {group}" if copy % 2 == 0 else f"  message   NUMBER {group} "
            rows.append({"sms_id": f"sms{group}_{copy}", "text": text, "label": label})
    return pd.DataFrame(rows)


def test_normalize_for_grouping_ignores_case_space_and_markup() -> None:
    assert normalize_for_grouping(" Hi  THERE&amp;you<br />") == normalize_for_grouping("hi there&you")


def test_text_groups_duplicates_share_an_id() -> None:
    groups = text_groups(["Hello  you", "hello you", "bye"])
    assert groups[0] == groups[1] != groups[2]


def test_grouped_train_test_split_no_duplicate_text_on_both_sides() -> None:
    train, test = grouped_train_test_split(_frame())
    train_keys = {normalize_for_grouping(t) for t in train["text"]}
    test_keys = {normalize_for_grouping(t) for t in test["text"]}
    assert not train_keys & test_keys
    assert len(train) + len(test) == 300


def test_grouped_train_test_split_is_stratified_and_sized() -> None:
    df = _frame()
    _, test = grouped_train_test_split(df, test_size=0.2)
    assert abs(len(test) / len(df) - 0.2) < 0.05
    assert abs((test["label"] == "spam").mean() - (df["label"] == "spam").mean()) < 0.05


def test_grouped_train_test_split_same_seed_same_split() -> None:
    first, _ = grouped_train_test_split(_frame(), random_state=7)
    second, _ = grouped_train_test_split(_frame(), random_state=7)
    assert first.index.equals(second.index)


def test_grouped_cv_folds_keep_groups_together() -> None:
    df = _frame()
    groups = text_groups(df["text"])
    for train_idx, test_idx in grouped_cv(n_splits=5).split(df, df["label"], groups=groups):
        assert not set(groups[train_idx]) & set(groups[test_idx])
        assert 0.15 < (df["label"].to_numpy()[test_idx] == "spam").mean() < 0.35
    assert np.unique(groups).size == 100
