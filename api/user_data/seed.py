"""The tutorial's sample inboxes (users `fiona` and `max`, June 2019), seeded through the SmsStore.

Ids are deterministic time-based UUIDs (the June 2019 time, and a clock sequence and node derived
from a hash of the message), so seeding twice rewrites the same rows instead of adding copies.
"""

import hashlib
import uuid
from datetime import UTC, datetime

from api.common.ids import datetime_ticks
from api.common.storage import SmsStore, StoredSms

_UUID_EPOCH_OFFSET = 0x01B21DD213814000  # 100-ns ticks from 1582-10-15 to 1970-01-01

# (user, sender, received at (UTC), text)
SAMPLE_INBOXES: tuple[tuple[str, str, datetime, str], ...] = (
    ("fiona", "max", datetime(2019, 6, 3, 8, 12, tzinfo=UTC), "Morning! Are we still on for lunch today?"),
    ("fiona", "+44 7700 900461", datetime(2019, 6, 5, 14, 30, tzinfo=UTC),
     "WINNER!! You have been selected to receive a £900 prize reward! Call 09061701461 to claim"),
    ("fiona", "mum", datetime(2019, 6, 8, 19, 45, tzinfo=UTC), "Don't forget grandma's birthday on Sunday x"),
    ("fiona", "max", datetime(2019, 6, 12, 17, 5, tzinfo=UTC), "Running 10 mins late, save me a seat"),
    ("fiona", "dentist", datetime(2019, 6, 20, 9, 0, tzinfo=UTC),
     "Reminder: your appointment is on Tue 25 June at 10:30. Reply C to cancel."),
    ("max", "fiona", datetime(2019, 6, 3, 8, 20, tzinfo=UTC), "Yes! 12:30 at the usual place?"),
    ("max", "+44 7700 900822", datetime(2019, 6, 9, 11, 11, tzinfo=UTC),
     "URGENT! Your mobile number has won a 2,000 bonus caller prize. Call 09058094455 now"),
    ("max", "fiona", datetime(2019, 6, 12, 17, 10, tzinfo=UTC), "No worries, see you there"),
    ("max", "gym", datetime(2019, 6, 18, 7, 30, tzinfo=UTC), "Your class tomorrow at 7am is confirmed."),
    ("max", "fiona", datetime(2019, 6, 28, 21, 2, tzinfo=UTC), "Did you get home ok?"),
)


def seed_uuid(at: datetime, key: str) -> uuid.UUID:
    """A version-1 UUID for `at` whose clock sequence and node come from `key`: stable across runs."""
    ticks = datetime_ticks(at) + _UUID_EPOCH_OFFSET
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    clock_seq = digest & 0x3FFF
    node = (digest >> 14) & 0xFFFFFFFFFFFF | (1 << 40)  # multicast bit: not a MAC address
    return uuid.UUID(fields=(ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, ((ticks >> 48) & 0x0FFF) | 0x1000,
                             ((clock_seq >> 8) & 0x3F) | 0x80, clock_seq & 0xFF, node))


def sample_messages() -> list[tuple[str, StoredSms]]:
    return [
        (user, StoredSms(sms_id=seed_uuid(at, f"{user}|{sender}|{text}"), sender_id=sender, sms_text=text))
        for user, sender, at, text in SAMPLE_INBOXES
    ]


def seed_sample_inboxes(store: SmsStore) -> list[tuple[str, StoredSms]]:
    """Write every sample message (idempotent); returns what was written. Raises ValueError if a sample
    id already holds another message (the store never overwrites one)."""
    messages = sample_messages()
    for user, sms in messages:
        if store.add(user, sms) == "conflict":
            raise ValueError(f"sms_id {sms.sms_id} of user {user} already holds another message")
    return messages
