"""Behavioural checks of the three versions trained on the dev CSV: minimum functionality,
direction and invariance (Ribeiro et al., "Beyond Accuracy: Behavioral Testing of NLP Models")."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.versions import VERSIONS as DECLARED
from training.versions import ModelVersion

DEV_CSV = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sms_spam_dev.csv"
VERSIONS = tuple(DECLARED)

SPAM = [
    "URGENT! You have won a £1000 cash prize. Call 09061701461 now to claim. T&C apply",
    "FREE entry to win a new mobile! Txt WIN to 87121 to receive your prize",
    "Please subscribe to my channel and check out my new video http://youtu.be/abc123",
]
HAM = [
    "Ok see you at home later, I'll bring the food",
    "Sorry I can't talk right now, call you tonight",
    "This song always makes me cry, such a beautiful voice",
]

Scorer = Callable[[list[str]], np.ndarray]


@pytest.fixture(scope="module")
def scorers() -> dict[str, Scorer]:
    """Spam probability functions per version, trained once on the whole dev file."""
    raw = pd.read_csv(DEV_CSV)
    texts, labels = raw["text"].tolist(), (raw["label"] == "spam").to_numpy(dtype=np.int64)
    return {name: _scorer(declared, texts, labels) for name, declared in DECLARED.items()}


def _scorer(declared: ModelVersion, texts: list[str], labels: np.ndarray) -> Scorer:
    encoder = declared.feature_set.fit(texts)
    model = declared.make_estimator(encoder, 42).fit(encoder.texts_to_matrix(texts), labels)
    return lambda batch: model.predict_proba(encoder.texts_to_matrix(batch))[:, 1]


@pytest.mark.parametrize("version", VERSIONS)
def test_obvious_spam_scores_above_half(scorers: dict[str, Scorer], version: str) -> None:
    assert (scorers[version](SPAM) > 0.5).all()


@pytest.mark.parametrize("version", VERSIONS)
def test_obvious_ham_scores_below_half(scorers: dict[str, Scorer], version: str) -> None:
    assert (scorers[version](HAM) < 0.5).all()


@pytest.mark.parametrize("version", VERSIONS)
def test_adding_prize_offer_raises_spam_probability(scorers: dict[str, Scorer], version: str) -> None:
    offer = " Call 09061701461 to claim your FREE £500 prize now!"
    before, after = scorers[version]([HAM[0], HAM[0] + offer])
    assert after > before


@pytest.mark.parametrize("version", VERSIONS)
def test_html_escaping_does_not_change_prediction(scorers: dict[str, Scorer], version: str) -> None:
    plain, escaped = scorers[version](["I'll be there & <3 you", "I&#39;ll be there &amp; &lt;3 you<br />"])
    assert escaped == pytest.approx(plain, abs=1e-12)


@pytest.mark.parametrize("version", VERSIONS)
def test_changing_a_name_barely_changes_prediction(scorers: dict[str, Scorer], version: str) -> None:
    john, mary = scorers[version](["Tell John I said happy birthday", "Tell Mary I said happy birthday"])
    assert abs(john - mary) < 0.1


@pytest.mark.parametrize("version", VERSIONS)
def test_changing_phone_number_barely_changes_prediction(scorers: dict[str, Scorer], version: str) -> None:
    template = "You have won a prize! Call {} now to claim"
    first, second = scorers[version]([template.format("09061701461"), template.format("07781482378")])
    assert abs(first - second) < 0.02


@pytest.mark.parametrize("version", VERSIONS)
def test_changing_amount_barely_changes_prediction(scorers: dict[str, Scorer], version: str) -> None:
    template = "Your account is {} in credit, reply STOP to end"
    first, second = scorers[version]([template.format("£50"), template.format("£75")])
    assert abs(first - second) < 0.02


@pytest.mark.parametrize("version", ("v2", "v3"))
def test_number_format_does_not_change_token_model_prediction(scorers: dict[str, Scorer], version: str) -> None:
    texts = ["Win £5 now, call 0800 195 6669 or txt 87121", "Win $1,500 now, call 09061701461 or txt 69669"]
    first, second = scorers[version](texts)
    assert first == pytest.approx(second, abs=1e-12)


@pytest.mark.parametrize("version", ("v2", "v3"))
@pytest.mark.parametrize("word", ["FREE", "prize", "claim", "urgent", "txt"])
def test_adding_a_spam_word_raises_spam_probability(scorers: dict[str, Scorer], version: str, word: str) -> None:
    base = "I will see you at the station tomorrow"
    before, after = scorers[version]([base, f"{base} {word}"])
    assert after > before
