"""The real app: trained artifacts (`models_dir`), the applied + materialized Feast repo (`feast_repo`)."""

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.model_serving.main import create_app
from api.model_serving.settings import ModelServingSettings
from training.versions import get_version

VERSIONS = ("v1", "v2", "v3")
SPAM = "WINNER!! You have won a £1000 cash prize. Call 09061701461 now to claim. T&C apply, 150p/msg"
HAM = "Ok, see you at the station around 6 then. Love you"


def _settings(models_dir: Path, feast_repo: Path, tmp: Path, **extra: object) -> ModelServingSettings:
    return ModelServingSettings(
        spam_model_versions="v1, v2, v3",
        models_dir=models_dir,
        feature_repo_path=feast_repo,
        sqlite_path=tmp / "app.db",
        _env_file=None,
        **extra,
    )


@pytest.fixture(scope="module")
def real_client(models_dir: Path, feast_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(_settings(models_dir, feast_repo, tmp_path_factory.mktemp("serving")))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_ready_when_models_stores_and_feature_store_are_up(real_client: TestClient) -> None:
    response = real_client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"models": "ok", "stores": "ok", "feature_store": "ok"}


@pytest.mark.parametrize(("version", "length", "kind"), [("v1", 9, float), ("v2", 30, int), ("v3", 30, int)])
def test_text_to_features_shape(real_client: TestClient, version: str, length: int, kind: type) -> None:
    body = real_client.post(f"/model/{version}/text_to_features", json={"text": SPAM}).json()
    assert len(body["features"]) == length and all(type(x) is kind for x in body["features"])


@pytest.mark.parametrize("version", VERSIONS)
def test_text_to_prediction_is_real_predict_proba(real_client: TestClient, version: str) -> None:
    model = real_client.app.state.serving.models[version]
    expected = model.estimator.predict_proba([model.text_to_features(SPAM)])[0]
    body = real_client.post(f"/model/{version}/text_to_prediction", json={"text": SPAM, "skip_cache": True}).json()
    assert body["prediction"] == pytest.approx({"ham": expected[0], "spam": expected[1]})
    assert body["from_cache"] is False


@pytest.mark.parametrize("version", VERSIONS)
def test_models_tell_obvious_spam_from_ham(real_client: TestClient, version: str) -> None:
    spam = real_client.post(f"/model/{version}/text_to_prediction", json={"text": SPAM}).json()
    ham = real_client.post(f"/model/{version}/text_to_prediction", json={"text": HAM}).json()
    assert spam["top"]["label"] == "spam" and ham["top"]["label"] == "ham"


@pytest.mark.parametrize("version", VERSIONS)
def test_features_round_trip_to_same_prediction(real_client: TestClient, version: str) -> None:
    features = real_client.post(f"/model/{version}/text_to_features", json={"text": HAM}).json()["features"]
    via_features = real_client.post(f"/model/{version}/features_to_prediction", json={"features": features}).json()
    via_text = real_client.post(f"/model/{version}/text_to_prediction", json={"text": HAM}).json()
    assert via_features["prediction"] == pytest.approx(via_text["prediction"])


@pytest.mark.parametrize("version", VERSIONS)
def test_sms_to_prediction_reads_online_store(real_client: TestClient, known_sms_id: str, version: str) -> None:
    response = real_client.post(f"/model/{version}/sms_to_prediction", json={"sms_id": known_sms_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sms_id"] == known_sms_id
    assert body["prediction"]["ham"] + body["prediction"]["spam"] == pytest.approx(1.0)


@pytest.mark.parametrize("version", VERSIONS)
def test_online_features_match_serving_features(
    real_client: TestClient, known_sms_id: str, version: str, built_platform: object
) -> None:
    """No training/serving skew: the online row equals the features serving computes from the text."""
    model = real_client.app.state.serving.models[version]
    text = built_platform.raw.set_index("sms_id").loc[known_sms_id, "text"]  # type: ignore[attr-defined]
    [row] = real_client.app.state.serving.reader.read(model.feature_view, model.feature_names, [known_sms_id])
    assert row is not None
    assert model.features_from_online(row.values) == pytest.approx(model.text_to_features(text))


@pytest.mark.parametrize("version", VERSIONS)
def test_sms_to_prediction_unknown_id_returns_404(real_client: TestClient, version: str) -> None:
    response = real_client.post(f"/model/{version}/sms_to_prediction", json={"sms_id": "no-such-sms"})
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"sms_id 'no-such-sms' has no {get_version(version).feature_set.contract.view} features online"
    }


def test_sms_batch_mixes_found_and_missing(real_client: TestClient, known_sms_id: str) -> None:
    body = real_client.post("/model/v2/sms_to_prediction_batch", json={"sms_ids": [known_sms_id, "nope"]}).json()
    assert [p["found"] for p in body["predictions"]] == [True, False]


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_token_ids_out_of_vocabulary_range_return_422(real_client: TestClient, version: str) -> None:
    n_ids = real_client.app.state.serving.models[version].encoder.n_ids
    response = real_client.post(f"/model/{version}/features_to_prediction", json={"features": [n_ids] + [0] * 29})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["msg"] == f"features[0] must be a token id in [0, {n_ids}), got {n_ids}"


def test_tampered_artifact_fails_start_up(models_dir: Path, feast_repo: Path, tmp_path: Path) -> None:
    copied = tmp_path / "models"
    shutil.copytree(models_dir, copied)
    artifact = get_version("v3").model_dir(copied) / "model.joblib"
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    app = create_app(_settings(copied, feast_repo, tmp_path))
    with pytest.raises(RuntimeError, match=r"cannot load model v3 .*sha256"), TestClient(app):
        pass


def test_serving_a_subset_of_versions(models_dir: Path, feast_repo: Path, tmp_path: Path) -> None:
    settings = _settings(models_dir, feast_repo, tmp_path).model_copy(update={"spam_model_versions": ["v2"]})
    with TestClient(create_app(settings)) as client:
        assert client.post("/model/v2/text_to_prediction", json={"text": HAM}).status_code == 200
        missing = client.post("/model/v1/text_to_prediction", json={"text": HAM})
        assert missing.status_code == 404
        assert missing.json() == {"detail": "unknown model version 'v1'; serving: v2"}


@pytest.mark.parametrize("version", VERSIONS)
def test_a_text_with_no_known_tokens_works_alone_and_last_in_a_batch(real_client: TestClient, version: str) -> None:
    # "..." tokenizes to padding only: an empty tf-idf row, which once failed when it came last.
    alone = real_client.post(f"/model/{version}/text_to_prediction", json={"text": "...", "skip_cache": True})
    batch = real_client.post(
        f"/model/{version}/text_to_prediction_batch", json={"texts": [HAM, "..."], "skip_cache": True}
    )
    assert alone.status_code == 200 and batch.status_code == 200, batch.text
    assert batch.json()["predictions"][1]["prediction"] == pytest.approx(alone.json()["prediction"])


def test_concurrent_requests_batched_together_each_get_their_own_answer(real_client: TestClient) -> None:
    texts = [SPAM, HAM, "...", "free entry!! txt WIN to 80082", "are we still on for tonight?", "URGENT call now"]
    calls = [(version, text) for version in VERSIONS for text in texts] * 4
    before = _predict_calls(real_client)

    def ask(call: tuple[str, str]) -> dict:
        version, text = call
        response = real_client.post(f"/model/{version}/text_to_prediction", json={"text": text, "skip_cache": True})
        assert response.status_code == 200, response.text
        return response.json()["prediction"]

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, calls))
    for (version, text), answer in zip(calls, answers, strict=True):
        model = real_client.app.state.serving.models[version]
        [expected] = model.features_to_predictions([model.text_to_features(text)])
        assert answer == pytest.approx(expected, abs=1e-12), (version, text)
    shared = len(calls) - (_predict_calls(real_client) - before)
    assert shared > 0, "no two requests shared a predict call"  # 16 threads overlap all the time


def _predict_calls(client: TestClient) -> float:
    metrics = client.get("/metrics").text
    counts = [line for line in metrics.splitlines() if line.startswith("spamops_model_predict_rows_count")]
    return sum(float(line.rsplit(" ", 1)[1]) for line in counts)
