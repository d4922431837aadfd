"""Input checks the schemas cannot express (they depend on settings or on the model version)."""

from collections.abc import Sequence
from typing import Any

from api.common.errors import InvalidFeatures, InvalidInput, PayloadTooLarge
from api.model_serving.models import Features, SpamModel


def check_text(text: str, *, max_length: int, field: str = "text") -> str:
    if not text.strip():
        raise InvalidInput(f"{field} must not be empty or whitespace-only")
    if len(text) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters ({len(text)})")
    return text  # lone surrogates never get here: api.common.unicode answers them with a 422


def check_texts(texts: list[str], *, max_size: int, max_length: int) -> list[str]:
    check_batch(texts, max_size=max_size, field="texts")
    return [check_text(text, max_length=max_length, field=f"texts[{i}]") for i, text in enumerate(texts)]


def check_batch(items: Sequence[Any], *, max_size: int, field: str) -> None:
    if not items:
        raise InvalidInput(f"{field} must not be empty")
    if len(items) > max_size:
        raise PayloadTooLarge(f"{field} holds {len(items)} items; the limit is {max_size}")


def validate_row(model: SpamModel, row: Sequence[Any], index: int) -> Features:
    """Validate one batch row; the error names the row (`row 3: ...`)."""
    try:
        return model.validate_features(row)
    except InvalidFeatures as exc:
        raise InvalidFeatures(f"row {index}: {exc.detail}") from None
