"""Every route of one model router, with a fake model: happy paths, every bad input, cache, call log."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.common.storage import Stores
from api.model_serving.call_log import text_digest
from api.model_serving.main import create_app
from api.model_serving.settings import ModelServingSettings
from tests.api.errors import invalid
from tests.api.model_serving.conftest import ALICE, BOB, FakeModel, FakeReader

BASE = "/model/v1"
JSON = {"content-type": "application/json"}


def post(client: TestClient, endpoint: str, body: dict, **headers: str) -> tuple[int, dict]:
    response = client.post(f"{BASE}/{endpoint}", json=body, headers=headers)
    assert response.headers["content-type"].startswith("application/json")
    return response.status_code, response.json()


def assert_prediction(body: dict) -> None:
    prediction = body["prediction"]
    assert set(prediction) == {"ham", "spam"}
    assert prediction["ham"] + prediction["spam"] == pytest.approx(1.0)
    assert body["top"]["value"] == max(prediction.values())
    assert body["top"]["label"] == max(prediction, key=prediction.__getitem__)


# --- happy paths ---------------------------------------------------------------------------------


def test_text_to_features_returns_model_features(client: TestClient) -> None:
    status, body = post(client, "text_to_features", {"text": "Hi!!"})
    assert status == 200
    assert body == {"features": [4.0, 2.0, 1.0], "from_cache": False}


def test_text_to_features_echo_input(client: TestClient) -> None:
    _, body = post(client, "text_to_features", {"text": "Hi!!", "echo_input": True})
    assert body["input"] == {"text": "Hi!!"}


def test_features_to_prediction_returns_probabilities(client: TestClient, fake_model: FakeModel) -> None:
    status, body = post(client, "features_to_prediction", {"features": [1, 3, 0], "echo_input": True})
    assert status == 200
    assert_prediction(body)
    assert body["prediction"] == pytest.approx(fake_model.features_to_predictions([[1.0, 3.0, 0.0]])[0])
    assert body["input"] == {"features": [1.0, 3.0, 0.0]}
    assert body["top"]["label"] == "spam"


def test_text_to_prediction_returns_probabilities(client: TestClient) -> None:
    status, body = post(client, "text_to_prediction", {"text": "hello"})
    assert status == 200
    assert_prediction(body)
    assert "input" not in body
    assert body["top"]["label"] == "ham"


def test_sms_to_prediction_reads_online_features(client: TestClient, fake_reader: FakeReader) -> None:
    status, body = post(client, "sms_to_prediction", {"sms_id": "sms1"})
    assert status == 200
    assert body["sms_id"] == "sms1"
    assert_prediction(body)
    assert fake_reader.reads == [["sms1"]]


def test_sms_to_prediction_returns_the_features_event_time_and_age(
    client: TestClient, fake_reader: FakeReader
) -> None:
    _, body = post(client, "sms_to_prediction", {"sms_id": "sms1"})
    assert datetime.fromisoformat(body["features_event_timestamp"]) == fake_reader.event_time
    assert body["features_event_timestamp"].endswith("Z")
    assert 3 <= body["features_age_seconds"] < 10
    _, batch = post(client, "sms_to_prediction_batch", {"sms_ids": ["sms1", "nope"]})
    assert 3 <= batch["predictions"][0]["features_age_seconds"] < 10
    assert "features_age_seconds" not in batch["predictions"][1]


def test_sms_to_prediction_older_than_the_limit_returns_409(
    serving_settings: ModelServingSettings, fake_model: FakeModel, app_stores: Stores
) -> None:
    settings = serving_settings.model_copy(update={"max_feature_age_seconds": {"v1": 60.0}})
    reader = FakeReader({"sms1": {"a": 1.0, "b": 0.0, "c": 0.0}}, age=timedelta(seconds=90))
    app = create_app(settings, models=[fake_model], stores=app_stores, feature_reader=reader)
    with TestClient(app) as stale_client:
        status, body = post(stale_client, "sms_to_prediction", {"sms_id": "sms1"})
        assert status == 409
        assert body["detail"]["max_feature_age_seconds"] == 60
        assert 90 <= body["detail"]["features_age_seconds"] < 100
        assert "limit is 60 s" in body["detail"]["msg"]
        assert post(stale_client, "sms_to_prediction_batch", {"sms_ids": ["sms1"]})[0] == 409
        assert 'spamops_feature_age_seconds_bucket{le="3600.0",version="v1"}' in stale_client.get("/metrics").text


def test_sms_to_prediction_unknown_id_returns_404(client: TestClient) -> None:
    status, body = post(client, "sms_to_prediction", {"sms_id": "missing"})
    assert status == 404
    assert body == {"detail": "sms_id 'missing' has no sms_features1 features online"}


def test_sms_to_prediction_sees_features_changed_online(client: TestClient, fake_reader: FakeReader) -> None:
    _, before = post(client, "sms_to_prediction", {"sms_id": "sms2"})
    fake_reader.rows["sms2"] = {"a": 1.0, "b": 9.0, "c": 0.0}
    _, after = post(client, "sms_to_prediction", {"sms_id": "sms2"})
    assert after["prediction"]["spam"] > before["prediction"]["spam"]
    assert after["from_cache"] is False


def test_text_batch_predicts_misses_in_one_call(client: TestClient, fake_model: FakeModel) -> None:
    post(client, "text_to_prediction", {"text": "cached!"})
    fake_model.predict_calls.clear()
    status, body = post(client, "text_to_prediction_batch", {"texts": ["a", "cached!", "b!!", "c"]})
    assert status == 200
    assert [p["from_cache"] for p in body["predictions"]] == [False, True, False, False]
    assert fake_model.predict_calls == [3]
    for item in body["predictions"]:
        assert_prediction(item)


def test_text_batch_matches_single_predictions(client: TestClient) -> None:
    texts = ["one!", "two!!!", "three"]
    _, batch = post(client, "text_to_prediction_batch", {"texts": texts, "skip_cache": True})
    singles = [post(client, "text_to_prediction", {"text": t, "skip_cache": True})[1] for t in texts]
    assert [b["prediction"] for b in batch["predictions"]] == [s["prediction"] for s in singles]


def test_features_batch_predicts_in_one_call(client: TestClient, fake_model: FakeModel) -> None:
    status, body = post(client, "features_to_prediction_batch", {"features": [[1, 2, 3], [4, 5, 6]]})
    assert status == 200 and len(body["predictions"]) == 2
    assert fake_model.predict_calls == [2]


def test_sms_batch_marks_unknown_ids(client: TestClient, fake_model: FakeModel) -> None:
    status, body = post(client, "sms_to_prediction_batch", {"sms_ids": ["sms1", "nope", "sms2"]})
    assert status == 200
    assert [(p["sms_id"], p["found"]) for p in body["predictions"]] == [("sms1", True), ("nope", False), ("sms2", True)]
    assert "prediction" not in body["predictions"][1]
    assert fake_model.predict_calls == [2]


# --- bad input: always 4xx with a JSON detail, never 500 -----------------------------------------


@pytest.mark.parametrize("endpoint", ["text_to_features", "text_to_prediction"])
@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_text_empty_or_whitespace_returns_422(client: TestClient, endpoint: str, text: str) -> None:
    status, body = post(client, endpoint, {"text": text})
    assert status == 422
    assert body == invalid("text must not be empty or whitespace-only")


def test_text_over_limit_returns_422(client: TestClient) -> None:
    status, body = post(client, "text_to_prediction", {"text": "x" * 101})  # limit is 100 in the fixture
    assert status == 422
    assert body == invalid("text is longer than 100 characters (101)")


def test_text_at_limit_is_accepted(client: TestClient) -> None:
    assert post(client, "text_to_prediction", {"text": "x" * 100})[0] == 200


@pytest.mark.parametrize(("endpoint", "body", "loc"), [
    ("text_to_prediction", b'{"text": "a\\ud800b"}', ["body", "text"]),
    ("sms_to_prediction", b'{"sms_id": "\\ud800"}', ["body", "sms_id"]),
    ("sms_to_prediction_batch", b'{"sms_ids": ["ok", "\\udfff"]}', ["body", "sms_ids", 1]),
])
def test_lone_surrogate_returns_422_naming_where(client: TestClient, endpoint: str, body: bytes, loc: list) -> None:
    response = client.post(f"{BASE}/{endpoint}", content=body, headers=JSON)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [loc]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"text": 123}, "string_type"),
        ({"text": None}, "string_type"),
        ({}, "missing"),
        ({"features": [1, 2, 3]}, "missing"),
    ],
)
def test_text_wrong_type_or_missing_returns_422(client: TestClient, body: dict, fragment: str) -> None:
    status, detail = post(client, "text_to_prediction", body)
    assert status == 422
    assert detail["detail"][0]["type"] == fragment
    assert detail["detail"][0]["loc"][:2] == ["body", "text"]


@pytest.mark.parametrize(
    ("features", "detail"),
    [
        ([1, 2], "model v1 expects 3 features, got 2"),
        ([1, 2, 3, 4], "model v1 expects 3 features, got 4"),
        (["a", 2, 3], "features[0] must be a number"),
        ([1, True, 3], "features[1] must be a number"),
        ([1, 2, None], "features[2] must be a number"),
    ],
)
def test_features_invalid_returns_422(client: TestClient, features: list, detail: str) -> None:
    status, body = post(client, "features_to_prediction", {"features": features})
    assert (status, body) == (422, invalid(detail))


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"features": [NaN, 1, 2]}', "features[0] must be finite, got nan"),
        (b'{"features": [1, Infinity, 2]}', "features[1] must be finite, got inf"),
        (b'{"features": [1, 2, -Infinity]}', "features[2] must be finite, got -inf"),
        (b'{"features": [1, 2, 1e400]}', "features[2] must be finite, got inf"),
    ],
)
def test_features_non_finite_raw_json_returns_422(client: TestClient, raw: bytes, detail: str) -> None:
    response = client.post(f"{BASE}/features_to_prediction", content=raw, headers=JSON)
    assert response.status_code == 422
    assert response.json() == invalid(detail)


def test_features_nan_outside_list_returns_422_not_500(client: TestClient) -> None:
    response = client.post(f"{BASE}/features_to_prediction", content=b'{"features": NaN}', headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "list_type"


@pytest.mark.parametrize("raw", [b'{"text": "hi"', b"not json", b"", b"[1, 2]", b'"text"'])
def test_malformed_json_returns_422(client: TestClient, raw: bytes) -> None:
    response = client.post(f"{BASE}/text_to_prediction", content=raw, headers=JSON)
    assert response.status_code == 422
    assert "detail" in response.json()


def test_unknown_version_returns_404_naming_served_versions(client: TestClient) -> None:
    response = client.post("/model/v9/text_to_prediction", json={"text": "hi"})
    assert response.status_code == 404
    assert response.json() == {"detail": "unknown model version 'v9'; serving: v1"}


def test_unknown_endpoint_returns_404(client: TestClient) -> None:
    response = client.post(f"{BASE}/predict_everything", json={})
    assert response.status_code == 404
    assert response.json() == {"detail": "model v1 has no endpoint 'predict_everything'"}


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("text_to_prediction_batch", {"texts": ["a"] * 9}, "texts"),
        ("sms_to_prediction_batch", {"sms_ids": ["sms1"] * 9}, "sms_ids"),
        ("features_to_prediction_batch", {"features": [[1, 2, 3]] * 9}, "features"),
    ],
)
def test_oversized_batch_returns_413(client: TestClient, endpoint: str, body: dict, field: str) -> None:
    status, detail = post(client, endpoint, body)  # limit is 8 in the fixture
    assert (status, detail) == (413, {"detail": f"{field} holds 9 items; the limit is 8"})


@pytest.mark.parametrize(
    ("endpoint", "body", "detail"),
    [
        ("text_to_prediction_batch", {"texts": []}, "texts must not be empty"),
        ("text_to_prediction_batch", {"texts": ["ok", " "]}, "texts[1] must not be empty or whitespace-only"),
        ("features_to_prediction_batch", {"features": [[1, 2, 3], [1]]}, "row 1: model v1 expects 3 features, got 1"),
        ("sms_to_prediction_batch", {"sms_ids": []}, "sms_ids must not be empty"),
    ],
)
def test_bad_batch_items_return_422(client: TestClient, endpoint: str, body: dict, detail: str) -> None:
    assert post(client, endpoint, body) == (422, invalid(detail))


def test_oversized_body_returns_413(client: TestClient) -> None:
    huge = b'{"text": "' + b"x" * 5_000_000 + b'"}'
    response = client.post(f"{BASE}/text_to_prediction", content=huge, headers=JSON)
    assert response.status_code == 413


# --- cache ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("text_to_prediction", {"text": "again!"}),
        ("text_to_features", {"text": "again!"}),
        ("features_to_prediction", {"features": [1, 2, 3]}),
        ("sms_to_prediction", {"sms_id": "sms1"}),
    ],
)
def test_second_call_is_from_cache(client: TestClient, endpoint: str, body: dict) -> None:
    first, second = post(client, endpoint, body)[1], post(client, endpoint, body)[1]
    assert (first["from_cache"], second["from_cache"]) == (False, True)
    varying = {"from_cache", "features_age_seconds"}  # the age grows between the two calls
    assert {k: v for k, v in first.items() if k not in varying} == {
        k: v for k, v in second.items() if k not in varying
    }


def test_skip_cache_bypasses_reads(client: TestClient, fake_model: FakeModel) -> None:
    post(client, "text_to_prediction", {"text": "skip me"})
    _, body = post(client, "text_to_prediction", {"text": "skip me", "skip_cache": True})
    assert body["from_cache"] is False
    assert fake_model.predict_calls == [1, 1]
    assert post(client, "text_to_prediction", {"text": "skip me", "skip_cache": False})[1]["from_cache"] is True


def test_integral_and_float_features_share_a_cache_entry(client: TestClient) -> None:
    post(client, "features_to_prediction", {"features": [1, 2, 3]})
    assert post(client, "features_to_prediction", {"features": [1.0, 2.0, 3.0]})[1]["from_cache"] is True


def test_cache_hit_from_persisted_layer(client: TestClient, app_stores: Stores, fake_model: FakeModel) -> None:
    post(client, "text_to_prediction", {"text": "persist me"})
    client.app.state.serving.writer.flush()
    client.app.state.serving.memory._cache.clear()  # force the persisted layer
    assert post(client, "text_to_prediction", {"text": "persist me"})[1]["from_cache"] is True
    assert fake_model.predict_calls == [1]


def test_failing_background_writes_do_not_fail_requests(client: TestClient, app_stores: Stores) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    app_stores.prediction_cache.put = broken  # type: ignore[method-assign]
    app_stores.call_log.append = broken  # type: ignore[method-assign]
    for _ in range(3):
        status, body = post(client, "text_to_prediction", {"text": "still fine", "skip_cache": True})
        assert status == 200
        assert_prediction(body)
    client.app.state.serving.writer.flush()
    metrics = client.get("/metrics").text
    assert 'spamops_background_failures_total{task="call_log_append"}' in metrics


def test_failing_cache_read_is_a_miss(client: TestClient, app_stores: Stores, fake_model: FakeModel) -> None:
    def broken(key: object) -> None:
        raise RuntimeError("db gone")

    app_stores.prediction_cache.get = broken  # type: ignore[method-assign]
    status, body = post(client, "text_to_prediction", {"text": "new text"})
    assert status == 200 and body["from_cache"] is False
    assert fake_model.predict_calls == [1]
    assert 'layer="store",result="error"}' in client.get("/metrics").text


# --- call log ------------------------------------------------------------------------------------


def test_recent_call_log_is_a_newest_first_list_of_the_callers_own_calls(client: TestClient) -> None:
    for text in ("first", "second", "third"):
        post(client, "text_to_prediction", {"text": text}, **ALICE)
    post(client, "text_to_prediction", {"text": "bob's"}, **BOB)
    post(client, "text_to_prediction", {"text": "anonymous"})
    response = client.get(f"{BASE}/recent_call_log", headers=ALICE)
    calls = response.json()
    assert (response.headers["x-caller"], response.headers["x-model-version"]) == ("alice", "v1")
    assert [c["input"]["text"] for c in calls] == [text_digest(t) for t in ("third", "second", "first")]
    assert all(c["endpoint"] == "text_to_prediction" for c in calls)
    times = [c["called_at"] for c in calls]
    assert times == sorted(times, reverse=True)
    assert [c["input"]["text"] for c in client.get(f"{BASE}/recent_call_log", headers=BOB).json()] == [
        text_digest("bob's")
    ]


def test_recent_call_log_needs_a_key(client: TestClient) -> None:
    assert client.get(f"{BASE}/recent_call_log").status_code == 401
    assert client.get(f"{BASE}/recent_call_log", headers={"X-API-Key": "wrong"}).status_code == 401


def test_forged_identity_headers_change_nothing(client: TestClient, app_stores: Stores) -> None:
    forged = {"X-Caller-Id": "alice", "X-Forwarded-For": "10.9.8.7"}
    post(client, "text_to_prediction", {"text": "who am i"}, **forged)
    assert client.get(f"{BASE}/recent_call_log", headers=ALICE).json() == []
    client.app.state.serving.writer.flush()
    since = datetime(2000, 1, 1, tzinfo=UTC)
    assert len(app_stores.call_log.recent("addr:testclient", "v1", since=since, limit=5)) == 1


def test_recent_call_log_is_bounded(client: TestClient) -> None:
    for i in range(7):
        post(client, "text_to_features", {"text": f"t{i}"}, **ALICE)
    assert len(client.get(f"{BASE}/recent_call_log", headers=ALICE).json()) == 5  # settings max
    assert len(client.get(f"{BASE}/recent_call_log?limit=2", headers=ALICE).json()) == 2
    assert client.get(f"{BASE}/recent_call_log?limit=0", headers=ALICE).status_code == 422
    assert client.get(f"{BASE}/recent_call_log?limit=abc", headers=ALICE).status_code == 422


def test_call_log_stores_texts_as_digest_and_length(client: TestClient, app_stores: Stores) -> None:
    post(client, "text_to_prediction_batch", {"texts": ["your code is 123456", "hi"]})
    client.app.state.serving.writer.flush()
    [entry] = app_stores.call_log.recent("addr:testclient", "v1", since=datetime(2000, 1, 1, tzinfo=UTC), limit=5)
    assert "123456" not in entry.input_json
    assert json.loads(entry.input_json) == {"texts": [text_digest("your code is 123456"), text_digest("hi")]}
    assert text_digest("hi")["length"] == 2


def test_call_log_raw_inputs_setting_keeps_texts(
    serving_settings: ModelServingSettings, fake_model: FakeModel, fake_reader: FakeReader, app_stores: Stores
) -> None:
    settings = serving_settings.model_copy(update={"call_log_raw_inputs": True})
    app = create_app(settings, models=[fake_model], stores=app_stores, feature_reader=fake_reader)
    with TestClient(app) as raw_client:
        post(raw_client, "text_to_prediction", {"text": "plain"}, **ALICE)
        assert raw_client.get(f"{BASE}/recent_call_log", headers=ALICE).json()[0]["input"] == {"text": "plain"}


def test_over_the_rate_limit_returns_429_with_retry_after(
    serving_settings: ModelServingSettings, fake_model: FakeModel, fake_reader: FakeReader, app_stores: Stores
) -> None:
    settings = serving_settings.model_copy(update={"rate_limit_anonymous": 3, "rate_limit_window_seconds": 30.0})
    app = create_app(settings, models=[fake_model], stores=app_stores, feature_reader=fake_reader)
    with TestClient(app) as limited:
        assert [post(limited, "text_to_prediction", {"text": "hi"})[0] for _ in range(3)] == [200] * 3
        response = limited.post(f"{BASE}/text_to_prediction", json={"text": "hi"})
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= 30
        assert response.json() == {"detail": "caller addr:testclient is over its limit of 3 requests per 30 s for v1"}
        assert post(limited, "text_to_prediction", {"text": "hi"}, **ALICE)[0] == 200  # a key is its own caller


# --- ops -----------------------------------------------------------------------------------------


def test_request_id_is_echoed_or_created(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert len(client.get("/health").headers["x-request-id"]) == 32
    assert len(client.get("/health", headers={"X-Request-ID": "bad id\x7f"}).headers["x-request-id"]) == 32


def test_health_and_ready(client: TestClient, fake_reader: FakeReader) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "models": "ok",
        "stores": "ok",
        "feature_store": "ok",
    }
    fake_reader.healthy = False
    not_ready = client.get("/ready")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["feature_store"] == "failed: ConnectionError"


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    post(client, "text_to_prediction", {"text": "metric me"})
    post(client, "text_to_prediction", {"text": "metric me"})
    metrics = client.get("/metrics").text
    assert 'route="/model/v1/text_to_prediction"' in metrics
    assert 'spamops_cache_lookups_total{cache="prediction",layer="memory",result="hit"}' in metrics
    assert "spamops_model_predict_duration_seconds_bucket" in metrics
    assert 'spamops_model_predict_rows_bucket{le="1.0",version="v1"}' in metrics
