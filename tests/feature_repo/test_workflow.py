"""The feature repository's life cycle through the SDK, as Feast's own test_workflow.py walks it:
apply, historical retrieval, materialize, online read, materialize-incremental, push, read again."""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feast import FeatureStore
from feast.data_source import PushMode

from contract.feature_store import FEATURES1, LABELS_SOURCE_PATH, V1_FEATURE_NAMES
from tests.fixtures.cassandra import fresh_keyspace, render_cassandra_yaml
from tests.fixtures.platform import MATERIALIZE_2019_END, MATERIALIZE_START, apply_repo, copy_feature_repo
from tests.fixtures.platform import TINY_RAW as RAW
from training.features import v1_features
from training.offline_sources import labels_frame, v1_frame, v2_frame, v2_initial_part, write_parquet
from training.tokenizer import SmsTokenizer

EARLY = datetime(2019, 3, 1, tzinfo=UTC)
LATE = datetime(2019, 9, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("cassandra", marks=pytest.mark.cassandra)])
def online_store_yaml(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded default; the rendered Cassandra profile for the emulator (or CASSANDRA_HOSTS)."""
    if request.param == "sqlite":
        return None
    endpoint = request.getfixturevalue("cassandra_endpoint")
    keyspace = fresh_keyspace(request.getfixturevalue("cassandra_session"))
    return render_cassandra_yaml(endpoint, keyspace)


@pytest.fixture
def small_store(tmp_path: Path, online_store_yaml: str | None) -> FeatureStore:
    """sms1 has two v1 rows: one in March with its own text, one in September with a shouted text."""
    repo = copy_feature_repo(tmp_path / "feature_repo", fs_yaml_text=online_store_yaml)
    shouted = RAW.assign(text=RAW["text"].str.upper())
    write_parquet(pd.concat([v1_frame(RAW, EARLY), v1_frame(shouted.iloc[:1], LATE)]), repo / FEATURES1.source_path)
    write_parquet(labels_frame(RAW, EARLY), repo / LABELS_SOURCE_PATH)
    tokenizer = SmsTokenizer(vocab_size=20, min_count=1).fit(RAW["text"].tolist())
    write_parquet(v2_frame(RAW, tokenizer), v2_initial_part(repo))
    return apply_repo(repo)


def _historical(store: FeatureStore, when: datetime, service: str) -> pd.DataFrame:
    entities = pd.DataFrame({"sms_id": ["sms1", "sms2"], "event_timestamp": pd.Timestamp(when)})
    frame = store.get_historical_features(entity_df=entities, features=store.get_feature_service(service)).to_df()
    return frame.set_index("sms_id").sort_index()


def test_apply_registers_every_object(small_store: FeatureStore) -> None:
    assert {v.name for v in small_store.list_feature_views()} == {"sms_features1", "sms_features2", "sms_labels"}
    assert {s.name for s in small_store.list_feature_services()} >= {"labeled_sms_1", "labeled_sms_2"}
    assert [f.name for f in small_store.get_feature_view("sms_features1").features] == list(V1_FEATURE_NAMES)
    assert small_store.get_data_source("smss2_push") is not None


def test_historical_retrieval_is_point_in_time_correct(small_store: FeatureStore) -> None:
    june = _historical(small_store, datetime(2019, 6, 1, tzinfo=UTC), "labeled_sms_1")
    december = _historical(small_store, datetime(2019, 12, 1, tzinfo=UTC), "labeled_sms_1")
    assert june.loc["sms1", "cap_r"] == 0.0
    assert december.loc["sms1", "cap_r"] == 1.0
    assert june.loc["sms2", "cap_r"] == december.loc["sms2", "cap_r"]
    assert december["label"].tolist() == [0, 1]


def test_historical_retrieval_before_any_row_returns_nulls(small_store: FeatureStore) -> None:
    january = _historical(small_store, datetime(2019, 1, 1, tzinfo=UTC), "labeled_sms_1")
    assert january["cap_r"].isna().all()


def test_historical_v2_before_2020_is_empty_after_is_ints(small_store: FeatureStore) -> None:
    before = _historical(small_store, datetime(2019, 12, 31, tzinfo=UTC), "labeled_sms_2")
    after = _historical(small_store, datetime(2020, 12, 31, tzinfo=UTC), "labeled_sms_2")
    assert before["features"].isna().all()
    assert all(np.asarray(row).shape == (30,) and np.asarray(row).dtype == np.int64 for row in after["features"])


def _online(store: FeatureStore, feature: str) -> list[object]:
    rows = [{"sms_id": sms_id} for sms_id in RAW["sms_id"]]
    return store.get_online_features(features=[feature], entity_rows=rows).to_dict()[feature.split(":")[1]]


def test_materialize_then_incremental_brings_v2_online(small_store: FeatureStore) -> None:
    small_store.materialize(MATERIALIZE_START, MATERIALIZE_2019_END)
    assert _online(small_store, "sms_features1:cap_r") == [1.0, v1_features(RAW.loc[1, "text"])[0], 0.0]
    assert _online(small_store, "sms_labels:label") == [0, 1, 0]
    assert _online(small_store, "sms_features2:features") == [None, None, None]

    small_store.materialize_incremental(datetime.now(UTC))
    features = _online(small_store, "sms_features2:features")
    assert all(len(row) == 30 and all(type(value) is int for value in row) for row in features)


def test_push_online_is_read_back(small_store: FeatureStore) -> None:
    pushed = pd.DataFrame(
        {"sms_id": ["new1"], "event_timestamp": [pd.Timestamp.now(tz="UTC")], "features": [[5] * 30]}
    )
    small_store.push("smss2_push", pushed, to=PushMode.ONLINE)
    response = small_store.get_online_features(features=["sms_features2:features"], entity_rows=[{"sms_id": "new1"}])
    assert response.to_dict()["features"] == [[5] * 30]
