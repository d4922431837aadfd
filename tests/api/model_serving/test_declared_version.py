"""A new version is one declaration: v4 on the features2 token ids, trained from Feast, saved, loaded and served."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from api.common.storage import Stores
from api.model_serving.main import create_app
from api.model_serving.models import DeclaredModel
from api.model_serving.settings import ModelServingSettings
from tests.api.model_serving.conftest import FakeReader
from tests.fixtures.platform import apply_repo, build_sources, copy_feature_repo
from training.artifacts import load_artifact
from training.feature_sets import TOKEN_IDS, TokenEncoder
from training.models import TokenIdCounts
from training.train import train_version
from training.versions import ModelVersion


def bag_of_ids(features: TokenEncoder, random_state: int) -> Pipeline:
    return make_pipeline(TokenIdCounts(n_ids=features.n_ids), LogisticRegression(random_state=random_state))


V4 = ModelVersion(
    name="v4",
    feature_set=TOKEN_IDS,
    make_estimator=bag_of_ids,
    description="Throwaway: logistic regression over raw token-id counts.",
    artifact_dir="model4_test",
    time_freeze=datetime(2022, 12, 31, tzinfo=UTC),
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, raw_dev: pd.DataFrame) -> tuple[Path, dict]:
    """Offline sources for 600 dev messages, applied; then v4 trained from them through Feast."""
    root = tmp_path_factory.mktemp("v4")
    raw = raw_dev.iloc[:600].reset_index(drop=True)
    repo = copy_feature_repo(root / "feature_repo")
    models_dir = root / "models"
    build_sources(repo, raw, models_dir)
    apply_repo(repo)
    return models_dir, train_version(V4, repo_path=repo, raw=raw, models_dir=models_dir)


@pytest.fixture
def client(trained: tuple[Path, dict], app_stores: Stores, tmp_path: Path) -> Iterator[TestClient]:
    models_dir, _ = trained
    settings = ModelServingSettings(spam_model_versions="v1", models_dir=models_dir, sqlite_path=tmp_path / "a.db")
    model = DeclaredModel.load(V4, models_dir)
    app = create_app(settings, models=[model], stores=app_stores, feature_reader=FakeReader({}))
    with TestClient(app) as test_client:
        yield test_client


def test_training_records_the_declaration(trained: tuple[Path, dict]) -> None:
    models_dir, metadata = trained
    assert (metadata["version"], metadata["feature_set"], metadata["feature_service"]) == (
        "v4", "features2", "labeled_sms_2"
    )
    assert metadata["time_freeze"] == "2022-12-31T00:00:00+00:00"
    assert metadata["n_train"] > metadata["n_test"] > 0
    assert load_artifact(models_dir / "model4_test").sha256 == metadata["artifact_sha256"]


def test_v4_is_served_by_the_router_factory(client: TestClient, trained: tuple[Path, dict]) -> None:
    models_dir, _ = trained
    estimator = load_artifact(models_dir / "model4_test").estimator
    text = "WINNER! Claim your FREE prize, txt WIN to 80086 now"
    features = client.post("/model/v4/text_to_features", json={"text": text}).json()["features"]
    assert features == TOKEN_IDS.load(models_dir).text_to_features(text)
    body = client.post("/model/v4/text_to_prediction", json={"text": text}).json()
    assert body["prediction"]["spam"] == pytest.approx(estimator.predict_proba([features])[0, 1])
    wrong = client.post("/model/v4/features_to_prediction", json={"features": features[:5]})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["msg"] == "model v4 expects 30 token ids, got 5"
