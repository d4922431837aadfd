"""Dependency providers and their `Annotated` aliases (objects live on `app.state`, made in the lifespan)."""

from typing import Annotated

from fastapi import Depends, Request

from api.web.settings import WebSettings
from api.web.upstream import Backends


async def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings


async def get_backends(request: Request) -> Backends:
    return request.app.state.backends


SettingsDep = Annotated[WebSettings, Depends(get_settings)]
BackendsDep = Annotated[Backends, Depends(get_backends)]
