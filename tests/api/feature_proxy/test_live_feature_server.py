"""The proxy in front of a real `feast serve` over the session's materialized repository."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.feature_proxy.main import create_app
from api.feature_proxy.settings import FeatureProxySettings
from contract.feature_store import LABEL_FIELD, V1_FEATURE_NAMES, V2_FIELD, V2_LENGTH
from tests.api.feature_proxy.conftest import AUTH, KEYS

pytestmark = pytest.mark.slow
PATH = "/get-online-features"


@pytest.fixture(scope="module")
def live_proxy(live_feature_server_url: str) -> Iterator[TestClient]:
    settings = FeatureProxySettings(feature_server_url=live_feature_server_url, proxy_timeout_seconds=10.0,
                                    spamops_api_keys=KEYS)
    with TestClient(create_app(settings), raise_server_exceptions=False, headers=AUTH) as client:
        yield client


def column(answer: dict[str, Any], name: str) -> dict[str, Any]:
    """Feast answers column-wise: metadata.feature_names[i] names results[i]."""
    return answer["results"][answer["metadata"]["feature_names"].index(name)]


def test_live_sms_features_2_returns_token_ids_for_known_id(live_proxy: TestClient, known_sms_id: str) -> None:
    response = live_proxy.post(PATH, json={"feature_service": "sms_features_2", "entities": {"sms_id": [known_sms_id]}})
    assert response.status_code == 200, response.text
    features = column(response.json(), V2_FIELD)
    assert features["statuses"] == ["PRESENT"]
    [ids] = features["values"]
    assert len(ids) == V2_LENGTH
    assert all(isinstance(token, int) for token in ids)


def test_live_sms_features_1_returns_nine_named_values(live_proxy: TestClient, known_sms_id: str) -> None:
    response = live_proxy.post(PATH, json={"feature_service": "sms_features_1", "entities": {"sms_id": [known_sms_id]}})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(V1_FEATURE_NAMES) <= set(answer["metadata"]["feature_names"])
    assert LABEL_FIELD not in answer["metadata"]["feature_names"]
    assert all(column(answer, name)["statuses"] == ["PRESENT"] for name in V1_FEATURE_NAMES)


def test_live_unknown_id_is_forwarded_with_status_not_found(live_proxy: TestClient) -> None:
    response = live_proxy.post(PATH, json={"feature_service": "sms_features_2", "entities": {"sms_id": ["nope"]}})
    assert response.status_code == 200
    assert column(response.json(), V2_FIELD)["statuses"] == ["NOT_FOUND"]


def test_live_labeled_sms_1_is_refused_although_feast_serves_it(
    live_proxy: TestClient, live_feature_server_url: str, known_sms_id: str
) -> None:
    body = {"feature_service": "labeled_sms_1", "entities": {"sms_id": [known_sms_id]}}
    # Straight to Feast the labels come back: the proxy, not Feast, is what keeps them private.
    direct = httpx.post(live_feature_server_url + PATH, json=body, timeout=10.0)
    assert direct.status_code == 200
    assert column(direct.json(), LABEL_FIELD)["statuses"] == ["PRESENT"]

    response = live_proxy.post(PATH, json=body)
    assert response.status_code == 403
    assert "labeled_sms_1" in response.json()["detail"]
    raw_body = {"features": [f"sms_labels:{LABEL_FIELD}"], "entities": {"sms_id": [known_sms_id]}}
    raw = live_proxy.post(PATH, json=raw_body)
    assert raw.status_code == 403


def test_live_ready_checks_feature_server(live_proxy: TestClient) -> None:
    response = live_proxy.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"feature_server": "ok"}
