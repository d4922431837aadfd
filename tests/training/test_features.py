"""v1 features: names, values on crafted texts, edge cases and the command-line entry point."""

import json
import math
import re
import sys

import numpy as np
import pytest

from contract.feature_store import V1_FEATURE_DESCRIPTIONS, V1_FEATURE_NAMES
from training.features import (
    clean_text,
    main,
    v1_feature_dict,
    v1_feature_matrix,
    v1_features,
)


def test_feature_names_are_nine_snake_case_with_descriptions() -> None:
    assert len(V1_FEATURE_NAMES) == 9
    assert len(set(V1_FEATURE_NAMES)) == 9
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in V1_FEATURE_NAMES)
    assert set(V1_FEATURE_DESCRIPTIONS) == set(V1_FEATURE_NAMES)
    assert V1_FEATURE_NAMES[:2] == ("cap_r", "nal_r")


def test_v1_features_empty_text_gives_zeros() -> None:
    assert v1_features("") == [0.0] * 9


def test_v1_features_crafted_spam_counts_each_signal() -> None:
    features = v1_feature_dict("WIN a FREE prize! Call 09061701461 now, £1000 cash at www.example.com")
    assert features["url_n"] == 1.0
    assert features["phone_n"] == 1.0
    assert features["money_n"] == 2.0  # "£" and "cash"
    assert features["offer_kw_n"] == 3.0  # win, free, prize
    assert features["cta_kw_n"] == 1.0  # call


def test_v1_features_ratios_on_known_text() -> None:
    features = v1_feature_dict("AB cd 12")  # 6 non-space chars: 4 letters (2 capitals), 2 digits
    assert features["cap_r"] == pytest.approx(0.5)
    assert features["nal_r"] == pytest.approx(2 / 6)
    assert features["len_log"] == pytest.approx(math.log1p(8))


def test_v1_features_more_capitals_raise_cap_ratio() -> None:
    assert v1_feature_dict("Hello There")["cap_r"] < v1_feature_dict("HELLO THERE")["cap_r"]


def test_v1_features_self_promotion_is_counted_apart_from_sms_calls_to_action() -> None:
    quiet = v1_feature_dict("nice song, love it")
    promo = v1_feature_dict("Please check out my channel and subscribe!")
    shared = v1_feature_dict("Check out this video on YouTube:")
    assert promo["promo_kw_n"] >= 3 > quiet["promo_kw_n"]  # check out, my channel, channel, subscribe
    assert shared["promo_kw_n"] == 3.0  # check out, video, youtube
    assert promo["cta_kw_n"] == 1.0  # please: the SMS family does not count promotion
    assert v1_feature_dict("call me when you get home")["promo_kw_n"] == 0.0


def test_v1_features_html_entities_and_tags_match_plain_text() -> None:
    plain = v1_features("Let's go & see <3")
    escaped = v1_features("Let&#39;s go &amp; see &lt;3<br />\ufeff")
    assert escaped == plain


def test_v1_features_link_inside_anchor_tag_is_counted() -> None:
    assert v1_feature_dict('see <a href="https://youtu.be/xyz">this</a>')["url_n"] == 1.0


def test_clean_text_collapses_whitespace_and_strips_markup() -> None:
    assert clean_text("  a&nbsp;b <br/>c\n\td\ufeff ") == "a b c d"


def test_clean_text_leaves_printable_single_spaced_texts_as_they_are() -> None:
    # clean_text skips the split and join for printable texts: that needs " " to be the only printable
    # whitespace character.
    printable_whitespace = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c.isprintable()]
    assert printable_whitespace == [" "]
    for text in ["a b", "a  b", " a", "a ", "a\u00a0b", "a\u3000b", "a\u2028b", "a\x85b", "é ü"]:
        assert clean_text(text) == " ".join(text.split())


def test_feature_matrix_returns_float_matrix() -> None:
    matrix = v1_feature_matrix(["hello", "", "FREE"])
    assert matrix.dtype == np.float64
    assert matrix.shape == (3, 9)
    assert np.array_equal(matrix[0], v1_features("hello"))


def test_feature_matrix_of_no_texts_is_empty() -> None:
    assert v1_feature_matrix([]).shape == (0, 9)


def test_main_prints_named_features_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["FREE", "prize"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == list(V1_FEATURE_NAMES)
    assert printed["offer_kw_n"] == 2.0
