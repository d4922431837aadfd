"""The v2 tokenizer: text → a fixed-length vector of integer token ids (DESIGN §3, features v2).

Tokenization
    `training.features.clean_text` (HTML entities, tags, BOM), then `normalize_spans` replaces spans
    whose exact value never repeats on new messages by class tokens, in this order: links `<url>`,
    amounts of money (£5, $10, ?1,000 (a £ lost to encoding), 150p, 10 pounds) `<money>`, phone
    numbers (7+ digits, spaces and dashes allowed inside) `<phone>`, short codes (4-6 digit numbers)
    `<code>`, other numbers of 2+ digits `<num>`. Single digits stay words ("2" for "to", "4" for
    "for"). Then optional lowercasing, and tokens are the class tokens, words (letters and digits of
    any script, with an inner apostrophe such as "don't"), the signs £ $ € and "!".

Ids
    0 = PAD, 1 = OOV (a word not in the vocabulary; the 2019 tutorial dropped such words, which made
    "free prize" and "free <unknown> prize" look alike), words from 2 in order of decreasing training
    frequency (ties alphabetical, so fitting is deterministic). `vocab_size` bounds the total number of
    ids including PAD and OOV, so every id is < `n_ids_` <= `vocab_size`. Words seen fewer than
    `min_count` times in the training texts are left out. A word outside the vocabulary backs off to a
    known word (with `oov_prefix` = k > 0): among the vocabulary words that share its longest common
    prefix, if that prefix has at least k characters, the most frequent one ("subscribee" → "subscribe",
    "winnings" → "winning"); otherwise it is OOV. New messages spell words in ways training never saw.

Length
    Every text becomes exactly `length` ids. A longer text first loses stop words (with
    `drop_stop_words`; scikit-learn's English list, stored in the file), the earliest first and only as
    many as it is over `length`, so its content words fill the slots; then what is still too long is cut
    on the `truncation` side ("post" keeps the beginning). Shorter texts are filled with PAD on the
    `padding` side, and keep every token. Empty text gives all PAD.

File format (`tokenizer.json` in the directory given to `save`), UTF-8 JSON::

    {
      "format": "spamops-sms-tokenizer",
      "format_version": 3,
      "params": {"vocab_size": ..., "length": 30, "padding": "post", "truncation": "post",
                 "lowercase": true, "min_count": ..., "drop_stop_words": true, "oov_prefix": 5},
      "special_ids": {"<pad>": 0, "<oov>": 1},
      "stop_words": ["a", "about", ...],       # sorted; empty without drop_stop_words
      "vocabulary": ["<num>", "i", "you", ...]   # the word with id k is vocabulary[k - 2]
    }

Readers must reject a `format_version` they do not know. Version 2 (before stop words were dropped from
long texts and unknown words backed off by prefix) is read as it was written: its params and ids mean
what they meant, it drops no stop words and every unknown word is OOV. Version 1 (before class tokens;
it folded only links and 5+ digit runs) is refused with a message to refit: its ids mean other words,
so reading it with today's tokenization would silently change every feature vector.
"""

import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from contract.feature_store import V2_LENGTH
from training.features import clean_text
from training.models import SMALL_BATCH

TOKENIZER_FILE = "tokenizer.json"
FORMAT_NAME = "spamops-sms-tokenizer"
FORMAT_VERSION = 3
# Format 2 differs only in dropping no stop words and backing off no unknown word, so its files keep
# their meaning with both off.
READABLE_FORMAT_VERSIONS = (2, FORMAT_VERSION)
URL_TOKEN = "<url>"
MONEY_TOKEN = "<money>"
PHONE_TOKEN = "<phone>"
CODE_TOKEN = "<code>"
NUM_TOKEN = "<num>"
# Defaults chosen by repeated grouped CV on training folds only; evidence in docs/models.md.
DEFAULT_VOCAB_SIZE = 4000
DEFAULT_MIN_COUNT = 2
DEFAULT_PADDING = "post"
DEFAULT_TRUNCATION = "pre"
DEFAULT_OOV_PREFIX = 5
# A standard list rather than one drawn from the dev file, so that choosing it tuned nothing to that file.
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS)

# Each pattern is applied in turn, so later ones never see what earlier ones replaced. Beside each, a
# hint: a quick test that holds for every text the pattern can match (a link needs "http", "www." or
# a known domain ending; the others need a digit), so a pattern runs only where it may apply.
_DIGIT = re.compile(r"\d")
_LINK_HINT = re.compile(r"http|www\.|\.(?:com|net|org|info|biz|co\.uk|ly|be|tv)")
_LINK_HINT_ANY_CASE = re.compile(_LINK_HINT.pattern, re.IGNORECASE)


def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


def _may_hold_link(text: str) -> bool:
    # In lowercased ASCII a case-sensitive search finds what the IGNORECASE pattern needs, at a third
    # of the cost. Other scripts hold case folds of their own (KELVIN SIGN is a k): there the hint
    # ignores case as the pattern does.
    if text.isascii():
        return _LINK_HINT.search(text.lower()) is not None
    return _LINK_HINT_ANY_CASE.search(text) is not None


# Each pattern but the link's starts with one character class, holding every character a match can start
# with: Python's engine then skips all other positions in a C loop instead of trying the pattern at each.
# What a plain pattern checks before its first character is checked after it, by a lookbehind over two
# (`\d(?<!\d\d)` is `(?<!\d)\d`: the consumed character is the digit), and a lookbehind over one picks
# the alternative the consumed character begins (money: a sign, "?" or a digit; phone: "+" or a digit).
# Same matches as the plain forms, which tests/training/test_tokenizer_reference.py holds; 1.7-2.9x faster.
_SPANS: tuple[tuple[re.Pattern[str], str, Callable[[str], bool]], ...] = (
    (re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|info|biz|co\.uk|ly|be|tv)\b(?:/\S*)?",
                re.IGNORECASE), URL_TOKEN, _may_hold_link),
    (re.compile(r"[£$€?\d](?:(?<=[£$€])\s?\d[\d,]*(?:\.\d+)?|(?<=\?)(?<!\w\?)\d[\d,]*(?:\.\d+)?"
                r"|(?<=\d)(?<!\w\d)\d*(?:\.\d+)?\s?(?:p|ppm|pence|gbp|usd|pounds?|dollars?)\b)", re.IGNORECASE),
     MONEY_TOKEN, _has_digit),
    (re.compile(r"[+\d](?:(?<=\+)\d|(?<=\d))(?:[ -]?\d){6,}"), PHONE_TOKEN, _has_digit),
    (re.compile(r"\d(?<!\d\d)\d{3,5}(?!\d)"), CODE_TOKEN, _has_digit),
    (re.compile(r"\d(?<![^\W\d_]\d)\d+(?:[.,:/]\d+)*(?![^\W\d_])"), NUM_TOKEN, _has_digit),
)  # fmt: skip
CLASS_TOKENS = tuple(token for _, token, _ in _SPANS)
_TOKEN = re.compile(r"<(?:url|money|phone|code|num)>|[^\W_]+(?:'[^\W_]+)?|[£$€!]", re.IGNORECASE)
_SIDES = ("pre", "post")
# Texts are joined by this to run a regex once over many. A cleaned text holds no newline (clean_text
# collapses whitespace to single spaces), and no pattern here can consume two newlines in a row (`\s?`
# takes at most one, and a digit or a letter must follow), so every match lies inside one text, and a
# pattern sees the separator as it sees the edge of a string: a non-word, non-digit, space character.
_SEPARATOR = "\n\n"
# No token holds a newline, so in a findall over joined texts the separator can be a token of its own.
_TOKEN_OR_SEPARATOR = re.compile(f"{_SEPARATOR}|{_TOKEN.pattern}", re.IGNORECASE)
_SEPARATOR_ID = -1  # never a real id (those are >= 0)


def normalize_spans(text: str) -> str:
    """`text` (as clean_text returns it) with links, money, phone numbers, short codes and numbers
    replaced by class tokens."""
    return _normalize_cleaned([text])[0]


def _normalize_cleaned(texts: list[str]) -> list[str]:
    """`normalize_spans` of each cleaned text, each pattern run once over the texts its hint finds.

    Patterns with the same hint run one after the other over the same joined texts.
    """
    texts = list(texts)
    for hint, spans in itertools.groupby(_SPANS, key=lambda span: span[2]):
        chosen = [i for i, text in enumerate(texts) if hint(text)]
        if not chosen:
            continue
        joined = _SEPARATOR.join([texts[i] for i in chosen])
        for pattern, token, _ in spans:
            joined = pattern.sub(f" {token} ", joined)
        for i, text in zip(chosen, joined.split(_SEPARATOR), strict=True):
            texts[i] = text
    return texts


def tokenize(text: str, *, lowercase: bool = True) -> list[str]:
    """Split `text` into class tokens and word tokens (module docstring)."""
    return tokenize_many([text], lowercase=lowercase)[0]


def tokenize_many(texts: Iterable[str], *, lowercase: bool = True) -> list[list[str]]:
    """`tokenize` of every text; each regex runs once over all of them (see _SEPARATOR)."""
    texts = list(texts)
    if not texts:
        return []
    return [_TOKEN.findall(part) for part in _joined_normalized(texts, lowercase).split(_SEPARATOR)]


def _joined_normalized(texts: list[str], lowercase: bool) -> str:
    """The cleaned, span-normalized `texts` joined by _SEPARATOR, lowercased if asked."""
    joined = _SEPARATOR.join(_normalize_cleaned([clean_text(text) for text in texts]))
    return joined.lower() if lowercase else joined


class SmsTokenizer(BaseEstimator, TransformerMixin):
    """Fixed-length token-id encoder in scikit-learn style; learned state is `vocabulary_`."""

    PAD_ID = 0
    OOV_ID = 1

    def __init__(
        self,
        *,
        vocab_size: int = DEFAULT_VOCAB_SIZE,
        length: int = V2_LENGTH,
        padding: str = DEFAULT_PADDING,
        truncation: str = DEFAULT_TRUNCATION,
        lowercase: bool = True,
        min_count: int = DEFAULT_MIN_COUNT,
        drop_stop_words: bool = True,
        oov_prefix: int = DEFAULT_OOV_PREFIX,
    ) -> None:
        self.vocab_size = vocab_size
        self.length = length
        self.padding = padding
        self.truncation = truncation
        self.lowercase = lowercase
        self.min_count = min_count
        self.drop_stop_words = drop_stop_words
        self.oov_prefix = oov_prefix

    def _check_params(self) -> None:
        if self.padding not in _SIDES or self.truncation not in _SIDES:
            raise ValueError(f"padding and truncation must be one of {_SIDES}")
        if self.length < 1 or self.min_count < 1:
            raise ValueError("length and min_count must be at least 1")
        if self.oov_prefix < 0:
            raise ValueError("oov_prefix must be 0 (off) or a number of characters")
        if self.vocab_size < 2:
            raise ValueError("vocab_size counts PAD and OOV, so it must be at least 2")

    def fit(self, texts: Iterable[str], y: object = None) -> "SmsTokenizer":
        """Learn the vocabulary from `texts` (the training split only)."""
        self._check_params()
        counts = Counter(token for row in tokenize_many(texts, lowercase=self.lowercase) for token in row)
        kept = [(word, n) for word, n in counts.items() if n >= self.min_count]
        kept.sort(key=lambda item: (-item[1], item[0]))  # frequency first, ties alphabetical
        words = [word for word, _ in kept[: self.vocab_size - 2]]
        self._set_state(words, STOP_WORDS)
        return self

    def _set_state(self, words: list[str], stop_words: Iterable[str]) -> None:
        """The learned state, from fit or a file: ids of the ordered vocabulary, the stop words (none
        without `drop_stop_words`), and the id each word prefix backs off to."""
        self.vocabulary_: dict[str, int] = {word: index + 2 for index, word in enumerate(words)}
        self.stop_words_ = frozenset(stop_words) if self.drop_stop_words else frozenset()
        self.prefixes_: dict[str, int] = {}
        if self.oov_prefix:
            for word in reversed(words):  # least frequent first, so the most frequent word's id wins
                for end in range(self.oov_prefix, len(word) + 1):
                    self.prefixes_[word[:end]] = self.vocabulary_[word]

    @property
    def n_ids_(self) -> int:
        """Number of valid ids (max id + 1); ids run from 0 to n_ids_ - 1."""
        return len(self._fitted_vocabulary()) + 2

    def _fitted_vocabulary(self) -> dict[str, int]:
        if not hasattr(self, "vocabulary_"):
            raise NotFittedError("SmsTokenizer is not fitted; call fit() on the training texts first")
        return self.vocabulary_

    def encode(self, text: str) -> list[int]:
        """The `length` token ids of one text."""
        return self._encode_many([text])[0].tolist()

    def transform(self, texts: Iterable[str]) -> np.ndarray:
        """int64 array of shape (n, length)."""
        return self._encode_many(texts)

    def _encode_many(self, texts: Iterable[str]) -> np.ndarray:
        """int64 array of shape (n, length)."""
        texts = list(texts)
        vocabulary = self._fitted_vocabulary()  # first: an unfitted tokenizer has no stop words either
        if len(texts) <= SMALL_BATCH:
            rows = tokenize_many(texts, lowercase=self.lowercase)
            fixed = [self._fixed_length_row(self._ids(self._without_stop_words(row))) for row in rows]
            return np.asarray(fixed, dtype=np.int64).reshape(len(rows), self.length)
        # One findall over all the texts, the separators kept as tokens: their positions give each text's
        # token count, and no Python list per text is built.
        tokens = _TOKEN_OR_SEPARATOR.findall(_joined_normalized(texts, self.lowercase))
        with_separator = {**vocabulary, _SEPARATOR: _SEPARATOR_ID}
        ids = np.fromiter(map(with_separator.get, tokens, itertools.repeat(self.OOV_ID)), dtype=np.int64,
                          count=len(tokens))
        unknown = np.flatnonzero(ids == self.OOV_ID)
        unknown_words = [tokens[i] for i in unknown.tolist()]
        is_stop = self._stop_word_mask(ids, unknown, unknown_words) if self.stop_words_ else None
        if self.prefixes_:
            backoff = {word: self._backoff_id(word) for word in set(unknown_words)}  # unknown words repeat too
            ids[unknown] = list(map(backoff.__getitem__, unknown_words))
        separators = np.flatnonzero(ids == _SEPARATOR_ID)
        ends = np.append(separators, len(ids))
        lengths = np.diff(ends, prepend=-1) - 1  # the tokens between one separator (or the start) and the next
        words = ids != _SEPARATOR_ID
        if is_stop is not None and (lengths > self.length).any():
            ids, lengths = self._drop_stop_words(ids[words], is_stop[words], lengths)
            return self._fixed_length(ids, lengths)
        return self._fixed_length(ids[words], lengths)

    def _stop_word_mask(self, ids: np.ndarray, unknown: np.ndarray, unknown_words: list[str]) -> np.ndarray:
        """Which tokens behind `ids` are stop words: known words by id (in numpy), unknown ones by spelling."""
        by_id = np.zeros(self.n_ids_, dtype=bool)
        by_id[[self.vocabulary_[word] for word in self.stop_words_ if word in self.vocabulary_]] = True
        is_stop = by_id[np.maximum(ids, self.PAD_ID)]  # a separator (-1) reads PAD's False
        is_stop[unknown] = [word in self.stop_words_ for word in unknown_words]
        return is_stop

    def _without_stop_words(self, tokens: list[str]) -> list[str]:
        """`tokens` less their first stop words, as many as they are over `length` (plain Python)."""
        excess = len(tokens) - self.length
        if excess <= 0 or not self.stop_words_:
            return tokens
        kept = []
        for token in tokens:
            if excess and token in self.stop_words_:
                excess -= 1
            else:
                kept.append(token)
        return kept

    def _drop_stop_words(
        self, ids: np.ndarray, is_stop: np.ndarray, lengths: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """`_without_stop_words` of the concatenated ids of texts of `lengths` tokens, and the new lengths."""
        text_of = np.repeat(np.arange(len(lengths)), lengths)
        stops_before = np.concatenate(([0], np.cumsum(is_stop)))  # stop words before each token
        starts = np.cumsum(lengths) - lengths
        rank = stops_before[1:] - stops_before[starts][text_of]  # a stop word's place among its text's: 1, 2, ...
        excess = np.maximum(lengths - self.length, 0)
        dropped = is_stop & (rank <= excess[text_of])
        return ids[~dropped], lengths - np.bincount(text_of[dropped], minlength=len(lengths))

    def _ids(self, tokens: list[str]) -> list[int]:
        # map() runs the dictionary lookups in C, ~3x faster than a comprehension; most tokens are known.
        ids = list(map(self._fitted_vocabulary().get, tokens, itertools.repeat(self.OOV_ID)))
        if self.prefixes_:
            for i, found in enumerate(ids):
                if found == self.OOV_ID:
                    ids[i] = self._backoff_id(tokens[i])
        return ids

    def _backoff_id(self, token: str) -> int:
        """The id of the most frequent word sharing `token`'s longest prefix of >= oov_prefix characters, or OOV."""
        for end in range(len(token), self.oov_prefix - 1, -1):
            found = self.prefixes_.get(token[:end])
            if found is not None:
                return found
        return self.OOV_ID

    def _fixed_length_row(self, ids: list[int]) -> list[int]:
        """`_fixed_length` of one text's ids, in plain Python (see SMALL_BATCH)."""
        if len(ids) > self.length:
            ids = ids[: self.length] if self.truncation == "post" else ids[-self.length :]
        filler = [self.PAD_ID] * (self.length - len(ids))
        return ids + filler if self.padding == "post" else filler + ids

    def _fixed_length(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Rows of `length` ids cut and padded from `ids`, the concatenated ids of texts of `lengths` tokens."""
        kept = np.minimum(lengths, self.length)
        starts = np.cumsum(lengths) - lengths  # where each text's ids begin in `ids`
        if self.truncation == "pre":
            starts += lengths - kept
        pad = (self.length - kept)[:, None] if self.padding == "pre" else 0
        offset = np.arange(self.length)[None, :] - pad  # a slot's position among the kept ids
        filled = (offset >= 0) & (offset < kept[:, None])
        out = np.full((len(kept), self.length), self.PAD_ID, dtype=np.int64)
        out[filled] = ids[(starts[:, None] + offset)[filled]]
        return out

    def save(self, directory: Path) -> None:
        """Write `tokenizer.json` (format in the module docstring) into `directory`."""
        vocabulary = self._fitted_vocabulary()
        document = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "params": self.get_params(),
            "special_ids": {"<pad>": self.PAD_ID, "<oov>": self.OOV_ID},
            "stop_words": sorted(self.stop_words_),
            "vocabulary": sorted(vocabulary, key=vocabulary.__getitem__),
        }
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document, ensure_ascii=False, indent=1)
        (directory / TOKENIZER_FILE).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "SmsTokenizer":
        """Read a tokenizer written by `save`, refusing other formats or versions."""
        path = Path(directory) / TOKENIZER_FILE
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != FORMAT_NAME:
            raise ValueError(f"{path} is not a {FORMAT_NAME} file")
        found = document.get("format_version")
        if found not in READABLE_FORMAT_VERSIONS:
            raise ValueError(
                f"{path} has tokenizer format version {found}; this code reads format versions "
                f"{READABLE_FORMAT_VERSIONS} only (format 1's ids mean other words), so refit it: "
                "python scripts/fit_tokenizer.py"
            )
        tokenizer = cls(**{"drop_stop_words": False, "oov_prefix": 0, **document["params"]})
        if tokenizer.drop_stop_words and not isinstance(document.get("stop_words"), list):
            raise ValueError(f"{path} drops stop words but lists none under \"stop_words\"; refit it")
        tokenizer._set_state(document["vocabulary"], document.get("stop_words", ()))
        return tokenizer
