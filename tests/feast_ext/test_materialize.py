"""Materialization through our engine (feast_ext/engine.py) and pushes through our provider (feast_ext/provider.py)
write the rows Feast's own path writes, byte for byte.

The reference is Feast's own: its `sqlite` online store, its local engine and provider, materializing (or taking
the pushes into) a copy of the same repository built from the same messages. Every online table is compared row
by row, every column, including the SQLite storage class of the timestamps.
"""

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from feast import FeatureStore
from feast.data_source import PushMode

from contract.feature_store import ENTITY_KEY, FEATURES1, LABELS_SOURCE_PATH, PUSH_SOURCE, TIMESTAMP_FIELD, V2_FIELD
from feast_ext.arrow_rows import encode_batch
from feast_ext.provider import ArrowPushProvider, _arrow_table
from tests.fixtures.platform import apply_repo, copy_feature_repo, materialize_both_chapters
from training.offline_sources import write_offline_sources
from training.tokenizer import SmsTokenizer

WORDS = ["free", "prize", "call", "now", "see", "you", "soon", "win", "cash", "txt", "reply", "stop", "hello", "mum"]
ROWS = "SELECT entity_key, feature_name, value, value_text, vector_value, event_ts, created_ts, typeof(event_ts) "


def messages(count: int) -> pd.DataFrame:
    """Varied texts: words, numbers, links and capitals, so every v1 feature and many token ids occur."""
    texts = [
        " ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 3 + i % 9))
        + (f" 0800{i:06d}" if i % 3 == 0 else "")
        + (" www.example.com" if i % 5 == 0 else "")
        + (" WINNER!!" if i % 4 == 0 else "")
        for i in range(count)
    ]
    return pd.DataFrame(
        {"sms_id": [f"sms{i}" for i in range(count)], "text": texts, "label": ["ham", "spam"] * (count // 2)}
    )


def built_repo(target: Path, raw: pd.DataFrame, *, feast_reference: bool) -> Path:
    repo = copy_feature_repo(target)
    if feast_reference:  # Feast's own online store and engine
        config_path = repo / "feature_store.yaml"
        config = yaml.safe_load(config_path.read_text())
        config["online_store"] = {"type": "sqlite", "path": config["online_store"]["path"]}
        config["provider"] = "local"
        del config["batch_engine"]
        config_path.write_text(yaml.safe_dump(config))
    write_offline_sources(raw, repo, SmsTokenizer(vocab_size=400, min_count=1).fit(raw["text"].tolist()))
    return repo


def online_tables(repo: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(repo / "data" / "online_store.db") as conn:
        names = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: conn.execute(f'{ROWS} FROM "{name}" ORDER BY entity_key, feature_name').fetchall() for name in names
        }


def assert_same_online_rows(ours: Path, reference: Path, views: int = 3) -> None:
    expected = online_tables(reference)
    assert len(expected) == views and all(expected.values())
    assert online_tables(ours) == expected


def online_dict(store: FeatureStore, ids: list[str]) -> dict[str, list[object]]:
    service = store.get_feature_service("labeled_sms_2")
    rows = [{ENTITY_KEY: sms_id} for sms_id in ids]
    features = store.get_online_features(features=service, entity_rows=rows).to_dict()
    v1 = store.get_online_features(features=store.get_feature_service("labeled_sms_1"), entity_rows=rows).to_dict()
    return features | v1


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return messages(240)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, raw: pd.DataFrame) -> Path:
    repo = built_repo(tmp_path_factory.mktemp("reference") / "feature_repo", raw, feast_reference=True)
    materialize_both_chapters(apply_repo(repo))
    return repo


def test_materialize_sdk_writes_feasts_rows_for_every_view(tmp_path: Path, raw: pd.DataFrame, reference: Path) -> None:
    repo = built_repo(tmp_path / "feature_repo", raw, feast_reference=False)
    store = apply_repo(repo)
    materialize_both_chapters(store)
    assert_same_online_rows(repo, reference)
    ids = raw["sms_id"].tolist()[:50]
    assert online_dict(store, ids) == online_dict(FeatureStore(repo_path=str(reference)), ids)


def test_materialize_cli_writes_feasts_rows(tmp_path: Path, raw: pd.DataFrame, reference: Path) -> None:
    repo = built_repo(tmp_path / "feature_repo", raw, feast_reference=False)
    feast = [str(Path(sys.executable).parent / "feast"), "-c", str(repo)]
    env = {**os.environ, "PYTHONOPTIMIZE": "1"}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for command in (
        ["apply"],
        ["materialize", "2009-01-01T00:00:00", "2019-12-31T00:00:00"],
        ["materialize-incremental", now],
    ):
        subprocess.run(feast + command, check=True, capture_output=True, env=env, timeout=300)
    assert_same_online_rows(repo, reference)


def test_materialize_unencodable_columns_fall_back_to_feasts_conversion(tmp_path: Path, raw: pd.DataFrame) -> None:
    """A NaN feature (a null once Feast's pandas nodes have read it) and a null label: Feast converts those."""
    repos = [
        built_repo(tmp_path / name / "feature_repo", raw, feast_reference=name == "feast") for name in ("ours", "feast")
    ]
    for repo in repos:
        with_gaps(repo)
        materialize_both_chapters(apply_repo(repo))
    assert_same_online_rows(repos[0], repos[1])
    store = FeatureStore(repo_path=str(repos[0]))
    for view, path in (("sms_features1", FEATURES1.source_path), ("sms_labels", LABELS_SOURCE_PATH)):
        feature_view = store.get_feature_view(view)
        join_keys = {entity.name: entity.dtype.to_value_type() for entity in feature_view.entity_columns}
        assert encode_batch(pq.read_table(repos[0] / path), feature_view, join_keys, 3) is None
    ids = raw["sms_id"].tolist()[:4]
    assert online_dict(store, ids) == online_dict(FeatureStore(repo_path=str(repos[1])), ids)


def with_gaps(repo: Path) -> None:
    v1 = pq.read_table(repo / FEATURES1.source_path)
    cap_r = v1.column("cap_r").to_pylist()
    cap_r[1] = float("nan")
    pq.write_table(
        v1.set_column(v1.schema.get_field_index("cap_r"), "cap_r", pa.array(cap_r)), repo / FEATURES1.source_path
    )
    labels = pq.read_table(repo / LABELS_SOURCE_PATH)
    label = labels.column("label").to_pylist()
    label[2] = None
    pq.write_table(
        labels.set_column(labels.schema.get_field_index("label"), "label", pa.array(label, pa.int64())),
        repo / LABELS_SOURCE_PATH,
    )


# Timestamps as pushes send them: the inbox's (ISO 8601, offset, microseconds), the tutorial's (no offset), another
# offset, pandas Timestamps (an SDK push), each column in one format (Feast's pandas parse takes the first row's);
# then two our provider hands to Feast: a format pandas must guess, and
# nanoseconds (parsed here, declined by the Arrow encoder). The last id is pushed again later: the newer row wins.
PUSHED_TIMES = {
    "iso-offset": ["2026-12-02T05:00:00.123456+00:00", "2026-12-02T05:00:01.000000+00:00"],
    "tutorial": ["2021-09-02 00:00:00", "2021-09-02 00:00:01"],
    "other-offset": ["2026-12-02T07:00:00.500000+02:00", "2026-12-02T07:00:02.000000+02:00"],
    "timestamps": list(pd.to_datetime(["2026-12-02T05:00:00.25Z", "2026-12-02T05:00:03Z"], format="ISO8601")),
    "guessed": ["12/02/2026 05:00:00", "12/02/2026 05:00:04"],
    "nanoseconds": ["2026-12-02T05:00:00.123456789+00:00", "2026-12-02T05:00:05.000000001+00:00"],
}


def pushed(shape: str) -> pd.DataFrame:
    times = PUSHED_TIMES[shape]
    ids = [f"{shape}-{i}" for i in range(len(times) - 1)] + ["again"]
    return pd.DataFrame({ENTITY_KEY: ids, TIMESTAMP_FIELD: times, V2_FIELD: [[i + 2] * 30 for i in range(len(ids))]})


def test_pushes_write_feasts_rows(tmp_path: Path, raw: pd.DataFrame) -> None:
    repos = [
        built_repo(tmp_path / name / "feature_repo", raw, feast_reference=name == "feast") for name in ("ours", "feast")
    ]
    stores = [apply_repo(repo) for repo in repos]
    assert isinstance(stores[0]._get_provider(), ArrowPushProvider)
    view = stores[0].get_feature_view("sms_features2")
    for shape in PUSHED_TIMES:
        assert (_arrow_table(view, pushed(shape)) is None) == (shape == "guessed"), shape
        for store in stores:
            store.push(PUSH_SOURCE, pushed(shape), to=PushMode.ONLINE)
    tables = online_tables(repos[1])
    assert sum(map(bool, tables.values())) == 1  # the v2 view's
    assert online_tables(repos[0]) == tables
    ids = [sms_id for shape in PUSHED_TIMES for sms_id in pushed(shape)[ENTITY_KEY]]
    features = [{ENTITY_KEY: sms_id} for sms_id in ids]
    ours, feasts = (store.get_online_features(features=["sms_features2:features"], entity_rows=features).to_dict()
                    for store in stores)
    assert ours == feasts and None not in ours["features"]
