"""Repair gaps: push v2 features for every stored message of some users that lacks them online or offline.

For each user, the messages are read from the user-data store page by page. Per chunk, the v2
features are looked up online (`get_online_features`) and offline (the latest row per message within
the chunk's receive times, `batch.offline_reads`); the missing ones are computed with the v2 tokenizer and pushed
through Feast's push, to the store(s) that lack them. Our offline store records a row once however
often it is pushed (feast_ext.offline), so a run beside live inboxes doubles nothing. A second run
finds nothing to do.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import pandas as pd
from feast import FeatureStore
from feast.data_source import PushMode
from pydantic import Field
from tqdm import tqdm

from api.common.settings import BaseServiceSettings
from api.common.storage import SmsStore, StoredSms
from batch.offline_reads import latest_rows
from batch.settings import BatchSettings
from contract.feature_store import ENTITY_KEY, FEATURES2, PUSH_SOURCE, TIMESTAMP_FIELD, V2_FIELD
from training.tokenizer import SmsTokenizer

V2_VIEW = FEATURES2.view
[V2_REF] = FEATURES2.feature_refs()


class BackfillSettings(BaseServiceSettings, BatchSettings):
    backfill_chunk_size: int = Field(default=200, ge=1, le=1000)


@dataclass(frozen=True)
class BackfillReport:
    users: int
    checked: int
    pushed_online: int
    pushed_offline: int


def user_messages(store: SmsStore, user_id: str, *, page_size: int) -> Iterator[StoredSms]:
    """Every message of the user, newest first, by cursor paging (partition-key reads only)."""
    before = None
    while page := store.list(user_id, limit=page_size, before=before):
        yield from page
        before = page[-1].sms_id


def missing_online(feature_store: FeatureStore, sms_ids: Sequence[str]) -> set[str]:
    rows = [{ENTITY_KEY: sms_id} for sms_id in sms_ids]
    values = feature_store.get_online_features(features=[V2_REF], entity_rows=rows).to_dict()[V2_FIELD]
    return {sms_id for sms_id, value in zip(sms_ids, values, strict=True) if value is None}


def missing_offline(feature_store: FeatureStore, chunk: Sequence[StoredSms]) -> set[str]:
    times = [sms.received_at for sms in chunk]
    found, _ = latest_rows(feature_store, V2_VIEW, [V2_FIELD], start=min(times), end=max(times))
    return {str(sms.sms_id) for sms in chunk} - set(found[ENTITY_KEY])


def push_features(feature_store: FeatureStore, tokenizer: SmsTokenizer, todo: Sequence[StoredSms],
                  to: PushMode) -> None:
    frame = pd.DataFrame({
        ENTITY_KEY: [str(sms.sms_id) for sms in todo],
        TIMESTAMP_FIELD: pd.to_datetime([sms.received_at for sms in todo], utc=True),
        V2_FIELD: [[int(v) for v in vector] for vector in tokenizer.transform([sms.sms_text for sms in todo])],
    })
    feature_store.push(PUSH_SOURCE, frame, to=to)


def backfill_chunk(chunk: Sequence[StoredSms], *, feature_store: FeatureStore,
                   tokenizer: SmsTokenizer) -> tuple[int, int]:
    online = missing_online(feature_store, [str(sms.sms_id) for sms in chunk])
    offline = missing_offline(feature_store, chunk)
    for mode, wanted in ((PushMode.ONLINE_AND_OFFLINE, online & offline), (PushMode.ONLINE, online - offline),
                         (PushMode.OFFLINE, offline - online)):
        if todo := [sms for sms in chunk if str(sms.sms_id) in wanted]:
            push_features(feature_store, tokenizer, todo, mode)
    return len(online), len(offline)


def _chunks(messages: Iterable[StoredSms], size: int) -> Iterator[list[StoredSms]]:
    chunk: list[StoredSms] = []
    for sms in messages:
        chunk.append(sms)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def backfill_users(users: Iterable[str], *, sms_store: SmsStore, feature_store: FeatureStore,
                   tokenizer: SmsTokenizer, chunk_size: int = 200, progress: bool = True) -> BackfillReport:
    users = list(users)
    checked = online = offline = 0
    with tqdm(desc="messages checked", unit="sms", disable=not progress) as bar:
        for user in users:
            for chunk in _chunks(user_messages(sms_store, user, page_size=chunk_size), chunk_size):
                pushed = backfill_chunk(chunk, feature_store=feature_store, tokenizer=tokenizer)
                checked, online, offline = checked + len(chunk), online + pushed[0], offline + pushed[1]
                bar.update(len(chunk))
                bar.set_postfix(online=online, offline=offline)
    return BackfillReport(users=len(users), checked=checked, pushed_online=online, pushed_offline=offline)
