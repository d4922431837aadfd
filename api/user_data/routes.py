"""`/sms` routes: list a user's inbox (newest first, cursor-paged), read one message, store one."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import AfterValidator
from starlette.concurrency import run_in_threadpool

from api.common.auth import require_api_key
from api.common.ids import time_uuid
from api.common.storage import StoredSms
from api.user_data.deps import SettingsDep, SmsStoreDep
from api.user_data.schemas import (
    USER_ID_PATTERN,
    SmsCreate,
    SmsCreated,
    SmsPage,
    SmsPublic,
    require_time_uuid,
)
from api.user_data.settings import MAX_ID_LENGTH, MAX_PAGE_SIZE

router = APIRouter(prefix="/sms", tags=["sms"])

UserIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=USER_ID_PATTERN)]
SmsIdPath = Annotated[uuid.UUID, Path(), AfterValidator(require_time_uuid)]
BeforeQuery = Annotated[
    uuid.UUID | None, Query(description="Cursor: only messages older than this sms_id."),
    AfterValidator(lambda v: None if v is None else require_time_uuid(v)),
]
LimitQuery = Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (default from settings).")]


@router.get("/{user_id}")
async def list_sms(
    user_id: UserIdPath, store: SmsStoreDep, settings: SettingsDep, limit: LimitQuery = None, before: BeforeQuery = None
) -> SmsPage:
    size = limit or settings.default_page_size
    # One row more than asked tells whether an older page exists, so the last page says so.
    rows = await run_in_threadpool(store.list, user_id, limit=size + 1, before=before)
    page = rows[:size]
    next_before = page[-1].sms_id if len(rows) > size else None
    return SmsPage(items=[SmsPublic.from_stored(user_id, sms) for sms in page], next_before=next_before)


@router.get("/{user_id}/{sms_id}", responses={404: {"description": "no such message for this user"}})
async def get_sms(user_id: UserIdPath, sms_id: SmsIdPath, store: SmsStoreDep) -> SmsPublic:
    sms = await run_in_threadpool(store.get, user_id, sms_id)
    if sms is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"no message {sms_id} for user {user_id}")
    return SmsPublic.from_stored(user_id, sms)


@router.post(
    "/{user_id}",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_api_key)],
    responses={401: {"description": "missing or wrong X-API-Key"}},
)
async def create_sms(user_id: UserIdPath, body: SmsCreate, store: SmsStoreDep) -> SmsCreated:
    sms = StoredSms(sms_id=body.sms_id or time_uuid(), sender_id=body.sender_id, sms_text=body.sms_text)
    await run_in_threadpool(store.add, user_id, sms)
    return SmsCreated(successful=True, msg="stored", sms_id=sms.sms_id)
