"""Dependency providers and their `Annotated` aliases; routes ask for what they need by type.

Objects live on `app.state` (created in the lifespan), so providers are attribute reads. They are
`async def` on purpose: FastAPI runs a plain `def` dependency in the thread pool, and four thread
hops per request cost more than the whole prediction.
"""

from typing import Annotated

from fastapi import Depends, Request

from api.common.errors import InvalidInput
from api.common.storage import Stores
from api.model_serving.cache import LayeredPredictionCache
from api.model_serving.feature_reader import FeatureReader
from api.model_serving.service import CallRecorder
from api.model_serving.settings import ModelServingSettings

MAX_CALLER_ID_LENGTH = 128
CALLER_HEADER = "x-caller-id"


async def get_settings(request: Request) -> ModelServingSettings:
    # The app's own settings (create_app may have been handed some); FastAPI re-analyses an
    # overridden dependency on every request, so app.state beats dependency_overrides here.
    return request.app.state.settings


async def get_stores(request: Request) -> Stores:
    return request.app.state.stores


async def get_prediction_cache(request: Request) -> LayeredPredictionCache:
    return request.app.state.prediction_cache


async def get_call_recorder(request: Request) -> CallRecorder:
    return request.app.state.call_recorder


async def get_feature_reader(request: Request) -> FeatureReader:
    return request.app.state.feature_reader


async def get_caller_id(request: Request) -> str:
    """The caller named by X-Caller-Id, else the client host: whose calls `recent_call_log` shows.

    Read from the headers directly rather than as a `Header()` parameter: one less thing for
    FastAPI to resolve on every prediction.
    """
    caller = request.headers.get(CALLER_HEADER, "").strip()
    if len(caller) > MAX_CALLER_ID_LENGTH:
        raise InvalidInput(f"X-Caller-Id is longer than {MAX_CALLER_ID_LENGTH} characters ({len(caller)})")
    if caller:
        return caller
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[ModelServingSettings, Depends(get_settings)]
StoresDep = Annotated[Stores, Depends(get_stores)]
PredictionCacheDep = Annotated[LayeredPredictionCache, Depends(get_prediction_cache)]
CallRecorderDep = Annotated[CallRecorder, Depends(get_call_recorder)]
FeatureReaderDep = Annotated[FeatureReader, Depends(get_feature_reader)]
CallerIdDep = Annotated[str, Depends(get_caller_id)]
