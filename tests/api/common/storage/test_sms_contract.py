"""The SmsStore contract, written once against the Protocol and run on every backend."""

import uuid
from datetime import UTC, datetime, timedelta

from api.common.ids import time_uuid
from api.common.storage import SmsStore, StoredSms, Stores

START = datetime(2019, 6, 3, 9, 30, tzinfo=UTC)


def _user() -> str:
    # A fresh user per test keeps tests independent on a shared (real) cluster.
    return f"user-{uuid.uuid4().hex[:8]}"


def _sms(minutes: int, text: str = "hello") -> StoredSms:
    return StoredSms(sms_id=time_uuid(START + timedelta(minutes=minutes)), sender_id="+44 7700 900123", sms_text=text)


def test_sms_store_implements_protocol(store_backend: Stores) -> None:
    assert isinstance(store_backend.sms, SmsStore)


def test_sms_get_unknown_returns_none(store_backend: Stores) -> None:
    assert store_backend.sms.get(_user(), time_uuid()) is None


def test_sms_add_then_get_round_trips_fields(store_backend: Stores) -> None:
    user, sms = _user(), _sms(0, "Ünïcødé £900 prize!\nline two")
    store_backend.sms.add(user, sms)
    back = store_backend.sms.get(user, sms.sms_id)
    assert back == sms
    assert back is not None and back.received_at == START


def test_sms_get_is_scoped_to_the_user(store_backend: Stores) -> None:
    user, sms = _user(), _sms(0)
    store_backend.sms.add(user, sms)
    assert store_backend.sms.get(_user(), sms.sms_id) is None


def test_sms_add_twice_is_idempotent(store_backend: Stores) -> None:
    user, sms = _user(), _sms(0)
    assert store_backend.sms.add(user, sms) == "created"
    assert store_backend.sms.add(user, sms) == "exists"
    assert store_backend.sms.list(user, limit=10) == [sms]


def test_sms_add_other_content_is_a_conflict_and_keeps_the_first(store_backend: Stores) -> None:
    user, sms = _user(), _sms(0, "first")
    store_backend.sms.add(user, sms)
    other_text = StoredSms(sms_id=sms.sms_id, sender_id=sms.sender_id, sms_text="second")
    other_sender = StoredSms(sms_id=sms.sms_id, sender_id="someone else", sms_text="first")
    assert store_backend.sms.add(user, other_text) == "conflict"
    assert store_backend.sms.add(user, other_sender) == "conflict"
    assert store_backend.sms.get(user, sms.sms_id) == sms


def test_sms_add_same_id_for_another_user_is_created(store_backend: Stores) -> None:
    sms = _sms(0)
    assert store_backend.sms.add(_user(), sms) == "created"
    assert store_backend.sms.add(_user(), StoredSms(sms.sms_id, "x", "other")) == "created"


def test_sms_list_is_newest_first(store_backend: Stores) -> None:
    user = _user()
    messages = [_sms(minutes) for minutes in (5, 1, 30, 12)]
    for sms in messages:
        store_backend.sms.add(user, sms)
    listed = store_backend.sms.list(user, limit=10)
    assert [s.sms_id for s in listed] == [messages[i].sms_id for i in (2, 3, 0, 1)]


def test_sms_list_unknown_user_is_empty(store_backend: Stores) -> None:
    assert store_backend.sms.list(_user(), limit=10) == []


def test_sms_list_respects_limit(store_backend: Stores) -> None:
    user = _user()
    for minutes in range(5):
        store_backend.sms.add(user, _sms(minutes))
    listed = store_backend.sms.list(user, limit=2)
    assert [s.received_at for s in listed] == [START + timedelta(minutes=4), START + timedelta(minutes=3)]


def test_sms_list_before_pages_through_everything_once(store_backend: Stores) -> None:
    user = _user()
    messages = [_sms(minutes) for minutes in range(7)]
    for sms in messages:
        store_backend.sms.add(user, sms)
    seen: list[StoredSms] = []
    before = None
    while page := store_backend.sms.list(user, limit=3, before=before):
        seen.extend(page)
        before = page[-1].sms_id
    assert seen == list(reversed(messages))


def test_sms_list_before_excludes_the_cursor_itself(store_backend: Stores) -> None:
    user = _user()
    older, cursor, newer = _sms(1), _sms(2), _sms(3)
    for sms in (older, cursor, newer):
        store_backend.sms.add(user, sms)
    assert store_backend.sms.list(user, limit=10, before=cursor.sms_id) == [older]


def test_sms_list_is_scoped_to_the_user(store_backend: Stores) -> None:
    user, other = _user(), _user()
    mine = _sms(1)
    store_backend.sms.add(user, mine)
    store_backend.sms.add(other, _sms(2))
    assert store_backend.sms.list(user, limit=10) == [mine]
