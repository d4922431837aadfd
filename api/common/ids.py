"""Ids: time-based UUIDs (version 1) with a random node, as DESIGN §3 asks (never the host's MAC address),
the one rule for a time-based UUID in a request, and the one rule every service applies to user ids."""

import itertools
import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator, StringConstraints, WithJsonSchema

# 100-ns ticks between the UUID epoch (1582-10-15) and the Unix epoch.
_UUID_EPOCH_OFFSET = 0x01B21DD213814000
# Random per-process node with the multicast bit set, marking it as "not a MAC" (RFC 9562 §6.10).
_NODE = secrets.randbits(48) | (1 << 40)
# Ids made for the same instant differ in their clock sequence: a counter (from a random start) never
# repeats within 16,384 calls, where 14 random bits would collide after about 150.
_CLOCK_SEQ = itertools.count(secrets.randbits(14))


def time_uuid(at: datetime | None = None) -> uuid.UUID:
    """A version-1 UUID; without `at` it is "now" and strictly increasing within this process."""
    if at is None:
        return uuid.uuid1(node=_NODE)
    ticks = int(at.timestamp() * 10_000_000) + _UUID_EPOCH_OFFSET
    clock_seq = next(_CLOCK_SEQ) & 0x3FFF
    return uuid.UUID(
        fields=(
            ticks & 0xFFFFFFFF,
            (ticks >> 32) & 0xFFFF,
            ((ticks >> 48) & 0x0FFF) | 0x1000,
            ((clock_seq >> 8) & 0x3F) | 0x80,
            clock_seq & 0xFF,
            _NODE,
        )
    )


def uuid_ticks(value: uuid.UUID) -> int:
    """100-ns ticks since the Unix epoch, for ordering and range queries."""
    if value.version != 1:
        raise ValueError(f"{value} is not a time-based (version 1) UUID")
    return value.time - _UUID_EPOCH_OFFSET


def uuid_datetime(value: uuid.UUID) -> datetime:
    """The UTC time encoded in a version-1 UUID (microsecond precision)."""
    return datetime.fromtimestamp(uuid_ticks(value) // 10 / 1_000_000, tz=UTC)


def datetime_ticks(at: datetime) -> int:
    """100-ns ticks since the Unix epoch for an aware datetime (naive means UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 10_000_000)


# The one rule for user ids (user-data's path, the inbox's recipient_id, `read@<user_id>` scopes): they
# appear in URLs and Cassandra partition keys, so short and printable with no slashes, and never only dots
# ("." and ".." are path navigation: a client would turn /sms/.. into another URL).
MAX_ID_LENGTH = 128
USER_ID_PATTERN = r"^[A-Za-z0-9._@+-]*[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$"
UserId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=USER_ID_PATTERN)]


def is_user_id(value: str) -> bool:
    return len(value) <= MAX_ID_LENGTH and re.fullmatch(USER_ID_PATTERN, value) is not None


# A time-based UUID as a request spells it: the hyphenated form, version 1, RFC 9562 variant. Pydantic's UUID
# alone also takes braces, "urn:uuid:" and bare hex; the schema promises only this form, so only it passes.
TIME_UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-1[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"


def _time_uuid_text(value: object) -> object:
    if isinstance(value, uuid.UUID):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return value  # not a string: the UUID validator names the type error
    if re.fullmatch(TIME_UUID_PATTERN, text) is None:
        raise ValueError("must be a time-based (version 1) UUID, hyphenated")
    return value


TimeUuid = Annotated[
    uuid.UUID,
    BeforeValidator(_time_uuid_text),
    WithJsonSchema({"type": "string", "format": "uuid", "pattern": TIME_UUID_PATTERN}),
]
