"""A three-message feature repository per online profile, materialized, with one fresh push on top."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from feast.data_source import PushMode

from contract.feature_store import PUSH_SOURCE
from tests.fixtures.cassandra import fresh_keyspace, render_cassandra_yaml
from tests.fixtures.platform import TINY_RAW, apply_repo, copy_feature_repo, materialize_both_chapters
from training.offline_sources import V1_TIMESTAMP, v2_frame, v2_initial_part, write_parquet, write_v1_and_labels
from training.tokenizer import SmsTokenizer


@dataclass(frozen=True)
class OnlineRepo:
    repo: Path
    profile: str
    pushed_at: datetime  # event time of the one v2 row pushed after materialization
    pushed_id: str
    v1_event: datetime  # event time of every v1 and label row


@pytest.fixture(scope="module", params=["sqlite", pytest.param("cassandra", marks=pytest.mark.cassandra)])
def online_repo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> OnlineRepo:
    fs_yaml_text = None
    if request.param == "cassandra":
        keyspace = fresh_keyspace(request.getfixturevalue("cassandra_session"))
        fs_yaml_text = render_cassandra_yaml(request.getfixturevalue("cassandra_endpoint"), keyspace)
    repo = copy_feature_repo(tmp_path_factory.mktemp(f"online_{request.param}") / "repo", fs_yaml_text=fs_yaml_text)
    write_v1_and_labels(TINY_RAW, repo)
    tokenizer = SmsTokenizer(vocab_size=20, min_count=1).fit(TINY_RAW["text"].tolist())
    write_parquet(v2_frame(TINY_RAW, tokenizer), v2_initial_part(repo))
    store = apply_repo(repo)
    materialize_both_chapters(store)
    pushed_at = datetime.now(UTC).replace(microsecond=0) - pd.Timedelta(minutes=5)
    pushed = pd.DataFrame({"sms_id": ["fresh1"], "event_timestamp": [pd.Timestamp(pushed_at)], "features": [[5] * 30]})
    store.push(PUSH_SOURCE, pushed, to=PushMode.ONLINE)
    return OnlineRepo(repo, request.param, pushed_at, "fresh1", V1_TIMESTAMP)
