"""`make_model_router(model)`: every route of one model version under /model/{version}.

Routes are async and stay off-CPU on the loop: LRU hits answer inline, anything that blocks
(persisted cache, Feast, predict_proba) runs in one thread-pool hop (see service.resolve).
"""

import json
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
        entry = service.call_entry(caller, model, TEXT_TO_FEATURES, input_json)
        background.add_task(recorder.after_response, [outcome], entry)
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
        entry = service.call_entry(caller, model, FEATURES_TO_PREDICTION, input_json)
        background.add_task(recorder.after_response, [outcome], entry)
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
        entry = service.call_entry(caller, model, TEXT_TO_PREDICTION, input_json)
        background.add_task(recorder.after_response, [outcome], entry)
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
        entry = service.call_entry(caller, model, SMS_TO_PREDICTION, service.canonical_json({"sms_id": body.sms_id}))
        background.add_task(recorder.after_response, [outcome], entry)
        result = _result(outcome.value, outcome.from_cache, {"sms_id": body.sms_id} if body.echo_input else None)
        return SmsPredictionResult(**dict(result), sms_id=body.sms_id)

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
        keys = [key(cache, TEXT_TO_PREDICTION, service.canonical_json({"text": t})) for t in texts]
        outcomes = await service.resolve_many(
            cache,
            keys,
            body.skip_cache,
            lambda misses: predict_rows([model.text_to_features(texts[i]) for i in misses]),
        )
        entry = service.call_entry(
            caller, model, f"{TEXT_TO_PREDICTION}_batch", service.canonical_json({"texts": texts})
        )
        background.add_task(recorder.after_response, outcomes, entry)
        return BatchPredictionResult(
            predictions=[
                _result(o.value, o.from_cache, {"text": t} if body.echo_input else None)
                for o, t in zip(outcomes, texts, strict=True)
            ]
        )

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
        keys = [key(cache, FEATURES_TO_PREDICTION, service.canonical_json({"features": r})) for r in rows]
        outcomes = await service.resolve_many(
            cache, keys, body.skip_cache, lambda misses: predict_rows([rows[i] for i in misses])
        )
        entry = service.call_entry(
            caller, model, f"{FEATURES_TO_PREDICTION}_batch", service.canonical_json({"features": rows})
        )
        background.add_task(recorder.after_response, outcomes, entry)
        return BatchPredictionResult(
            predictions=[
                _result(o.value, o.from_cache, {"features": r} if body.echo_input else None)
                for o, r in zip(outcomes, rows, strict=True)
            ]
        )

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
        entry = service.call_entry(
            caller, model, f"{SMS_TO_PREDICTION}_batch", service.canonical_json({"sms_ids": body.sms_ids})
        )
        found = [o for o in outcomes if o is not None]
        background.add_task(recorder.after_response, found, entry)
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
