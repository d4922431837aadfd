"""SPAM_MODEL_PLUGINS: a plugin is served by the same router factory under its own name, or stops start-up."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

from api.common.storage import Stores
from api.model_serving.main import create_app
from api.model_serving.registry import PluginError
from api.model_serving.settings import ModelServingSettings
from tests.api.model_serving.conftest import FakeReader
from tests.readme import marked_blocks
from training.artifacts import save_artifact
from training.features import v1_features
from training.versions import V1

PLUGINS = "tests.api.model_serving.plugin_models"
GOOD = f"{PLUGINS}:WeightedFeatures"
PARAMS = {"weights": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0, 0.0], "bias": -1.0}


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    """A tiny built-in v1 and the plugin's artifact, both written by save_artifact."""
    rng = np.random.default_rng(0)
    X = rng.random((40, 9))
    save_artifact(LogisticRegression().fit(X, X[:, 0] > 0.5), {"version": "v1"}, V1.model_dir(tmp_path))
    save_artifact(PARAMS, {"version": "kw1"}, tmp_path / "keyword_plugin")
    return tmp_path


def _client(models_dir: Path, stores: Stores, plugins: str) -> TestClient:
    settings = ModelServingSettings(
        spam_model_versions="v1", spam_model_plugins=plugins, models_dir=models_dir, sqlite_path=models_dir / "a.db"
    )
    return TestClient(create_app(settings, stores=stores, feature_reader=FakeReader({})))


@pytest.fixture
def client(models_dir: Path, app_stores: Stores) -> Iterator[TestClient]:
    with _client(models_dir, app_stores, GOOD) as test_client:
        yield test_client


def test_plugin_routes_serve_its_predictions(client: TestClient) -> None:
    text = "WIN a FREE prize, call now"
    features = client.post("/model/kw1/text_to_features", json={"text": text}).json()["features"]
    assert features == pytest.approx(v1_features(text))
    body = client.post("/model/kw1/text_to_prediction", json={"text": text}).json()
    score = PARAMS["bias"] + sum(w * x for w, x in zip(PARAMS["weights"], features, strict=True))
    assert body["prediction"]["spam"] == pytest.approx(1 / (1 + np.exp(-score)))
    assert body["top"]["label"] in {"ham", "spam"}
    same = client.post("/model/kw1/features_to_prediction", json={"features": features}).json()
    assert same["prediction"] == pytest.approx(body["prediction"])


def test_plugin_is_served_beside_builtins(client: TestClient) -> None:
    assert client.post("/model/v1/text_to_prediction", json={"text": "hello"}).status_code == 200
    assert client.post("/model/kw1/features_to_prediction", json={"features": [1]}).status_code == 422


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (f"{PLUGINS}:NoPredict", r"NoPredict' does not satisfy SpamModel: it lacks features_to_predictions\(\)"),
        (f"{PLUGINS}:ClashesWithV1", r"ClashesWithV1': version 'v1' clashes with a built-in version"),
        (f"{PLUGINS}:Missing", r"Missing' cannot be imported"),
        ("no_colon_here", r"expected package.module:ClassName"),
    ],
)
def test_bad_plugin_stops_start_up_naming_it(
    models_dir: Path, app_stores: Stores, plugin: str, message: str
) -> None:
    with pytest.raises(PluginError, match=message), _client(models_dir, app_stores, plugin):
        pass


def test_readme_plugin_is_served(models_dir: Path, app_stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's plugin example, saved as keyword_model.py as the README says, passes start-up and serves."""
    (block,) = marked_blocks("plugin")
    (models_dir / "plugins").mkdir()
    (models_dir / "plugins" / "keyword_model.py").write_text(block)
    monkeypatch.syspath_prepend(str(models_dir / "plugins"))
    save_artifact(PARAMS, {"version": "kw1"}, models_dir / "keyword_model")
    text = "WINNER!! Claim your FREE prize, call 09061701461 now"
    score = PARAMS["bias"] + sum(w * x for w, x in zip(PARAMS["weights"], v1_features(text), strict=True))
    with _client(models_dir, app_stores, "keyword_model:KeywordModel") as readme_client:
        body = readme_client.post("/model/kw1/text_to_prediction", json={"text": text}).json()
        batch = readme_client.post("/model/kw1/text_to_prediction_batch", json={"texts": [text, "hi"]})
        bad = readme_client.post("/model/kw1/features_to_prediction", json={"features": [1.0] * 8})
    assert body["prediction"]["spam"] == pytest.approx(1 / (1 + np.exp(-score)))
    assert batch.json()["predictions"][0]["prediction"] == pytest.approx(body["prediction"])
    assert bad.status_code == 422


def test_tampered_plugin_artifact_stops_start_up(models_dir: Path, app_stores: Stores) -> None:
    artifact = models_dir / "keyword_plugin" / "model.joblib"
    artifact.write_bytes(artifact.read_bytes() + b"tampered")
    refused = pytest.raises(PluginError, match=r"WeightedFeatures': cannot load its artifact: .*sha256")
    with refused, _client(models_dir, app_stores, GOOD):
        pass
