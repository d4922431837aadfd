"""Grouped splits: duplicates never straddle train and test, labels stay stratified."""

import numpy as np
import pandas as pd

from training.splits import (
    grouped_cv,
    grouped_train_test_split,
    normalize_for_grouping,
    repeated_grouped_folds,
    text_groups,
)

WORDS = ["apple", "river", "stone", "cloud", "lamp", "tiger", "paper", "glass", "music", "honey"]


def _words(group: int) -> str:
    """Three words that no other group shares, so groups differ in words, not only in numbers."""
    return " ".join(f"{WORDS[group % 10]}{WORDS[group // 10 % 10]}{suffix}" for suffix in ("a", "b", "c"))


def _frame(n_groups: int = 100, copies: int = 3) -> pd.DataFrame:
    rows = []
    for group in range(n_groups):
        label = "spam" if group % 4 == 0 else "ham"
        for copy in range(copies):
            text = f"Message {_words(group)}" if copy % 2 == 0 else f"  message   {_words(group).upper()} "
            rows.append({"sms_id": f"sms{group}_{copy}", "text": text, "label": label})
    return pd.DataFrame(rows)


def test_normalize_for_grouping_ignores_case_space_and_markup() -> None:
    assert normalize_for_grouping(" Hi  THERE&amp;you<br />") == normalize_for_grouping("hi there&you")


def test_text_groups_duplicates_share_an_id() -> None:
    groups = text_groups(["Hello  you", "hello you", "bye"])
    assert groups[0] == groups[1] != groups[2]


def test_text_groups_other_numbers_and_amounts_share_an_id() -> None:
    groups = text_groups(["Call 09061701461 to claim £500", "call 07700900123 to claim £2,000", "call me at 5"])
    assert groups[0] == groups[1] != groups[2]


def test_text_groups_changed_name_shares_an_id() -> None:
    texts = ["Hi John, the meeting moved to the big room after lunch today",
             "Hi Mary, the meeting moved to the big room after lunch today", "see you later"]  # fmt: skip
    groups = text_groups(texts)
    assert groups[0] == groups[1] != groups[2]


def test_text_groups_spam_template_family_joins_only_when_spam() -> None:
    texts = [
        "URGENT! We are trying to contact you. Last weekends draw shows that you won a £1000 prize",
        "URGENT! We are trying to contact U. Todays draw shows that you have won a £2000 prize GUARANTEED",
    ]
    assert len(set(text_groups(texts))) == 2
    assert len(set(text_groups(texts, spam=[True, True]))) == 1


def test_repeated_grouped_folds_each_repeat_partitions_all_rows() -> None:
    df = _frame()
    y = (df["label"] == "spam").to_numpy()
    groups = text_groups(df["text"], spam=y)
    tests: dict[int, list[int]] = {}
    for repeat, train_idx, test_idx in repeated_grouped_folds(y, groups, n_splits=5, n_repeats=3):
        assert not set(groups[train_idx]) & set(groups[test_idx])
        tests.setdefault(repeat, []).extend(test_idx.tolist())
    assert sorted(tests) == [0, 1, 2]
    assert all(sorted(rows) == list(range(len(df))) for rows in tests.values())
    assert tests[0] != tests[1]


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
