"""Repair gaps: push v2 features for every stored message of some users that has none online.

For each user, the messages are read from the user-data store page by page, their v2 features are
looked up online (`get_online_features` on sms_features2), and the missing ones are computed with the
v2 tokenizer, pushed online through the Feast SDK (`PushMode.ONLINE`) and appended offline as new
part files (never Feast's offline push, see DESIGN §10). A second run finds nothing to do.
Run it while no inbox has messages queued for the same users, or those get a second offline row.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from feast import FeatureStore
from feast.data_source import PushMode
from pydantic import Field
from tqdm import tqdm

from api.common.offline_append import FeatureRow, OfflineAppender
from api.common.settings import BaseServiceSettings, FeatureRepoSettings
from api.common.storage import SmsStore, StoredSms
from api.inbox.upstreams import PUSH_SOURCE
from training.offline_sources import TIMESTAMP_FIELD, V2_FIELD
from training.tokenizer import SmsTokenizer
from training.versions import ENTITY_KEY, MODELS_DIR, VERSIONS

V2_REF = f"{VERSIONS['v2'].feature_view}:{V2_FIELD}"


class BackfillSettings(BaseServiceSettings, FeatureRepoSettings):
    models_dir: Path = MODELS_DIR
    backfill_chunk_size: int = Field(default=200, ge=1, le=1000)


@dataclass(frozen=True)
class BackfillReport:
    users: int
    checked: int
    pushed: int


def user_messages(store: SmsStore, user_id: str, *, page_size: int) -> Iterator[StoredSms]:
    """Every message of the user, newest first, by cursor paging (partition-key reads only)."""
    before = None
    while page := store.list(user_id, limit=page_size, before=before):
        yield from page
        before = page[-1].sms_id


def missing_online(feature_store: FeatureStore, sms_ids: Sequence[str]) -> list[str]:
    rows = [{ENTITY_KEY: sms_id} for sms_id in sms_ids]
    values = feature_store.get_online_features(features=[V2_REF], entity_rows=rows).to_dict()[V2_FIELD]
    return [sms_id for sms_id, value in zip(sms_ids, values, strict=True) if value is None]


def push_features(feature_store: FeatureStore, rows: Sequence[FeatureRow]) -> None:
    frame = pd.DataFrame({
        ENTITY_KEY: [row.sms_id for row in rows],
        TIMESTAMP_FIELD: pd.to_datetime([row.event_timestamp for row in rows], utc=True),
        V2_FIELD: [list(row.features) for row in rows],
    })
    feature_store.push(PUSH_SOURCE, frame, to=PushMode.ONLINE)


def backfill_chunk(chunk: Sequence[StoredSms], *, feature_store: FeatureStore, tokenizer: SmsTokenizer,
                   appender: OfflineAppender) -> int:
    missing = set(missing_online(feature_store, [str(sms.sms_id) for sms in chunk]))
    todo = [sms for sms in chunk if str(sms.sms_id) in missing]
    if not todo:
        return 0
    features = tokenizer.transform([sms.sms_text for sms in todo])
    rows = [FeatureRow(str(sms.sms_id), sms.received_at, [int(v) for v in vector])
            for sms, vector in zip(todo, features, strict=True)]
    push_features(feature_store, rows)  # online first: a row offline is then always also online
    appender.append(rows)
    return len(rows)


def backfill_users(users: Iterable[str], *, sms_store: SmsStore, feature_store: FeatureStore,
                   tokenizer: SmsTokenizer, appender: OfflineAppender, chunk_size: int = 200,
                   progress: bool = True) -> BackfillReport:
    users = list(users)
    checked = pushed = 0
    with tqdm(desc="messages checked", unit="sms", disable=not progress) as bar:
        for user in users:
            chunk: list[StoredSms] = []
            for sms in user_messages(sms_store, user, page_size=chunk_size):
                chunk.append(sms)
                if len(chunk) == chunk_size:
                    pushed += backfill_chunk(chunk, feature_store=feature_store, tokenizer=tokenizer, appender=appender)
                    checked, chunk = checked + len(chunk), []
                    bar.update(chunk_size)
            if chunk:
                pushed += backfill_chunk(chunk, feature_store=feature_store, tokenizer=tokenizer, appender=appender)
                checked += len(chunk)
                bar.update(len(chunk))
            bar.set_postfix(pushed=pushed)
    appender.flush()
    return BackfillReport(users=len(users), checked=checked, pushed=pushed)
