"""`SmsStore.add_batch`, pending pushes and idempotency keys: one contract, run on every backend."""

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from api.common.ids import time_uuid
from api.common.storage import SmsBatchItem, SmsBatchResult, StoredSms, Stores, sms_fingerprint
from api.common.storage.cassandra_sms import CassandraSmsStore
from api.common.storage.exactly_once import KeyRecord
from api.common.storage.sqlite_sms import SqliteSmsStore, _SqliteItemOps

TTL = 3600
FEATURES = tuple(range(30))
FAR_FUTURE = datetime.now(UTC) + timedelta(days=1)


def _user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def _key() -> str:
    return f"key-{uuid.uuid4().hex}"


def _item(user: str, *, key: str | None = None, text: str = "hello", sender: str = "+44 7700 900123",
          sms_id: uuid.UUID | None = None, features: tuple[int, ...] | None = FEATURES) -> SmsBatchItem:
    sms = StoredSms(sms_id=sms_id or time_uuid(), sender_id=sender, sms_text=text)
    return SmsBatchItem(user_id=user, sms=sms, idempotency_key=key, features=features)


def _add(stores: Stores, *items: SmsBatchItem, ttl: int = TTL) -> list[SmsBatchResult]:
    return stores.sms.add_batch(list(items), key_ttl_seconds=ttl)


def _pending_ids(stores: Stores) -> list[uuid.UUID]:
    return [push.sms_id for push in stores.sms.pending(limit=1000, older_than=FAR_FUTURE)]


def test_add_batch_creates_message_and_pending_push(store_backend: Stores) -> None:
    user = _user()
    item = _item(user, key=_key(), text="Ünïcødé £900")
    assert _add(store_backend, item) == [SmsBatchResult(item.sms.sms_id, "created", pending=True)]
    assert store_backend.sms.get(user, item.sms.sms_id) == item.sms
    [push] = store_backend.sms.pending(limit=10, older_than=FAR_FUTURE)
    assert (push.sms_id, push.user_id, push.sms_text, push.features) == (item.sms.sms_id, user, "Ünïcødé £900",
                                                                         FEATURES)


def test_add_batch_without_features_records_none(store_backend: Stores) -> None:
    item = _item(_user(), features=None)
    _add(store_backend, item)
    [push] = store_backend.sms.pending(limit=10, older_than=FAR_FUTURE)
    assert push.features is None


def test_add_batch_results_follow_request_order(store_backend: Stores) -> None:
    items = [_item(_user(), key=_key() if i % 2 else None, text=f"m{i}") for i in range(12)]
    results = _add(store_backend, *items)
    assert [r.sms_id for r in results] == [i.sms.sms_id for i in items]
    assert {r.status for r in results} == {"created"}


def test_add_batch_same_key_again_is_replayed_with_recorded_id(store_backend: Stores) -> None:
    user, key = _user(), _key()
    first = _item(user, key=key)
    _add(store_backend, first)
    retry = _item(user, key=key)  # a retry made a new sms_id; the recorded one wins
    assert _add(store_backend, retry) == [SmsBatchResult(first.sms.sms_id, "replayed", pending=True)]
    assert store_backend.sms.list(user, limit=10) == [first.sms]


def test_add_batch_replay_after_clear_reports_no_pending(store_backend: Stores) -> None:
    user, key = _user(), _key()
    first = _item(user, key=key)
    _add(store_backend, first)
    store_backend.sms.clear_pending([first.sms.sms_id])
    assert _add(store_backend, _item(user, key=key)) == [SmsBatchResult(first.sms.sms_id, "replayed", pending=False)]


def test_add_batch_same_key_other_content_is_key_conflict(store_backend: Stores) -> None:
    user, key = _user(), _key()
    first = _item(user, key=key, text="first")
    _add(store_backend, first)
    changed = [_item(user, key=key, text="second"), _item(user, key=key, sender="other"), _item(_user(), key=key)]
    for item in changed:
        assert _add(store_backend, item) == [SmsBatchResult(item.sms.sms_id, "key_conflict", pending=False)]
        assert store_backend.sms.get(item.user_id, item.sms.sms_id) is None
    assert _pending_ids(store_backend) == [first.sms.sms_id]


def test_add_batch_repeated_key_within_one_batch_is_replayed(store_backend: Stores) -> None:
    user, key = _user(), _key()
    first, again, other = _item(user, key=key), _item(user, key=key), _item(user, key=key, text="other")
    results = _add(store_backend, first, again, other)
    assert [(r.sms_id, r.status) for r in results] == [
        (first.sms.sms_id, "created"), (first.sms.sms_id, "replayed"), (other.sms.sms_id, "key_conflict")
    ]
    assert store_backend.sms.list(user, limit=10) == [first.sms]


def test_add_batch_existing_id_without_key_is_replayed_or_conflict(store_backend: Stores) -> None:
    user = _user()
    item = _item(user)
    _add(store_backend, item)
    same = _item(user, sms_id=item.sms.sms_id)
    other = _item(user, sms_id=item.sms.sms_id, text="other")
    assert _add(store_backend, same, other) == [
        SmsBatchResult(item.sms.sms_id, "replayed", pending=True),
        SmsBatchResult(item.sms.sms_id, "key_conflict", pending=False),
    ]
    assert store_backend.sms.get(user, item.sms.sms_id) == item.sms


def test_add_batch_id_holding_other_content_does_not_record_the_key(store_backend: Stores) -> None:
    user, key = _user(), _key()
    taken = _item(user, text="taken")
    _add(store_backend, taken)
    clash = _item(user, key=key, sms_id=taken.sms.sms_id)
    assert _add(store_backend, clash)[0].status == "key_conflict"
    fresh = _item(user, key=key)  # the key was not spent on the clash
    assert _add(store_backend, fresh)[0] == SmsBatchResult(fresh.sms.sms_id, "created", pending=True)


def test_add_batch_key_without_message_is_completed_with_recorded_id(store_backend: Stores) -> None:
    user, key = _user(), _key()
    lost = _item(user, key=key)
    _record_key_only(store_backend, key, lost)  # what a writer that died after claiming its key leaves
    retry = _item(user, key=key)
    assert _add(store_backend, retry) == [SmsBatchResult(lost.sms.sms_id, "created", pending=True)]
    assert store_backend.sms.get(user, lost.sms.sms_id) == lost.sms
    assert store_backend.sms.get(user, retry.sms.sms_id) is None
    assert _pending_ids(store_backend) == [lost.sms.sms_id]


def _record_key_only(stores: Stores, key: str, item: SmsBatchItem) -> None:
    record = KeyRecord(item.sms.sms_id, sms_fingerprint(item.user_id, item.sms.sender_id, item.sms.sms_text))
    store = stores.sms
    if isinstance(store, CassandraSmsStore):
        assert store._ops.claim_key(key, record, TTL) is None
        return
    assert isinstance(store, SqliteSmsStore)
    with store.db.locked() as conn:
        _SqliteItemOps(conn, store.db.clock()).claim_key(key, record, TTL)


def test_add_batch_key_expires_after_its_ttl(store_backend: Stores) -> None:
    user, key = _user(), _key()
    _add(store_backend, _item(user, key=key), ttl=1)
    time.sleep(2.1)  # Cassandra TTLs have one-second granularity
    later = _item(user, key=key)
    assert _add(store_backend, later)[0] == SmsBatchResult(later.sms.sms_id, "created", pending=True)


def test_pending_is_oldest_first_and_respects_limit(store_backend: Stores) -> None:
    start = datetime.now(UTC) - timedelta(minutes=10)
    items = [_item(_user(), sms_id=time_uuid(start + timedelta(seconds=s))) for s in (30, 5, 50, 20, 40, 10)]
    _add(store_backend, *items)
    oldest = store_backend.sms.pending(limit=4, older_than=FAR_FUTURE)
    expected = sorted(items, key=lambda i: i.sms.received_at)[:4]
    assert [p.sms_id for p in oldest] == [i.sms.sms_id for i in expected]


def test_pending_excludes_messages_not_older_than_the_bound(store_backend: Stores) -> None:
    now = datetime.now(UTC)
    old, fresh = _item(_user(), sms_id=time_uuid(now - timedelta(minutes=5))), _item(_user(), sms_id=time_uuid(now))
    _add(store_backend, old, fresh)
    assert [p.sms_id for p in store_backend.sms.pending(limit=10, older_than=now - timedelta(minutes=1))] == [
        old.sms.sms_id
    ]


def test_clear_pending_removes_only_those_and_is_idempotent(store_backend: Stores) -> None:
    items = [_item(_user()) for _ in range(5)]
    _add(store_backend, *items)
    cleared = [items[0].sms.sms_id, items[3].sms.sms_id, time_uuid()]  # one id was never pending
    store_backend.sms.clear_pending(cleared)
    store_backend.sms.clear_pending(cleared)
    store_backend.sms.clear_pending([])
    assert sorted(_pending_ids(store_backend)) == sorted(items[i].sms.sms_id for i in (1, 2, 4))
    assert all(store_backend.sms.get(i.user_id, i.sms.sms_id) == i.sms for i in items)


@pytest.mark.parametrize("round_", range(5))
def test_add_batch_same_key_from_two_writers_at_once_stores_one_message(
    store_backend: Stores, twin_stores: Stores, round_: int
) -> None:
    user, key = _user(), _key()
    barrier = threading.Barrier(2)
    results: list[SmsBatchResult] = []

    def write(stores: Stores) -> None:
        item = _item(user, key=key)  # each writer made its own sms_id, as two inbox workers would
        barrier.wait()
        results.extend(_add(stores, item))

    threads = [threading.Thread(target=write, args=(stores,)) for stores in (store_backend, twin_stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2
    assert len(store_backend.sms.list(user, limit=10)) == 1
    assert results[0].sms_id == results[1].sms_id == store_backend.sms.list(user, limit=1)[0].sms_id
    assert "created" in {r.status for r in results}
    assert _pending_ids(store_backend) == [results[0].sms_id]
