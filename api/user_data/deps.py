"""Dependency providers and their `Annotated` aliases (objects live on `app.state`, made in the lifespan)."""

from typing import Annotated

from fastapi import Depends, Request

from api.common.storage import SmsStore
from api.user_data.settings import UserDataSettings


async def get_settings(request: Request) -> UserDataSettings:
    return request.app.state.settings


async def get_sms_store(request: Request) -> SmsStore:
    return request.app.state.stores.sms


SettingsDep = Annotated[UserDataSettings, Depends(get_settings)]
SmsStoreDep = Annotated[SmsStore, Depends(get_sms_store)]
