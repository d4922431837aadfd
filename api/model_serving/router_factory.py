"""`make_model_router(model)`: every route of one model version under /model/{version}.

Routes are async and stay off-CPU on the loop: LRU hits answer inline, anything that blocks
(persisted cache, Feast, predict_proba) runs in one thread-pool hop (see service.resolve).
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query

from api.common.errors import NotFound
from api.common.ids import uuid_datetime
from api.model_serving import service
from api.model_serving.deps import (
    CallerIdDep,
    CallRecorderDep,
    FeatureReaderDep,
    PredictionCacheDep,
    SettingsDep,
)
from api.model_serving.models import Prediction, SpamModel
from api.model_serving.schemas import (
    BatchPredictionResult,
    CallLogResult,
    CallRecord,
    FeaturesBatchInput,
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
from api.model_serving.service import (
    FEATURES_TO_PREDICTION,
    SMS_TO_PREDICTION,
    TEXT_TO_FEATURES,
    TEXT_TO_PREDICTION,
    CallRecorder,
)

RECENT_CALLS_HARD_MAX = 1000  # the query parameter's schema bound; settings may lower it


def _result(value: Prediction, from_cache: bool, echo: dict | None) -> PredictionResult:
    label = max(value, key=value.__getitem__)
    return PredictionResult(
        input=echo, prediction=value, top=Top(label=label, value=value[label]), from_cache=from_cache
    )


def make_model_router(model: SpamModel) -> APIRouter:
    router = APIRouter(prefix=f"/model/{model.version}", tags=[f"model {model.version}"])

    def key(cache: service.LayeredPredictionCache, endpoint: str, input_json: str) -> service.CacheKey:
        return service.cache_key(cache, model, endpoint, input_json)

    def predict_rows(rows: list) -> list[Prediction]:
        return service.timed_predictions(model, rows)

    def record(
        recorder: CallRecorder, background: BackgroundTasks, caller: str, endpoint: str, input_json: str,
        outcomes: list[service.Outcome],
    ) -> None:
        """The call log and cache writes, after the response."""
        entry = service.call_entry(caller, model, endpoint, input_json)
        background.add_task(recorder.after_response, outcomes, entry)

    async def predict_text(text: str, skip: bool, cache: service.LayeredPredictionCache) -> tuple[service.Outcome, str]:
        input_json = service.canonical_json({"text": text})
        outcome = await service.resolve(
            cache,
            key(cache, TEXT_TO_PREDICTION, input_json),
            skip,
            lambda: predict_rows([model.text_to_features(text)])[0],
        )
        return outcome, input_json

    @router.post(f"/{TEXT_TO_FEATURES}", response_model_exclude_none=True)
    async def text_to_features(
        body: TextInput,
        cache: PredictionCacheDep,
        recorder: CallRecorderDep,
        caller: CallerIdDep,
        settings: SettingsDep,
        background: BackgroundTasks,
    ) -> FeaturesResult:
        text = service.check_text(body.text, max_length=settings.max_text_length)
        input_json = service.canonical_json({"text": text})
        outcome = await service.resolve(
            cache,
            key(cache, TEXT_TO_FEATURES, input_json),
            body.skip_cache,
            lambda: {"features": model.text_to_features(text)},
        )
        record(recorder, background, caller, TEXT_TO_FEATURES, input_json, [outcome])
        echo = {"text": text} if body.echo_input else None
        return FeaturesResult(input=echo, features=outcome.value["features"], from_cache=outcome.from_cache)

    @router.post(f"/{FEATURES_TO_PREDICTION}", response_model_exclude_none=True)
    async def features_to_prediction(
        body: FeaturesInput,
        cache: PredictionCacheDep,
        recorder: CallRecorderDep,
        caller: CallerIdDep,
        background: BackgroundTasks,
    ) -> PredictionResult:
        features = model.validate_features(body.features)
        input_json = service.canonical_json({"features": features})
        outcome = await service.resolve(
            cache,
            key(cache, FEATURES_TO_PREDICTION, input_json),
            body.skip_cache,
            lambda: predict_rows([features])[0],
        )
        record(recorder, background, caller, FEATURES_TO_PREDICTION, input_json, [outcome])
        return _result(outcome.value, outcome.from_cache, {"features": features} if body.echo_input else None)

    @router.post(f"/{TEXT_TO_PREDICTION}", response_model_exclude_none=True)
    async def text_to_prediction(
        body: TextInput,
        cache: PredictionCacheDep,
        recorder: CallRecorderDep,
        caller: CallerIdDep,
        settings: SettingsDep,
        background: BackgroundTasks,
    ) -> PredictionResult:
        text = service.check_text(body.text, max_length=settings.max_text_length)
        outcome, input_json = await predict_text(text, body.skip_cache, cache)
        record(recorder, background, caller, TEXT_TO_PREDICTION, input_json, [outcome])
        return _result(outcome.value, outcome.from_cache, {"text": text} if body.echo_input else None)

    @router.post(f"/{SMS_TO_PREDICTION}", response_model_exclude_none=True)
    async def sms_to_prediction(
        body: SmsInput,
        cache: PredictionCacheDep,
        recorder: CallRecorderDep,
        caller: CallerIdDep,
        reader: FeatureReaderDep,
        background: BackgroundTasks,
    ) -> SmsPredictionResult:
        # Features are read online at prediction time; the cache is keyed on them, not on the id,
        # so a push that changes an SMS's features is never answered from a stale entry.
        [outcome] = await service.predict_sms(cache, reader, model, [body.sms_id], body.skip_cache)
        if outcome is None:
            raise NotFound(f"sms_id {body.sms_id!r} has no {model.feature_view} features online")
        input_json = service.canonical_json({"sms_id": body.sms_id})
        record(recorder, background, caller, SMS_TO_PREDICTION, input_json, [outcome])
        result = _result(outcome.value, outcome.from_cache, {"sms_id": body.sms_id} if body.echo_input else None)
        return SmsPredictionResult(**dict(result), sms_id=body.sms_id)

    async def predict_batch(
        cache: service.LayeredPredictionCache, endpoint: str, field: str, items: list, skip: bool, rows: Callable
    ) -> list[service.Outcome]:
        keys = [key(cache, endpoint, service.canonical_json({field: item})) for item in items]
        return await service.resolve_many(cache, keys, skip, lambda misses: predict_rows([rows(i) for i in misses]))

    def batch_result(outcomes: list[service.Outcome], items: list, *, field: str, echo: bool) -> BatchPredictionResult:
        return BatchPredictionResult(
            predictions=[
                _result(o.value, o.from_cache, {field: item} if echo else None)
                for o, item in zip(outcomes, items, strict=True)
            ]
        )

    @router.post(f"/{TEXT_TO_PREDICTION}_batch", response_model_exclude_none=True)
    async def text_to_prediction_batch(
        body: TextBatchInput,
        cache: PredictionCacheDep,
        recorder: CallRecorderDep,
        caller: CallerIdDep,
        settings: SettingsDep,
        background: BackgroundTasks,
    ) -> BatchPredictionResult:
        service.check_batch(body.texts, max_size=settings.max_batch_size, field="texts")
        texts = [
            service.check_text(t, max_length=settings.max_text_length, field=f"texts[{i}]")
            for i, t in enumerate(body.texts)
        ]
        outcomes = await predict_batch(
            cache, TEXT_TO_PREDICTION, "text", texts, body.skip_cache, lambda i: model.text_to_features(texts[i])
        )
        input_json = service.canonical_json({"texts": texts})
        record(recorder, background, caller, f"{TEXT_TO_PREDICTION}_batch", input_json, outcomes)
        return batch_result(outcomes, texts, field="text", echo=body.echo_input)

    @router.post(f"/{FEATURES_TO_PREDICTION}_batch", response_model_exclude_none=True)
    async def features_to_prediction_batch(
        body: FeaturesBatchInput,
        cache: PredictionCacheDep,
        recorder: CallRecorderDep,
        caller: CallerIdDep,
        settings: SettingsDep,
        background: BackgroundTasks,
    ) -> BatchPredictionResult:
        service.check_batch(body.features, max_size=settings.max_batch_size, field="features")
        rows = [service.validate_row(model, row, i) for i, row in enumerate(body.features)]
        outcomes = await predict_batch(
            cache, FEATURES_TO_PREDICTION, "features", rows, body.skip_cache, lambda i: rows[i]
        )
        input_json = service.canonical_json({"features": rows})
        record(recorder, background, caller, f"{FEATURES_TO_PREDICTION}_batch", input_json, outcomes)
        return batch_result(outcomes, rows, field="features", echo=body.echo_input)

    @router.post(f"/{SMS_TO_PREDICTION}_batch", response_model_exclude_none=True)
    async def sms_to_prediction_batch(
        body: SmsBatchInput,
        cache: PredictionCacheDep,
        recorder: CallRecorderDep,
        caller: CallerIdDep,
        reader: FeatureReaderDep,
        settings: SettingsDep,
        background: BackgroundTasks,
    ) -> SmsBatchPredictionResult:
        service.check_batch(body.sms_ids, max_size=settings.max_batch_size, field="sms_ids")
        outcomes = await service.predict_sms(cache, reader, model, body.sms_ids, body.skip_cache)
        found = [o for o in outcomes if o is not None]
        input_json = service.canonical_json({"sms_ids": body.sms_ids})
        record(recorder, background, caller, f"{SMS_TO_PREDICTION}_batch", input_json, found)
        return SmsBatchPredictionResult(
            predictions=[_sms_item(sms_id, o) for sms_id, o in zip(body.sms_ids, outcomes, strict=True)]
        )

    @router.get("/recent_call_log")
    async def recent_call_log(
        recorder: CallRecorderDep,
        caller: CallerIdDep,
        settings: SettingsDep,
        limit: Annotated[int, Query(ge=1, le=RECENT_CALLS_HARD_MAX)] = 20,
    ) -> CallLogResult:
        since = datetime.now(UTC) - timedelta(seconds=settings.call_log_window_seconds)
        entries = await service.run_blocking(
            recorder.recent, caller, model.version, since=since, limit=min(limit, settings.call_log_max_limit)
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
