"""User-data routes: a user's inbox (`/sms`), and the inbox service's exactly-once write path
(`/batch/sms`, `/pending`): messages stored with their pending push and idempotency key, and the
pending pushes listed and cleared by whichever inbox worker completes them."""

from collections.abc import Sized
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.common.auth import AUTH_RESPONSES, READ, WRITE, require_scope, require_user_scope
from api.common.errors import PayloadTooLarge
from api.common.ids import MAX_ID_LENGTH, USER_ID_PATTERN, TimeUuid, time_uuid
from api.common.storage import StoredSms
from api.user_data.deps import SettingsDep, SmsStoreDep
from api.user_data.schemas import (
    BatchSmsCreate,
    BatchSmsResult,
    BatchSmsResults,
    PendingClear,
    PendingPage,
    PendingPushPublic,
    SmsCreate,
    SmsCreated,
    SmsPublic,
)
from api.user_data.settings import MAX_PAGE_SIZE, MAX_PENDING_AGE_SECONDS, MAX_PENDING_PAGE, UserDataSettings

router = APIRouter()
# Reading an inbox needs read (any inbox), read@<that user> or admin; everything else needs write.
readers = APIRouter(dependencies=[Depends(require_user_scope(READ))], responses=AUTH_RESPONSES)
keyed = APIRouter(dependencies=[Depends(require_scope(WRITE))], responses=AUTH_RESPONSES)

UserIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=USER_ID_PATTERN)]
# sms ids are time-based UUIDs; anything else cannot exist (and Cassandra's timeuuid rejects it).
SmsIdPath = Annotated[TimeUuid, Path()]
BeforeQuery = Annotated[TimeUuid | None, Query(description="Cursor: only messages older than this sms_id.")]
LimitQuery = Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (default from settings).")]

INVALID = {422: {"description": "invalid body, path or query (JSON detail names the field)"}}
TOO_LARGE = {413: {"description": "more items than MAX_BATCH_SIZE, or a body over MAX_BODY_BYTES"}}


NEXT_PAGE: dict[int | str, dict[str, Any]] = {200: {
    "description": "the user's messages, newest first (the tutorial's list)",
    "headers": {"Link": {
        "description": 'The next (older) page, as GitHub pages lists: `<URL>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    }},
}}


@readers.get("/sms/{user_id}", tags=["sms"], responses={**NEXT_PAGE, **INVALID})
async def list_sms(
    user_id: UserIdPath, store: SmsStoreDep, settings: SettingsDep, request: Request, response: Response,
    limit: LimitQuery = None, before: BeforeQuery = None,
) -> list[SmsPublic]:
    size = limit or settings.default_page_size
    # One row more than asked tells whether an older page exists, so the last page says so.
    rows = await run_in_threadpool(store.list, user_id, limit=size + 1, before=before)
    page = rows[:size]
    if len(rows) > size:
        next_url = request.url.include_query_params(before=str(page[-1].sms_id), limit=size)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return [SmsPublic.from_stored(user_id, sms) for sms in page]


@readers.get("/sms/{user_id}/{sms_id}", tags=["sms"], responses={404: {"description": "no such message for this user"}})
async def get_sms(user_id: UserIdPath, sms_id: SmsIdPath, store: SmsStoreDep) -> SmsPublic:
    sms = await run_in_threadpool(store.get, user_id, sms_id)
    if sms is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"no message {sms_id} for user {user_id}")
    return SmsPublic.from_stored(user_id, sms)


@keyed.post(
    "/sms/{user_id}",
    tags=["sms"],
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": SmsCreated, "description": "this sms_id already holds this very message; nothing written"},
        409: {"description": "this sms_id already holds another message; nothing written"},
                **INVALID,
    },
)
async def create_sms(user_id: UserIdPath, body: SmsCreate, store: SmsStoreDep, response: Response) -> SmsCreated:
    sms = StoredSms(sms_id=body.sms_id or time_uuid(), sender_id=body.sender_id, sms_text=body.sms_text)
    outcome = await run_in_threadpool(store.add, user_id, sms)
    if outcome == "conflict":
        raise HTTPException(
            status_code=status.HTTP_409_CONFLICT, detail=f"sms_id {sms.sms_id} already holds another message"
        )
    if outcome == "exists":
        response.status_code = status.HTTP_200_OK
        return SmsCreated(successful=True, msg="already stored", sms_id=sms.sms_id)
    return SmsCreated(successful=True, msg="stored", sms_id=sms.sms_id)


@keyed.post("/batch/sms", tags=["inbox"], responses={**TOO_LARGE, **INVALID})
async def create_sms_batch(body: BatchSmsCreate, store: SmsStoreDep, settings: SettingsDep) -> BatchSmsResults:
    """Store each message with its pending push and idempotency key (statuses: created, replayed,
    key_conflict); one storage call for the whole batch."""
    _check_size(body.items, settings, field="items")
    items = [item.to_store() for item in body.items]
    results = await run_in_threadpool(store.add_batch, items, key_ttl_seconds=settings.idempotency_ttl_seconds)
    return BatchSmsResults(items=[BatchSmsResult.from_store(result) for result in results])


@keyed.get("/pending", tags=["inbox"], responses={**INVALID})
async def list_pending(
    store: SmsStoreDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PENDING_PAGE)] = 100,
    older_than_seconds: Annotated[float, Query(ge=0, le=MAX_PENDING_AGE_SECONDS,
                                               description="Only pushes pending at least this long.")] = 0,
) -> PendingPage:
    older_than = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
    pushes = await run_in_threadpool(store.pending, limit=limit, older_than=older_than)
    return PendingPage(items=[PendingPushPublic.from_store(push) for push in pushes])


@keyed.post(
    "/pending/clear",
    tags=["inbox"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses={204: {"description": "cleared (unknown ids are ignored)"}, **TOO_LARGE, **INVALID},
)
async def clear_pending(body: PendingClear, store: SmsStoreDep, settings: SettingsDep) -> None:
    _check_size(body.sms_ids, settings, field="sms_ids")
    await run_in_threadpool(store.clear_pending, body.sms_ids)


def _check_size(items: Sized, settings: UserDataSettings, *, field: str) -> None:
    if len(items) > settings.max_batch_size:
        raise PayloadTooLarge(f"{field} holds {len(items)} items; the limit is {settings.max_batch_size}")


router.include_router(readers)
router.include_router(keyed)
