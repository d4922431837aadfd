"""SmsTokenizer: vocabulary from the training split only, OOV, padding/truncation, persistence."""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from training.models import SMALL_BATCH
from training.tokenizer import (
    CODE_TOKEN,
    FORMAT_VERSION,
    MONEY_TOKEN,
    NUM_TOKEN,
    PHONE_TOKEN,
    TOKENIZER_FILE,
    URL_TOKEN,
    SmsTokenizer,
    tokenize,
)

TRAIN = ["free prize call now", "call me later", "see you later", "free entry now now"]


def _fitted(**params: object) -> SmsTokenizer:
    return SmsTokenizer(**{"vocab_size": 100, "min_count": 1, **params}).fit(TRAIN)


def test_fit_learns_ids_from_two_by_frequency() -> None:
    tokenizer = _fitted()
    assert tokenizer.vocabulary_["now"] == 2  # most frequent word
    assert sorted(tokenizer.vocabulary_.values()) == list(range(2, tokenizer.n_ids_))


def test_encode_word_only_in_test_text_maps_to_oov() -> None:
    tokenizer = _fitted(length=4)
    assert tokenizer.encode("free zebra") == [tokenizer.vocabulary_["free"], SmsTokenizer.OOV_ID, 0, 0]


def test_encode_unknown_words_are_kept_as_oov_not_dropped() -> None:
    tokenizer = _fitted(length=5)
    assert tokenizer.encode("qqq rrr call") == [1, 1, tokenizer.vocabulary_["call"], 0, 0]


def test_unknown_word_backs_off_to_the_word_sharing_its_longest_prefix() -> None:
    tokenizer = SmsTokenizer(vocab_size=100, min_count=1, oov_prefix=5).fit(
        ["subscribe subscribe subscription", "subscribe win winner", "prizes prize"])
    vocabulary = tokenizer.vocabulary_
    # "subscr" is shared by both; "subscribe" is the more frequent. "subscripts" shares more with "subscription".
    assert tokenizer.encode("subscribee subscripts")[:2] == [vocabulary["subscribe"], vocabulary["subscription"]]
    # A shared prefix under 5 characters is no match ("winning" shares "winn" with "winner"); "prized" matches.
    assert tokenizer.encode("winning prized")[:2] == [SmsTokenizer.OOV_ID, vocabulary["prize"]]


def test_without_oov_prefix_every_unknown_word_is_oov() -> None:
    tokenizer = SmsTokenizer(vocab_size=100, min_count=1, oov_prefix=0).fit(["subscribe"])
    assert tokenizer.encode("subscribee")[0] == SmsTokenizer.OOV_ID


def test_encode_empty_text_gives_all_pad() -> None:
    assert _fitted().encode("") == [SmsTokenizer.PAD_ID] * 30


def test_encode_long_text_pre_truncation_keeps_the_end() -> None:
    tokenizer = _fitted(length=3, truncation="pre", drop_stop_words=False)
    assert tokenizer.encode("see you later call me later") == tokenizer.encode("call me later")


def test_encode_long_text_post_truncation_keeps_the_start() -> None:
    tokenizer = _fitted(length=3, truncation="post", drop_stop_words=False)
    assert tokenizer.encode("see you later call me later") == tokenizer.encode("see you later")


def test_encode_pre_padding_puts_pad_first() -> None:
    assert _fitted(length=4, padding="pre").encode("call")[:3] == [0, 0, 0]


def test_transform_shape_dtype_and_ids_below_n_ids() -> None:
    tokenizer = _fitted()
    ids = tokenizer.transform(["free call", "x " * 100, ""])
    assert ids.shape == (3, 30)
    assert ids.dtype == np.int64
    assert ids.min() >= 0
    assert ids.max() < tokenizer.n_ids_


def test_fit_vocab_size_bounds_n_ids() -> None:
    tokenizer = SmsTokenizer(vocab_size=4, min_count=1).fit(TRAIN)
    assert tokenizer.n_ids_ == 4
    assert tokenizer.transform(TRAIN).max() < 4


def test_fit_min_count_leaves_rare_words_out() -> None:
    tokenizer = SmsTokenizer(min_count=2).fit(TRAIN)
    assert "prize" not in tokenizer.vocabulary_
    assert "later" in tokenizer.vocabulary_


def test_tokenize_folds_links_numbers_and_markup() -> None:
    assert tokenize("Visit http://x.co/a?b=1 or call 09061701461 &amp; WIN<br />") == [
        "visit", URL_TOKEN, "or", "call", PHONE_TOKEN, "win",
    ]  # fmt: skip


def test_tokenize_spans_become_class_tokens() -> None:
    text = "WIN £1,000 or ?2,000! Txt WIN to 87121, 150p/msg, call 0800 195 6669 at 10:30, see kpop.net 2 day"
    assert tokenize(text) == [
        "win", MONEY_TOKEN, "or", MONEY_TOKEN, "!", "txt", "win", "to", CODE_TOKEN, MONEY_TOKEN, "msg",
        "call", PHONE_TOKEN, "at", NUM_TOKEN, "see", URL_TOKEN, "2", "day",
    ]  # fmt: skip


def test_tokenize_digits_inside_words_stay_words() -> None:
    assert tokenize("gr8 2day 4th") == ["gr8", "2day", "4th"]


def test_save_then_load_gives_identical_transform(tmp_path: Path) -> None:
    tokenizer = SmsTokenizer().fit(TRAIN * 3)
    tokenizer.save(tmp_path)
    loaded = SmsTokenizer.load(tmp_path)
    texts = ["free prize now", "unknown words here", "", "call " * 50]
    assert np.array_equal(loaded.transform(texts), tokenizer.transform(texts))
    assert loaded.get_params() == tokenizer.get_params()


def test_save_writes_documented_human_readable_json(tmp_path: Path) -> None:
    _fitted().save(tmp_path)
    document = json.loads((tmp_path / TOKENIZER_FILE).read_text(encoding="utf-8"))
    assert document["format_version"] == FORMAT_VERSION == 3
    assert document["params"]["drop_stop_words"] is True and "the" in document["stop_words"]
    assert document["special_ids"] == {"<pad>": 0, "<oov>": 1}
    assert document["vocabulary"][0] == "now"


def test_load_unknown_format_version_raises(tmp_path: Path) -> None:
    _fitted().save(tmp_path)
    path = tmp_path / TOKENIZER_FILE
    path.write_text(path.read_text().replace('"format_version": 3', '"format_version": 99'))
    with pytest.raises(ValueError, match="format version"):
        SmsTokenizer.load(tmp_path)


def test_load_format_version_1_file_is_refused_with_refit_hint(tmp_path: Path) -> None:
    # A file as the format-1 code wrote it: <num> for 5+ digit runs, no other class tokens.
    document = {
        "format": "spamops-sms-tokenizer", "format_version": 1,
        "params": {"vocab_size": 4000, "length": 30, "padding": "post", "truncation": "pre", "lowercase": True,
                   "min_count": 2},
        "special_ids": {"<pad>": 0, "<oov>": 1}, "vocabulary": ["<num>", "i", "you"],
    }  # fmt: skip
    (tmp_path / TOKENIZER_FILE).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match=r"format version 1; .*refit it: python scripts/fit_tokenizer.py"):
        SmsTokenizer.load(tmp_path)


def test_load_current_format_file_written_by_hand_is_read(tmp_path: Path) -> None:
    document = {
        "format": "spamops-sms-tokenizer", "format_version": 3,
        "params": {"vocab_size": 10, "length": 4, "padding": "post", "truncation": "pre", "lowercase": True,
                   "min_count": 1, "drop_stop_words": True},
        "special_ids": {"<pad>": 0, "<oov>": 1}, "stop_words": ["now", "the"], "vocabulary": [PHONE_TOKEN, "call"],
    }  # fmt: skip
    (tmp_path / TOKENIZER_FILE).write_text(json.dumps(document), encoding="utf-8")
    # 2 over: the file's own stop words go ("the", "now"), not scikit-learn's (which would take "call").
    assert SmsTokenizer.load(tmp_path).encode("the Call 09061701461 now ok ok") == [3, 2, 1, 1]


def test_load_format_3_file_that_drops_stop_words_without_listing_them_is_refused(tmp_path: Path) -> None:
    _fitted().save(tmp_path)
    path = tmp_path / TOKENIZER_FILE
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["stop_words"]
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="drops stop words but lists none"):
        SmsTokenizer.load(tmp_path)


def test_load_format_version_2_file_drops_no_stop_words(tmp_path: Path) -> None:
    # Format 2 predates dropping stop words: its file is read as it was written, cutting by truncation only.
    document = {
        "format": "spamops-sms-tokenizer", "format_version": 2,
        "params": {"vocab_size": 10, "length": 4, "padding": "post", "truncation": "pre", "lowercase": True,
                   "min_count": 1},
        "special_ids": {"<pad>": 0, "<oov>": 1}, "vocabulary": [PHONE_TOKEN, "call"],
    }  # fmt: skip
    (tmp_path / TOKENIZER_FILE).write_text(json.dumps(document), encoding="utf-8")
    tokenizer = SmsTokenizer.load(tmp_path)
    assert tokenizer.get_params()["drop_stop_words"] is False and tokenizer.get_params()["oov_prefix"] == 0
    assert tokenizer.encode("the Call 09061701461 now ok ok") == [2, 1, 1, 1]


def test_long_text_loses_its_first_stop_words_only_as_many_as_needed() -> None:
    tokenizer = _fitted(length=4, truncation="post")
    # 6 tokens, 2 over: the first two stop words ("see", "you") go, the third ("me") stays.
    assert tokenizer.encode("see you call me later now") == tokenizer.encode("call me later now")
    # Too few stop words: those go, then truncation cuts the rest.
    assert tokenizer.encode("see free prize entry cash later") == tokenizer.encode("free prize entry cash")


def test_short_text_keeps_its_stop_words() -> None:
    tokenizer = _fitted(length=4)
    assert tokenizer.encode("see you later") == [tokenizer.vocabulary_[word] for word in ("see", "you", "later")] + [0]


def test_without_drop_stop_words_a_long_text_is_only_truncated() -> None:
    tokenizer = _fitted(length=3, drop_stop_words=False)
    assert tokenizer.encode("free call me later") == tokenizer.encode("call me later")


def test_encode_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        SmsTokenizer().encode("hello")


def test_fit_invalid_padding_raises() -> None:
    with pytest.raises(ValueError, match="padding"):
        SmsTokenizer(padding="middle").fit(TRAIN)


def test_clone_keeps_params_unchanged() -> None:
    params = {"vocab_size": 123, "length": 7, "padding": "pre", "truncation": "post", "min_count": 3}
    assert clone(SmsTokenizer(**params)).get_params() == {
        **params, "lowercase": True, "drop_stop_words": True, "oov_prefix": 5}  # fmt: skip


def test_transform_gives_every_text_the_ids_it_gets_alone() -> None:
    # transform runs each regex once over the joined texts; a span must never reach across a boundary.
    tokenizer = SmsTokenizer(min_count=1).fit(["call 08001234567 now £5 www.win.com free", "ok 5p lar"])
    texts = ["", "£", "5 pounds", "$", "5", "5", "p", "call 0800", "1234567 now", "go to win.com", "x\x00y", "ok"]
    assert tokenizer.transform(texts).tolist() == [tokenizer.encode(text) for text in texts]
    assert tokenizer.transform([]).shape == (0, 30)


@pytest.mark.parametrize("drop_stop_words", [True, False])
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncation", ["pre", "post"])
def test_small_and_large_batches_give_the_same_ids(padding: str, truncation: str, drop_stop_words: bool) -> None:
    # Up to SMALL_BATCH texts take the plain-Python path, more the vectorised one: both must agree.
    tokenizer = SmsTokenizer(length=6, padding=padding, truncation=truncation, min_count=1,
                             drop_stop_words=drop_stop_words)  # fmt: skip
    tokenizer.fit(["free prize call now", "ok lar see you", "win cash"])
    texts = ["", "free", "ok lar", "free prize call now win cash txt", "see you " * 5, "x y z", "£5 now",
             "the free a prize of call the now win", "to you to you free to", "prizes freedom"] * 2
    assert len(texts) > SMALL_BATCH
    together = tokenizer.transform(texts)
    for size in range(1, SMALL_BATCH + 1):
        parts = np.vstack([tokenizer.transform(texts[i : i + size]) for i in range(0, len(texts), size)])
        assert parts.dtype == together.dtype and parts.tolist() == together.tolist(), size
