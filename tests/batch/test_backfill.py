"""Backfill against a copy of the built Feast repository (SQLite online store) and SQLite app storage."""

from pathlib import Path

import pandas as pd
import pytest
from feast import FeatureStore
from feast.data_source import PushMode

from api.common.settings import BaseServiceSettings
from api.common.storage import Stores, make_stores
from api.user_data.seed import seed_sample_inboxes
from batch.backfill import backfill_users, missing_offline, missing_online, push_features
from contract.feature_store import FEATURES2
from scripts.backfill_features import main
from tests.e2e.platform import copy_built_repo
from tests.fixtures.platform import BuiltPlatform
from training.feature_sets import TOKEN_IDS
from training.tokenizer import SmsTokenizer


@pytest.fixture
def repo(built_platform: BuiltPlatform, tmp_path: Path) -> Path:
    return copy_built_repo(built_platform.repo, tmp_path / "feature_repo")


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    stores = make_stores(BaseServiceSettings(sqlite_path=tmp_path / "app.db"))
    seed_sample_inboxes(stores.sms)
    return stores


def test_backfill_pushes_missing_then_nothing(repo: Path, stores: Stores, models_dir: Path) -> None:
    feature_store = FeatureStore(repo_path=str(repo))
    tokenizer = SmsTokenizer.load(TOKEN_IDS.state_dir(models_dir))
    kwargs = {"sms_store": stores.sms, "feature_store": feature_store, "tokenizer": tokenizer,
              "chunk_size": 3, "progress": False}
    first = backfill_users(["fiona", "max"], **kwargs)
    assert (first.users, first.checked, first.pushed_online, first.pushed_offline) == (2, 10, 10, 10)
    messages = [sms for user in ("fiona", "max") for sms in stores.sms.list(user, limit=100)]
    ids = [str(sms.sms_id) for sms in messages]
    assert missing_online(feature_store, ids) == set() and missing_offline(feature_store, messages) == set()
    second = backfill_users(["fiona", "max"], **kwargs)
    assert (second.pushed_online, second.pushed_offline) == (0, 0)
    offline = pd.read_parquet(repo / FEATURES2.source_path)
    assert sorted(offline[offline["sms_id"].isin(ids)]["sms_id"]) == sorted(ids)  # each exactly once
    spam = next(sms for sms in stores.sms.list("fiona", limit=100) if "WINNER" in sms.sms_text)
    online = feature_store.get_online_features(features=["sms_features2:features"],
                                               entity_rows=[{"sms_id": str(spam.sms_id)}]).to_dict()
    assert online["features"][0] == [int(v) for v in tokenizer.transform([spam.sms_text])[0]]


def test_backfill_repairs_an_offline_gap_alone(repo: Path, stores: Stores, models_dir: Path) -> None:
    feature_store = FeatureStore(repo_path=str(repo))
    tokenizer = SmsTokenizer.load(TOKEN_IDS.state_dir(models_dir))
    [sms, *_] = stores.sms.list("max", limit=100)
    push_features(feature_store, tokenizer, [sms], PushMode.ONLINE)  # online only: the offline row is missing
    report = backfill_users(["max"], sms_store=stores.sms, feature_store=feature_store, tokenizer=tokenizer,
                            progress=False)
    assert (report.pushed_online, report.pushed_offline) == (4, 5)
    offline = pd.read_parquet(repo / FEATURES2.source_path)
    assert list(offline["sms_id"]).count(str(sms.sms_id)) == 1


def test_script_help_and_run(repo: Path, tmp_path: Path, stores: Stores, models_dir: Path,
                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    for name, value in {"SQLITE_PATH": tmp_path / "app.db", "FEATURE_REPO_PATH": repo, "MODELS_DIR": models_dir,
                        "STORAGE_BACKEND": "sqlite"}.items():
        monkeypatch.setenv(name, str(value))
    assert main(["max", "--no-progress"]) == 0
    assert main(["max", "--no-progress"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2:] == ['{"users": 1, "checked": 5, "pushed_online": 5, "pushed_offline": 5}',
                          '{"users": 1, "checked": 5, "pushed_online": 0, "pushed_offline": 0}']
