"""The tokenizer's fast paths against a plain reference: the same token ids for every text.

The reference does each step the obvious way, one text at a time: every clean_text step always, each span
pattern in its plain form (the lookbehind first) over the text, no hints, no joined texts, one findall,
one dictionary lookup per token and slicing for the fixed length.
"""

import bisect
import html
import re
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as STOP_WORDS

from training.models import SMALL_BATCH
from training.tokenizer import SmsTokenizer, tokenize

_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,300}>")
_SPANS = (
    (r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|info|biz|co\.uk|ly|be|tv)\b(?:/\S*)?",
     re.IGNORECASE, "<url>"),
    (r"[£$€]\s?\d[\d,]*(?:\.\d+)?|(?<!\w)\?\d[\d,]*(?:\.\d+)?|\b\d+(?:\.\d+)?\s?(?:p|ppm|pence|gbp|usd|pounds?|dollars?)\b",
     re.IGNORECASE, "<money>"),
    (r"\+?\d(?:[ -]?\d){6,}", 0, "<phone>"),
    (r"(?<!\d)\d{4,6}(?!\d)", 0, "<code>"),
    (r"(?<![^\W\d_])\d{2,}(?:[.,:/]\d+)*(?![^\W\d_])", 0, "<num>"),
)  # fmt: skip
_TOKEN = r"<(?:url|money|phone|code|num)>|[^\W_]+(?:'[^\W_]+)?|[£$€!]"

EDGE_CASES = [
    "", "   ", "\ufeff", "!!!", "<br />", "&amp;&lt;3&gt;", "a &amp; b <b>bold</b> <3 <#>",
    "Ünïcödé ÇAFÉ naïve straße İstanbul ΑΒΓ кириллица 日本語 عربى", "KELVIN SIGN: \u212a and long s: \u017f",
    "2nite 4u b4 abc123def 12ab ab12 a1b2c3 2 4 9", "1 12 123 1234 12345 123456 1234567 12345678",
    "£5 £ 5 $10 $10.99 €1,000 €1.000,50 5£ 10$", "?1,000 a?1,000 ??1 ?1.5 (?12)",
    "150p 50P 10 pounds 1 pound 3gbp 2usd",
    "10 dollars 5 pence 2ppm 1.50p 10pence", "call 07123 456 789 or +44 7700-900-123 or 0800-123-4567",
    "+123456 +1234567 ++1234567 + 1234567 1 2 3 4 5 6 7 12-34-56-7 123--4567",
    "http://x.co/abc https://EXAMPLE.com/a?b=1 www.test.org WWW.Shop.Co.UK/deal foo.biz bar.tv baz.ly/x",
    "maybe.be there.tv2 e-mail.info.net. sub-domain.example.com/path/to?q=1.",
    "don't won't rock'n'roll 'quoted' it''s o'", "under_score __x__ a_b", "12:30 1/2 3.14.15 1,000,000 07.30am",
    "٣٤٥٦٧ ١٢ ０１２３４ ５ digits", "emoji 😀😀 ♥ ☺ 1😀2", "tab\tnew\nline\r\nend\n\nend", "x" * 400,
    "FREE entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005. Text FA to 87121 to receive entry",
]  # fmt: skip


def reference_clean(text: str) -> str:
    text = _TAG.sub(" ", html.unescape(text).replace("\ufeff", " "))
    return " ".join(text.split())


def reference_tokens(text: str, lowercase: bool = True) -> list[str]:
    text = reference_clean(text)
    for pattern, flags, token in _SPANS:
        text = re.sub(pattern, f" {token} ", text, flags=flags)
    if lowercase:
        text = text.lower()
    return re.findall(_TOKEN, text, flags=re.IGNORECASE)


def reference_ids(tokenizer: SmsTokenizer, text: str) -> list[int]:
    tokens = reference_tokens(text, tokenizer.lowercase)
    length = tokenizer.length
    if tokenizer.drop_stop_words:
        stop_positions = [i for i, token in enumerate(tokens) if token in STOP_WORDS]
        dropped = set(stop_positions[: max(len(tokens) - length, 0)])
        tokens = [token for i, token in enumerate(tokens) if i not in dropped]
    ids = [tokenizer.vocabulary_.get(token) or reference_backoff(tokenizer, token) for token in tokens]
    ids = ids[:length] if tokenizer.truncation == "post" else ids[max(len(ids) - length, 0):]
    filler = [SmsTokenizer.PAD_ID] * (length - len(ids))
    return ids + filler if tokenizer.padding == "post" else filler + ids


def reference_backoff(tokenizer: SmsTokenizer, token: str) -> int:
    """By bisection in the sorted vocabulary: the words sharing the longest prefix with `token` lie next to
    where it would sort; of all words with that prefix, the most frequent (lowest id)."""
    if not tokenizer.oov_prefix:
        return SmsTokenizer.OOV_ID
    words, ids = _sorted_vocabulary(tokenizer)
    at = bisect.bisect_left(words, token)
    shared = max((_shared_length(token, word) for word in words[max(at - 1, 0) : at + 1]), default=0)
    if shared < tokenizer.oov_prefix:
        return SmsTokenizer.OOV_ID
    prefix = token[:shared]
    first, last = bisect.bisect_left(words, prefix), bisect.bisect_left(words, prefix + "\U0010ffff")
    return min(ids[first:last])


@cache
def _sorted_vocabulary(tokenizer: SmsTokenizer) -> tuple[list[str], list[int]]:
    pairs = sorted(tokenizer.vocabulary_.items())
    return [word for word, _ in pairs], [index for _, index in pairs]


def _shared_length(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


@pytest.fixture(scope="module")
def dev_texts(raw_dev: pd.DataFrame) -> list[str]:
    return raw_dev["text"].tolist()


@pytest.fixture(
    scope="module",
    params=[("pre", "post", True, True, 5), ("post", "pre", True, True, 5), ("post", "post", False, True, 3),
            ("post", "pre", True, False, 0)],
    ids=["pad-pre-cut-post", "pad-post-cut-pre", "cased-prefix-3", "format-2-tokens"],
)  # fmt: skip
def tokenizer(request: pytest.FixtureRequest, dev_texts: list[str]) -> SmsTokenizer:
    padding, truncation, lowercase, drop_stop_words, oov_prefix = request.param
    return SmsTokenizer(padding=padding, truncation=truncation, lowercase=lowercase, drop_stop_words=drop_stop_words,
                        oov_prefix=oov_prefix).fit(dev_texts)  # fmt: skip


def test_tokens_equal_the_reference_on_every_dev_text_and_edge_case(dev_texts: list[str]) -> None:
    for text in dev_texts + EDGE_CASES:
        assert tokenize(text) == reference_tokens(text), text


def test_ids_of_the_whole_dev_file_in_one_batch_equal_the_reference(
    tokenizer: SmsTokenizer, dev_texts: list[str]
) -> None:
    texts = dev_texts + EDGE_CASES
    expected = np.asarray([reference_ids(tokenizer, text) for text in texts], dtype=np.int64)
    found = tokenizer.transform(texts)
    mismatched = [texts[i] for i in np.flatnonzero((found != expected).any(axis=1))]
    assert not mismatched, mismatched[:5]


def test_ids_of_edge_cases_one_by_one_and_in_small_batches_equal_the_reference(tokenizer: SmsTokenizer) -> None:
    for text in EDGE_CASES:
        assert tokenizer.encode(text) == reference_ids(tokenizer, text), text
    for start in range(0, len(EDGE_CASES), SMALL_BATCH):
        batch = EDGE_CASES[start : start + SMALL_BATCH]
        assert tokenizer.transform(batch).tolist() == [reference_ids(tokenizer, text) for text in batch]


def test_a_batch_of_empty_texts_is_all_pad(tokenizer: SmsTokenizer) -> None:
    empty = ["", "<br />", "&nbsp;", " \ufeff "] * SMALL_BATCH
    assert not tokenizer.transform(empty).any()
