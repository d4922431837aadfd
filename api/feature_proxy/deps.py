"""Dependency providers and their `Annotated` aliases; objects live on `app.state` (made in the lifespan)."""

from typing import Annotated, Any

from fastapi import Depends, Request

from api.feature_proxy.errors import FeatureServiceRefused
from api.feature_proxy.settings import FeatureProxySettings
from api.feature_proxy.upstream import FeatureServer


async def get_settings(request: Request) -> FeatureProxySettings:
    return request.app.state.settings


async def get_feature_server(request: Request) -> FeatureServer:
    return request.app.state.feature_server


async def refuse_raw_feature_lists(request: Request) -> None:
    """403 for a body that names `features`, before schema validation would call it a plain 422.

    FastAPI has already read and parsed the body for the route's model, so `request.json()` is a cache hit.
    """
    try:
        body: Any = await request.json()
    except ValueError:
        return  # malformed JSON: the body model reports it as a 422
    if isinstance(body, dict) and "features" in body:
        raise FeatureServiceRefused("raw feature lists are not served; name an allowed feature_service")


SettingsDep = Annotated[FeatureProxySettings, Depends(get_settings)]
FeatureServerDep = Annotated[FeatureServer, Depends(get_feature_server)]
