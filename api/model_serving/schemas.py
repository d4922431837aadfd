"""Request and response bodies (DESIGN §5: the tutorial's shapes, with extra fields).

The limits on inputs depend on settings (MAX_TEXT_LENGTH, MAX_BATCH_SIZE) and on the model version (the
feature vector), so the routes check them in code (api.model_serving.validation) and `VersionInputs`
documents the same rules in each version's OpenAPI: valid data per the schema is accepted, invalid rejected.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, StrictBool, StringConstraints, create_model

from api.model_serving.settings import MAX_TEXT_LENGTH

# At least one character that is not whitespace, as validation.check_text requires (Python's \s is str.isspace).
NON_BLANK_PATTERN = r"\S"


class CacheOptions(BaseModel):
    # Strict: the schema says boolean, so 0 or "yes" is a 422, not a silent False/True.
    echo_input: StrictBool = Field(default=False, description="Return the (normalised) input in the response.")
    skip_cache: StrictBool = Field(default=False, description="Do not read the prediction cache (it is still written).")


class TextInput(CacheOptions):
    text: str = Field(description=f"The message; non-blank, at most MAX_TEXT_LENGTH ({MAX_TEXT_LENGTH}) chars.")


class FeaturesInput(CacheOptions):
    # Any JSON values: the model validates them, so the errors name the version's rules.
    features: list[Any] = Field(description="v1: 9 finite numbers; v2/v3: 30 integer token ids.")


SmsId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SmsInput(CacheOptions):
    sms_id: SmsId


class TextBatchInput(CacheOptions):
    texts: list[str] = Field(description="At most MAX_BATCH_SIZE texts.")


class FeaturesBatchInput(CacheOptions):
    features: list[list[Any]] = Field(description="One feature vector per row; at most MAX_BATCH_SIZE rows.")


class SmsBatchInput(CacheOptions):
    sms_ids: list[SmsId] = Field(description="At most MAX_BATCH_SIZE ids.")


class Prediction(BaseModel):
    ham: float
    spam: float


class Top(BaseModel):
    label: str
    value: float


class FeaturesResult(BaseModel):
    input: dict[str, Any] | None = None
    features: list[float] | list[int]
    from_cache: bool


class FeaturesBatchResult(BaseModel):
    features: list[list[float] | list[int]] = Field(description="One feature vector per text, in input order.")


class PredictionResult(BaseModel):
    input: dict[str, Any] | None = None
    prediction: Prediction
    top: Top
    from_cache: bool


class Freshness(BaseModel):
    features_event_timestamp: datetime | None = Field(
        default=None, description="Event time of the online feature row used, ISO 8601 UTC."
    )
    features_age_seconds: float | None = Field(default=None, description="How old that row was when used.")


class SmsPredictionResult(PredictionResult, Freshness):
    sms_id: str


class BatchPredictionResult(BaseModel):
    predictions: list[PredictionResult]


class SmsBatchItem(Freshness):
    sms_id: str
    found: bool = Field(description="False when the id has no features online (then no prediction).")
    prediction: Prediction | None = None
    top: Top | None = None
    from_cache: bool = False


class SmsBatchPredictionResult(BaseModel):
    predictions: list[SmsBatchItem]


class CallRecord(BaseModel):
    call_id: str
    called_at: datetime
    endpoint: str
    input: Any


Input = TypeVar("Input", bound=BaseModel)


def _documented(base: type[Input], name: str, field: str, schema: dict[str, Any]) -> type[Input]:
    """`base` with `field`'s JSON Schema narrowed to the rules its route checks; validation is unchanged."""
    info = base.model_fields[field]
    narrowed = Field(description=info.description, json_schema_extra=schema)
    return create_model(name, __base__=base, **{field: (info.annotation, narrowed)})  # type: ignore[call-overload]


@dataclass(frozen=True)
class VersionInputs:
    text: type[TextInput]
    texts: type[TextBatchInput]
    features: type[FeaturesInput]
    features_batch: type[FeaturesBatchInput]
    sms_ids: type[SmsBatchInput]


@cache
def _text_inputs(max_text_length: int, max_batch_size: int) -> tuple[type[TextInput], type[TextBatchInput],
                                                                    type[SmsBatchInput]]:
    # One set per configuration, shared by every version, so each schema has one name in the OpenAPI.
    text = {"type": "string", "minLength": 1, "maxLength": max_text_length, "pattern": NON_BLANK_PATTERN}
    batch = {"minItems": 1, "maxItems": max_batch_size}
    return (_documented(TextInput, "TextInput", "text", text),
            _documented(TextBatchInput, "TextBatchInput", "texts", {"items": text, **batch}),
            _documented(SmsBatchInput, "SmsBatchInput", "sms_ids", batch))


def version_inputs(version: str, vector: dict[str, Any], *, max_text_length: int, max_batch_size: int) -> VersionInputs:
    """The request bodies of one version's routes; `vector` is the model's `features_schema()`."""
    text, texts, sms_ids = _text_inputs(max_text_length, max_batch_size)
    suffix = version.upper()
    rows = {"items": vector, "minItems": 1, "maxItems": max_batch_size}
    return VersionInputs(
        text=text, texts=texts, sms_ids=sms_ids,
        features=_documented(FeaturesInput, f"FeaturesInput{suffix}", "features", vector),
        features_batch=_documented(FeaturesBatchInput, f"FeaturesBatchInput{suffix}", "features", rows),
    )
