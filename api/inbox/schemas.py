"""Request and response bodies (DESIGN §5). Field rules are user-data's, so bad input fails here first."""

import uuid

from pydantic import BaseModel, field_validator

from api.user_data.schemas import SenderId, SmsText, UserId


class InboxSms(BaseModel):
    recipient_id: UserId
    sender_id: SenderId
    sms_text: SmsText

    @field_validator("sms_text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("sms_text must not be blank")
        return value


class InboxResult(BaseModel):
    success: bool
    reason: str
    sms_id: uuid.UUID | None = None
