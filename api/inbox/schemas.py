"""Request and response bodies (DESIGN §5). Field rules are user-data's, so bad input fails here first."""

import uuid

from pydantic import BaseModel

from api.common.ids import UserId
from api.user_data.schemas import SenderId, SmsText

# Visible ASCII, as the IETF httpapi Idempotency-Key draft's examples (UUIDs, random tokens) are.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"


class InboxSms(BaseModel):
    recipient_id: UserId
    sender_id: SenderId
    sms_text: SmsText


class InboxResult(BaseModel):
    success: bool
    reason: str
    sms_id: uuid.UUID | None = None
