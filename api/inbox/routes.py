"""`POST /sms`: the external sender's webhook (DESIGN §5)."""

from fastapi import APIRouter, Depends, Response, status

from api.common.auth import require_api_key
from api.inbox.deps import PipelineDep
from api.inbox.schemas import InboxResult, InboxSms

router = APIRouter(tags=["inbox"])


@router.post(
    "/sms",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_api_key)],
    responses={
        202: {"model": InboxResult, "description": "stored; the feature push is queued for retry"},
        401: {"description": "missing or wrong X-API-Key"},
        502: {"description": "user-data answered wrongly; the message was not stored"},
        503: {"description": "user-data unreachable; the message was not stored"},
    },
)
async def receive_sms(body: InboxSms, pipeline: PipelineDep, response: Response) -> InboxResult:
    outcome = await pipeline.receive(body)
    if not outcome.pushed:
        response.status_code = status.HTTP_202_ACCEPTED
    return InboxResult(success=True, reason=outcome.reason, sms_id=outcome.sms_id)
