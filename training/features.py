"""Text → feature logic for every model version: the one place training, scripts and serving share.

`clean_text` undoes the markup found in the data (HTML entities, `<br />` and other tags, the
byte-order mark YouTube comments end with); both the v1 features and the v2 tokenizer start from it.

v1 features (DESIGN §3): 9 named floats in the spirit of the 2019 tutorial (`cap_r`, `nal_r` and
spam-word indicators), improved with counts of URLs, phone numbers, currency and three keyword
families, one per way spam asks for something: a prize offer, an SMS call to action (call, txt,
reply) and self-promotion, the comment spam of video and social sites (check out, subscribe, my
channel, follow, share). Self-promotion is its own family because its words are spam's almost only
(a comment that says "check out" or "subscribe" sells something), while SMS calls to action are common
in ham too ("call me", "text me"): mixed into one count, a short promotion looked like a ham request.

Run `python -m training.features "some text"` to print the 9 named features as JSON.
"""

import html
import itertools
import json
import math
import re
import string
import sys
from collections.abc import Iterable, Sequence

import numpy as np

from contract.feature_store import V1_FEATURE_NAMES

_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,300}>")  # a real tag, not "<3" or "<#>"
_WORD = re.compile(r"[a-z0-9]+")
_PHONE = re.compile(r"\d{5,}")
_ASCII_LETTERS = string.ascii_letters.encode()
_ASCII_UPPER = string.ascii_uppercase.encode()

# Keyword families are matched on lowercased words with set and prefix look-ups: one alternation
# regex with IGNORECASE and word boundaries per family cost ~25 µs per text, these cost ~2 µs.
_URL_MARKERS = ("http", "www.", ".com", ".net", ".org", ".ly/", "youtu.be", ".co.uk", ".tv/", ".info")
_CURRENCY_SIGNS = "£$€"
_MONEY_WORDS = frozenset({"cash", "pound", "pounds", "price", "money", "dollar", "dollars", "rs", "usd"})
_OFFER_WORDS = frozenset({
    "free", "win", "wins", "won", "prize", "prizes", "urgent", "bonus", "selected", "entry", "tone", "tones",
})  # fmt: skip
_OFFER_PREFIXES = (
    "freemsg", "winner", "winning", "claim", "award", "guarantee", "congrat", "reward", "voucher", "offer",
    "ringtone",
)  # fmt: skip
_CTA_WORDS = frozenset({
    "call", "txt", "text", "reply", "send", "stop", "mobile", "landline", "ppm", "please", "plz", "pls",
})  # fmt: skip
# Asking readers to look at, subscribe to or share one's own content, on any video or social site.
_PROMO_WORDS = frozenset({
    "channel", "channels", "youtube", "video", "videos", "follow", "share", "visit", "click", "facebook",
    "twitter", "instagram", "website", "site", "blog",
})  # fmt: skip
_PROMO_PREFIXES = ("subscrib",)
_PROMO_PAIRS = frozenset({
    ("check", "out"), ("check", "my"), ("check", "it"),
    ("my", "video"), ("my", "song"), ("my", "music"), ("my", "page"), ("my", "channel"), ("my", "site"),
    ("my", "blog"),
})  # fmt: skip


def _unescape(text: str) -> str:
    # Most texts hold no entity; skipping html.unescape for them keeps v1_features well under 50 µs.
    return html.unescape(text) if "&" in text else text


def clean_text(text: str) -> str:
    """Unescape HTML entities, drop tags and the BOM, collapse whitespace (the data mixes raw and HTML)."""
    unescaped = _unescape(text or "").replace("\ufeff", " ")
    if "<" in unescaped:
        unescaped = _TAG.sub(" ", unescaped)
    return _collapse_whitespace(unescaped)


def _collapse_whitespace(text: str) -> str:
    # Every whitespace character but " " is unprintable, so a printable text with no double, leading or
    # trailing space is already collapsed: most texts, and the test costs a third of the split and join.
    if text.isprintable() and "  " not in text and not text.startswith(" ") and not text.endswith(" "):
        return text
    return " ".join(text.split())  # str.split() collapses whitespace faster than a regex


def _ratio(part: int, whole: int) -> float:
    # Empty or letter-free texts give 0 rather than a division by zero.
    return part / whole if whole else 0.0


def _count_letters(compact: str) -> tuple[int, int]:
    """(letters, capitals) in `compact`."""
    if compact.isascii():
        # bytes.translate deletes a class of characters in C: ~20x faster than a Python loop.
        data = compact.encode()
        size = len(data)
        return size - len(data.translate(None, _ASCII_LETTERS)), size - len(data.translate(None, _ASCII_UPPER))
    return sum(map(str.isalpha, compact)), sum(map(str.isupper, compact))


def _count_urls(raw: str) -> int:
    # Counted on the unstripped text, because YouTube links often sit inside <a href=...> tags.
    lowered = raw.lower()
    if not any(marker in lowered for marker in _URL_MARKERS):
        return 0  # most texts: one scan per marker instead of one per token and marker
    return sum(any(marker in token for marker in _URL_MARKERS) for token in lowered.split())


def _count_money(lowered: str, words: list[str]) -> int:
    signs = sum(lowered.count(sign) for sign in _CURRENCY_SIGNS)
    # "150p" / "50p" are per-message prices in premium-rate SMS.
    priced = sum(w in _MONEY_WORDS or (w[-1] == "p" and w[:-1].isdigit()) for w in words)
    return signs + priced


def _count_keywords(words: list[str], exact: frozenset[str], prefixes: tuple[str, ...]) -> int:
    return sum(w in exact or w.startswith(prefixes) for w in words)


def v1_features(text: str) -> list[float]:
    """The 9 v1 features of `text`, in `V1_FEATURE_NAMES` order. Pure and deterministic."""
    cleaned = clean_text(text)
    compact = cleaned.replace(" ", "")
    lowered = cleaned.lower()
    words = _WORD.findall(lowered)
    letters, capitals = _count_letters(compact)
    promo_pairs = sum(pair in _PROMO_PAIRS for pair in itertools.pairwise(words))
    return [
        _ratio(capitals, letters),
        _ratio(len(compact) - letters, len(compact)),
        math.log1p(len(cleaned)),
        float(_count_urls(_unescape(text or ""))),
        float(len(_PHONE.findall(cleaned))),
        float(_count_money(lowered, words)),
        float(_count_keywords(words, _OFFER_WORDS, _OFFER_PREFIXES)),
        float(sum(w in _CTA_WORDS for w in words)),
        float(_count_keywords(words, _PROMO_WORDS, _PROMO_PREFIXES) + promo_pairs),
    ]


def v1_feature_dict(text: str) -> dict[str, float]:
    """The v1 features of `text` keyed by name, e.g. for JSON output."""
    return dict(zip(V1_FEATURE_NAMES, v1_features(text), strict=True))


def v1_feature_matrix(texts: Iterable[str]) -> np.ndarray:
    """Stack v1 features of many texts into a float64 array of shape (n, 9)."""
    rows = [v1_features(text) for text in texts]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(V1_FEATURE_NAMES))


def main(argv: Sequence[str] | None = None) -> int:
    """Print the v1 features of the text given on the command line as JSON."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print('usage: python -m training.features "some text"')
        return 0 if args else 2
    print(json.dumps(v1_feature_dict(" ".join(args)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
