"""`make_model_router(model, serving)`: every route of one model version under /model/{version}.

Routes are async and stay off-CPU on the loop: LRU hits answer inline, anything that blocks
(persisted cache, Feast, predict_proba) runs in one thread-pool hop (see service.resolve), and
single-row predictions share that hop and the predict call with concurrent ones (batching.py).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.common.errors import NotFound
from api.common.ids import uuid_datetime
from api.model_serving import service
from api.model_serving.batching import PredictionBatcher
from api.model_serving.cache import LayeredPredictionCache
from api.model_serving.deps import CallerIdDep
from api.model_serving.feature_reader import FeatureReader
from api.model_serving.models import Features, Prediction, SpamModel
from api.model_serving.schemas import (
    BatchPredictionResult,
    CallLogResult,
    CallRecord,
    FeaturesBatchInput,
    FeaturesBatchResult,
    FeaturesInput,
    FeaturesResult,
    PredictionResult,
    SmsBatchInput,
    SmsBatchItem,
    SmsBatchPredictionResult,
    SmsInput,
    SmsPredictionResult,
    TextBatchInput,
    TextInput,
    Top,
)
from api.model_serving.service import CallRecorder
from api.model_serving.settings import ModelServingSettings
from contract.routes import (
    FEATURES_TO_PREDICTION,
    MODEL_PREFIX,
    SMS_TO_PREDICTION,
    TEXT_TO_FEATURES,
    TEXT_TO_PREDICTION,
)

RECENT_CALLS_HARD_MAX = 1000  # the query parameter's schema bound; settings may lower it


@dataclass(frozen=True, slots=True)
class Serving:
    """What every model's routes share, built once per process in the lifespan."""

    settings: ModelServingSettings
    cache: LayeredPredictionCache
    recorder: CallRecorder
    reader: FeatureReader
    batcher: PredictionBatcher


def _result(value: Prediction, from_cache: bool, echo: dict | None) -> PredictionResult:
    label = max(value, key=value.__getitem__)
    return PredictionResult(
        input=echo, prediction=value, top=Top(label=label, value=value[label]), from_cache=from_cache
    )


def make_model_router(model: SpamModel, serving: Serving) -> APIRouter:
    router = APIRouter(prefix=f"{MODEL_PREFIX}/{model.version}", tags=[f"model {model.version}"])
    settings, cache, reader = serving.settings, serving.cache, serving.reader

    def key(endpoint: str, input_json: str) -> service.CacheKey:
        return service.cache_key(cache, model, endpoint, input_json)

    def predict_rows(rows: list) -> list[Prediction]:
        return service.timed_predictions(model, rows)

    def record(caller: str, endpoint: str, input_json: str, outcomes: list[service.Outcome]) -> None:
        serving.recorder.record(outcomes, service.call_entry(caller, model, endpoint, input_json))

    async def predict_one(endpoint: str, input_json: str, skip: bool, row: Callable[[], Features]) -> service.Outcome:
        return await serving.batcher.resolve(model, key(endpoint, input_json), skip, row)

    @router.post(f"/{TEXT_TO_FEATURES}", response_model_exclude_none=True)
    async def text_to_features(body: TextInput, caller: CallerIdDep) -> FeaturesResult:
        text = service.check_text(body.text, max_length=settings.max_text_length)
        input_json = service.canonical_json({"text": text})
        outcome = await service.resolve(
            cache,
            key(TEXT_TO_FEATURES, input_json),
            body.skip_cache,
            lambda: {"features": model.text_to_features(text)},
        )
        record(caller, TEXT_TO_FEATURES, input_json, [outcome])
        echo = {"text": text} if body.echo_input else None
        return FeaturesResult(input=echo, features=outcome.value["features"], from_cache=outcome.from_cache)

    @router.post(f"/{FEATURES_TO_PREDICTION}", response_model_exclude_none=True)
    async def features_to_prediction(body: FeaturesInput, caller: CallerIdDep) -> PredictionResult:
        features = model.validate_features(body.features)
        input_json = service.canonical_json({"features": features})
        outcome = await predict_one(FEATURES_TO_PREDICTION, input_json, body.skip_cache, lambda: features)
        record(caller, FEATURES_TO_PREDICTION, input_json, [outcome])
        return _result(outcome.value, outcome.from_cache, {"features": features} if body.echo_input else None)

    @router.post(f"/{TEXT_TO_PREDICTION}", response_model_exclude_none=True)
    async def text_to_prediction(body: TextInput, caller: CallerIdDep) -> PredictionResult:
        text = service.check_text(body.text, max_length=settings.max_text_length)
        input_json = service.canonical_json({"text": text})
        outcome = await predict_one(
            TEXT_TO_PREDICTION, input_json, body.skip_cache, lambda: model.text_to_features(text)
        )
        record(caller, TEXT_TO_PREDICTION, input_json, [outcome])
        return _result(outcome.value, outcome.from_cache, {"text": text} if body.echo_input else None)

    @router.post(f"/{SMS_TO_PREDICTION}", response_model_exclude_none=True)
    async def sms_to_prediction(body: SmsInput, caller: CallerIdDep) -> SmsPredictionResult:
        # Features are read online at prediction time; the cache is keyed on them, not on the id,
        # so a push that changes an SMS's features is never answered from a stale entry.
        [outcome] = await service.predict_sms(cache, reader, model, [body.sms_id], body.skip_cache)
        if outcome is None:
            raise NotFound(f"sms_id {body.sms_id!r} has no {model.feature_view} features online")
        input_json = service.canonical_json({"sms_id": body.sms_id})
        record(caller, SMS_TO_PREDICTION, input_json, [outcome])
        result = _result(outcome.value, outcome.from_cache, {"sms_id": body.sms_id} if body.echo_input else None)
        return SmsPredictionResult(**dict(result), sms_id=body.sms_id)

    async def predict_batch(
        endpoint: str, field: str, items: list, skip: bool, rows: Callable[[int], Features]
    ) -> list[service.Outcome]:
        keys = [key(endpoint, service.canonical_json({field: item})) for item in items]
        return await service.resolve_many(cache, keys, skip, lambda misses: predict_rows([rows(i) for i in misses]))

    def batch_result(outcomes: list[service.Outcome], items: list, *, field: str, echo: bool) -> BatchPredictionResult:
        return BatchPredictionResult(
            predictions=[
                _result(o.value, o.from_cache, {field: item} if echo else None)
                for o, item in zip(outcomes, items, strict=True)
            ]
        )

    @router.post(f"/{TEXT_TO_FEATURES}_batch")
    async def text_to_features_batch(body: TextBatchInput, caller: CallerIdDep) -> FeaturesBatchResult:
        # Feature extraction is cheap and pure, so the batch form neither reads nor writes the cache.
        texts = check_texts(body.texts)
        record(caller, f"{TEXT_TO_FEATURES}_batch", service.canonical_json({"texts": texts}), [])
        return FeaturesBatchResult(features=[model.text_to_features(text) for text in texts])

    def check_texts(texts: list[str]) -> list[str]:
        service.check_batch(texts, max_size=settings.max_batch_size, field="texts")
        return [service.check_text(t, max_length=settings.max_text_length, field=f"texts[{i}]")
                for i, t in enumerate(texts)]

    @router.post(f"/{TEXT_TO_PREDICTION}_batch", response_model_exclude_none=True)
    async def text_to_prediction_batch(body: TextBatchInput, caller: CallerIdDep) -> BatchPredictionResult:
        texts = check_texts(body.texts)
        outcomes = await predict_batch(
            TEXT_TO_PREDICTION, "text", texts, body.skip_cache, lambda i: model.text_to_features(texts[i])
        )
        input_json = service.canonical_json({"texts": texts})
        record(caller, f"{TEXT_TO_PREDICTION}_batch", input_json, outcomes)
        return batch_result(outcomes, texts, field="text", echo=body.echo_input)

    @router.post(f"/{FEATURES_TO_PREDICTION}_batch", response_model_exclude_none=True)
    async def features_to_prediction_batch(body: FeaturesBatchInput, caller: CallerIdDep) -> BatchPredictionResult:
        service.check_batch(body.features, max_size=settings.max_batch_size, field="features")
        rows = [service.validate_row(model, row, i) for i, row in enumerate(body.features)]
        outcomes = await predict_batch(FEATURES_TO_PREDICTION, "features", rows, body.skip_cache, lambda i: rows[i])
        input_json = service.canonical_json({"features": rows})
        record(caller, f"{FEATURES_TO_PREDICTION}_batch", input_json, outcomes)
        return batch_result(outcomes, rows, field="features", echo=body.echo_input)

    @router.post(f"/{SMS_TO_PREDICTION}_batch", response_model_exclude_none=True)
    async def sms_to_prediction_batch(body: SmsBatchInput, caller: CallerIdDep) -> SmsBatchPredictionResult:
        service.check_batch(body.sms_ids, max_size=settings.max_batch_size, field="sms_ids")
        outcomes = await service.predict_sms(cache, reader, model, body.sms_ids, body.skip_cache)
        found = [o for o in outcomes if o is not None]
        input_json = service.canonical_json({"sms_ids": body.sms_ids})
        record(caller, f"{SMS_TO_PREDICTION}_batch", input_json, found)
        return SmsBatchPredictionResult(
            predictions=[_sms_item(sms_id, o) for sms_id, o in zip(body.sms_ids, outcomes, strict=True)]
        )

    @router.get("/recent_call_log")
    async def recent_call_log(
        caller: CallerIdDep,
        limit: Annotated[int, Query(ge=1, le=RECENT_CALLS_HARD_MAX)] = 20,
    ) -> CallLogResult:
        since = datetime.now(UTC) - timedelta(seconds=settings.call_log_window_seconds)
        entries = await service.run_blocking(
            serving.recorder.recent, caller, model.version, since=since, limit=min(limit, settings.call_log_max_limit)
        )
        calls = [
            CallRecord(
                call_id=str(e.call_id),
                called_at=uuid_datetime(e.call_id),
                endpoint=e.endpoint,
                input=json.loads(e.input_json),
            )
            for e in entries
        ]
        return CallLogResult(caller_id=caller, version=model.version, calls=calls)

    return router


def _sms_item(sms_id: str, outcome: service.Outcome | None) -> SmsBatchItem:
    if outcome is None:
        return SmsBatchItem(sms_id=sms_id, found=False)
    result = _result(outcome.value, outcome.from_cache, None)
    return SmsBatchItem(
        sms_id=sms_id, found=True, prediction=result.prediction, top=result.top, from_cache=outcome.from_cache
    )
