"""Request and response bodies (DESIGN §5: the tutorial's shapes, with extra fields)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.model_serving.settings import MAX_TEXT_LENGTH


class CacheOptions(BaseModel):
    echo_input: bool = Field(default=False, description="Return the (normalised) input in the response.")
    skip_cache: bool = Field(default=False, description="Do not read the prediction cache (it is still written).")


class TextInput(CacheOptions):
    text: str = Field(description=f"The message; non-blank, at most MAX_TEXT_LENGTH ({MAX_TEXT_LENGTH}) chars.")


class FeaturesInput(CacheOptions):
    # Any JSON values: the model validates them, so the errors name the version's rules.
    features: list[Any] = Field(description="v1: 9 finite numbers; v2/v3: 30 integer token ids.")


class SmsInput(CacheOptions):
    sms_id: str = Field(min_length=1, max_length=200)


class TextBatchInput(CacheOptions):
    texts: list[str] = Field(description="At most MAX_BATCH_SIZE texts.")


class FeaturesBatchInput(CacheOptions):
    features: list[list[Any]] = Field(description="One feature vector per row; at most MAX_BATCH_SIZE rows.")


class SmsBatchInput(CacheOptions):
    sms_ids: list[str] = Field(description="At most MAX_BATCH_SIZE ids.")


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
