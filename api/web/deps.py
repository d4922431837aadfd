"""Dependency providers and their `Annotated` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from api.web.settings import WebSettings


async def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings


SettingsDep = Annotated[WebSettings, Depends(get_settings)]
