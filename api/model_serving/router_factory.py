"""`make_model_router(model, serving, recorder)`: every route of one model version under /model/{version}.

Routes are thin: validate, ask `Serving.resolve` (the one prediction path: caches, online read,
batched compute), log the call, shape the response. They are async and stay off-CPU on the loop.
"""

import json
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from api.common.auth import AUTH_RESPONSES, KEY_OPTIONAL, AuthenticatedCaller, caller_of
from api.common.errors import NotFound
from api.common.ids import uuid_datetime
from api.model_serving import validation
from api.model_serving.call_log import CallRecorder
from api.model_serving.models import Prediction, SpamModel
from api.model_serving.rate_limit import RateLimiter
from api.model_serving.schemas import (
    BatchPredictionResult,
    CallRecord,
    FeaturesBatchResult,
    FeaturesResult,
    PredictionResult,
    SmsBatchItem,
    SmsBatchPredictionResult,
    SmsInput,
    SmsPredictionResult,
    Top,
    version_inputs,
)
from api.model_serving.serving import (
    Outcome,
    Serving,
    SmsQuery,
    canonical_json,
)
from api.model_serving.serving import Query as Input
from contract.routes import (
    FEATURES_TO_PREDICTION,
    MODEL_PREFIX,
    SMS_TO_PREDICTION,
    TEXT_TO_FEATURES,
    TEXT_TO_PREDICTION,
)

RECENT_CALLS_HARD_MAX = 1000  # the query parameter's schema bound; settings may lower it
CALLER_HEADER = "X-Caller"
VERSION_HEADER = "X-Model-Version"
TOO_MANY_REQUESTS: dict[int | str, dict[str, Any]] = {429: {
    "description": "over the caller's rate limit for this version",
    "headers": {"Retry-After": {"description": "Seconds until a call is admitted again.",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
}}
STALE = {"description": "the online features are older than MAX_FEATURE_AGE_SECONDS"}
NOT_ONLINE = {"description": "the sms_id has no features online for this version"}


def _result(value: Prediction, from_cache: bool, echo: dict | None) -> PredictionResult:
    label = max(value, key=value.__getitem__)
    return PredictionResult(
        input=echo, prediction=value, top=Top(label=label, value=value[label]), from_cache=from_cache
    )


def _freshness(outcome: Outcome) -> dict[str, Any]:
    return {"features_event_timestamp": outcome.features_at, "features_age_seconds": outcome.features_age_seconds}


def make_model_router(model: SpamModel, serving: Serving, recorder: CallRecorder, limiter: RateLimiter) -> APIRouter:
    router = APIRouter(prefix=f"{MODEL_PREFIX}/{model.version}", tags=[f"model {model.version}"],
                       responses=TOO_MANY_REQUESTS)
    settings = serving.settings
    post = partial(router.post, openapi_extra=KEY_OPTIONAL)  # every POST serves anonymous callers too
    inputs = version_inputs(model.version, model.features_schema(), max_text_length=settings.max_text_length,
                            max_batch_size=settings.max_batch_size)

    def admitted(request: Request) -> str:
        """The caller's name (its key's, or its address), once the rate limit lets the call through."""
        caller = caller_of(request)
        limit = settings.rate_limit(caller.name, keyed=caller.keyed)
        if limit and (retry := limiter.admit(caller.name, model.version, limit)) is not None:
            detail = (f"caller {caller.name} is over its limit of {limit} requests per "
                      f"{settings.rate_limit_window_seconds:g} s for {model.version}")
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail=detail,
                                headers={"Retry-After": f"{retry:.0f}"})
        return caller.name

    def text_input(text: str) -> Input:
        return Input(canonical_json({"text": text}), lambda: model.text_to_features(text))

    def features_input(features: list) -> Input:
        return Input(canonical_json({"features": features}), lambda: features)

    def record(caller: str, endpoint: str, payload: dict[str, Any]) -> None:
        recorder.record(caller, model.version, endpoint, payload)

    async def one(endpoint: str, query: Input | SmsQuery, skip_cache: bool) -> Outcome | None:
        [outcome] = await serving.resolve(model, endpoint, [query], skip_cache=skip_cache)
        return outcome

    async def found(endpoint: str, query: Input, skip_cache: bool) -> Outcome:
        outcome = await one(endpoint, query, skip_cache)
        assert outcome is not None  # only an SmsQuery can be missing
        return outcome

    @post(f"/{TEXT_TO_FEATURES}", response_model_exclude_none=True)
    async def text_to_features(body: inputs.text, request: Request) -> FeaturesResult:
        caller = admitted(request)
        text = validation.check_text(body.text, max_length=settings.max_text_length)
        outcome = await found(TEXT_TO_FEATURES, text_input(text), body.skip_cache)
        record(caller, TEXT_TO_FEATURES, {"text": text})
        echo = {"text": text} if body.echo_input else None
        return FeaturesResult(input=echo, features=outcome.value["features"], from_cache=outcome.from_cache)

    @post(f"/{FEATURES_TO_PREDICTION}", response_model_exclude_none=True)
    async def features_to_prediction(body: inputs.features, request: Request) -> PredictionResult:
        caller = admitted(request)
        features = model.validate_features(body.features)
        outcome = await found(FEATURES_TO_PREDICTION, features_input(features), body.skip_cache)
        record(caller, FEATURES_TO_PREDICTION, {"features": features})
        return _result(outcome.value, outcome.from_cache, {"features": features} if body.echo_input else None)

    @post(f"/{TEXT_TO_PREDICTION}", response_model_exclude_none=True)
    async def text_to_prediction(body: inputs.text, request: Request) -> PredictionResult:
        caller = admitted(request)
        text = validation.check_text(body.text, max_length=settings.max_text_length)
        outcome = await found(TEXT_TO_PREDICTION, text_input(text), body.skip_cache)
        record(caller, TEXT_TO_PREDICTION, {"text": text})
        return _result(outcome.value, outcome.from_cache, {"text": text} if body.echo_input else None)

    @post(f"/{SMS_TO_PREDICTION}", response_model_exclude_none=True,
                 responses={404: NOT_ONLINE, 409: STALE})
    async def sms_to_prediction(body: SmsInput, request: Request) -> SmsPredictionResult:
        caller = admitted(request)
        outcome = await one(SMS_TO_PREDICTION, SmsQuery(body.sms_id), body.skip_cache)
        if outcome is None:
            raise NotFound(f"sms_id {body.sms_id!r} has no {model.feature_view} features online")
        record(caller, SMS_TO_PREDICTION, {"sms_id": body.sms_id})
        result = _result(outcome.value, outcome.from_cache, {"sms_id": body.sms_id} if body.echo_input else None)
        return SmsPredictionResult(**dict(result), sms_id=body.sms_id, **_freshness(outcome))

    def batch_result(outcomes: list[Outcome | None], items: list, *, field: str, echo: bool) -> BatchPredictionResult:
        return BatchPredictionResult(
            predictions=[
                _result(o.value, o.from_cache, {field: item} if echo else None)
                for o, item in zip(outcomes, items, strict=True)
                if o is not None
            ]
        )

    def check_texts(texts: list[str]) -> list[str]:
        return validation.check_texts(texts, max_size=settings.max_batch_size, max_length=settings.max_text_length)

    @post(f"/{TEXT_TO_FEATURES}_batch")
    async def text_to_features_batch(body: inputs.texts, request: Request) -> FeaturesBatchResult:
        caller = admitted(request)
        texts = check_texts(body.texts)
        outcomes = await serving.resolve(model, TEXT_TO_FEATURES, [text_input(t) for t in texts],
                                         skip_cache=body.skip_cache)
        record(caller, f"{TEXT_TO_FEATURES}_batch", {"texts": texts})
        return FeaturesBatchResult(features=[o.value["features"] for o in outcomes if o is not None])

    @post(f"/{TEXT_TO_PREDICTION}_batch", response_model_exclude_none=True)
    async def text_to_prediction_batch(body: inputs.texts, request: Request) -> BatchPredictionResult:
        caller = admitted(request)
        texts = check_texts(body.texts)
        outcomes = await serving.resolve(model, TEXT_TO_PREDICTION, [text_input(t) for t in texts],
                                         skip_cache=body.skip_cache)
        record(caller, f"{TEXT_TO_PREDICTION}_batch", {"texts": texts})
        return batch_result(outcomes, texts, field="text", echo=body.echo_input)

    @post(f"/{FEATURES_TO_PREDICTION}_batch", response_model_exclude_none=True)
    async def features_to_prediction_batch(body: inputs.features_batch, request: Request) -> BatchPredictionResult:
        caller = admitted(request)
        validation.check_batch(body.features, max_size=settings.max_batch_size, field="features")
        rows = [validation.validate_row(model, row, i) for i, row in enumerate(body.features)]
        outcomes = await serving.resolve(model, FEATURES_TO_PREDICTION, [features_input(r) for r in rows],
                                         skip_cache=body.skip_cache)
        record(caller, f"{FEATURES_TO_PREDICTION}_batch", {"features": rows})
        return batch_result(outcomes, rows, field="features", echo=body.echo_input)

    @post(f"/{SMS_TO_PREDICTION}_batch", response_model_exclude_none=True,
                 responses={409: STALE})
    async def sms_to_prediction_batch(body: inputs.sms_ids, request: Request) -> SmsBatchPredictionResult:
        caller = admitted(request)
        validation.check_batch(body.sms_ids, max_size=settings.max_batch_size, field="sms_ids")
        outcomes = await serving.resolve(model, SMS_TO_PREDICTION, [SmsQuery(i) for i in body.sms_ids],
                                         skip_cache=body.skip_cache)
        record(caller, f"{SMS_TO_PREDICTION}_batch", {"sms_ids": body.sms_ids})
        return SmsBatchPredictionResult(
            predictions=[_sms_item(sms_id, o) for sms_id, o in zip(body.sms_ids, outcomes, strict=True)]
        )

    @router.get("/recent_call_log", responses=AUTH_RESPONSES)
    async def recent_call_log(
        keyed: AuthenticatedCaller,
        response: Response,
        limit: Annotated[int, Query(ge=1, le=RECENT_CALLS_HARD_MAX)] = 20,
    ) -> list[CallRecord]:
        """The caller's own calls to this version in the last hour, newest first."""
        caller = keyed.name
        entries = await recorder.recent(caller, model.version, limit=min(limit, settings.call_log_max_limit))
        response.headers[CALLER_HEADER] = caller
        response.headers[VERSION_HEADER] = model.version
        return [
            CallRecord(call_id=str(e.call_id), called_at=uuid_datetime(e.call_id), endpoint=e.endpoint,
                       input=json.loads(e.input_json))
            for e in entries
        ]

    return router


def _sms_item(sms_id: str, outcome: Outcome | None) -> SmsBatchItem:
    if outcome is None:
        return SmsBatchItem(sms_id=sms_id, found=False)
    result = _result(outcome.value, outcome.from_cache, None)
    return SmsBatchItem(sms_id=sms_id, found=True, prediction=result.prediction, top=result.top,
                        from_cache=outcome.from_cache, **_freshness(outcome))
