"""Assertions shared by the SQLite and the Cassandra end-to-end modules."""

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import httpx
import pandas as pd

from tests.e2e.platform import AUTH, Platform

SPAM = "WINNER!! You have been selected to receive a £900 prize reward! Call 09061701461 to claim"
T = TypeVar("T")


def send(
    platform: Platform, text: str, *, recipient: str = "fiona", client: httpx.Client | None = None
) -> httpx.Response:
    body = {"recipient_id": recipient, "sender_id": "+44 7700 900123", "sms_text": text}
    return (client or httpx).post(platform.url("inbox") + "/sms", json=body, headers=AUTH,
                                  timeout=30)


def eventually(probe: Callable[[], T | None], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.1)


def offline_ids(platform: Platform) -> pd.Series:
    parts = sorted(platform.offline_dir().glob("part-*.parquet"))
    if not parts:
        return pd.Series([], dtype=str)
    return pd.read_parquet(platform.offline_dir(), columns=["sms_id"])["sms_id"]


def stored_messages(platform: Platform, user: str) -> list[dict]:
    """Every message of the user, from user-data, page by page."""
    items: list[dict] = []
    url: str | None = f"{platform.url('user_data')}/sms/{user}?limit=100"
    while url is not None:
        response = httpx.get(url, headers=AUTH, timeout=10)
        response.raise_for_status()
        items += response.json()
        url = response.links.get("next", {}).get("url")
    return items


def check_message_end_to_end(platform: Platform) -> None:
    """Inbox → user-data → features online (feast serve, proxy) → v3 prediction → offline part file."""
    recipient = f"e2e-{uuid.uuid4().hex[:8]}"
    response = send(platform, SPAM, recipient=recipient)
    assert response.status_code == 201, response.text
    sms_id = response.json()["sms_id"]

    inbox = f"{platform.url('user_data')}/sms/{recipient}"
    assert httpx.get(inbox, timeout=10).status_code == 401  # no key, no inbox
    stored = httpx.get(f"{inbox}/{sms_id}", headers=AUTH, timeout=10)
    assert stored.status_code == 200 and stored.json()["sms_text"] == SPAM
    assert [item["sms_id"] for item in httpx.get(inbox, headers=AUTH, timeout=10).json()] == [sms_id]

    expected = httpx.post(platform.url("model_serving") + "/model/v2/text_to_features", json={"text": SPAM}).json()
    assert platform.online_features([sms_id])[sms_id] == expected["features"]
    if "feature_proxy" in platform.services:
        proxied = httpx.post(platform.url("feature_proxy") + "/get-online-features",
                             json={"feature_service": "sms_features_2", "entities": {"sms_id": [sms_id]}},
                             headers=AUTH, timeout=10)
        assert proxied.status_code == 200, proxied.text
        assert expected["features"] in [result["values"][0] for result in proxied.json()["results"]]

    prediction = httpx.post(platform.url("model_serving") + "/model/v3/sms_to_prediction", json={"sms_id": sms_id},
                            timeout=10)
    assert prediction.status_code == 200, prediction.text
    probabilities = prediction.json()["prediction"]
    assert abs(probabilities["ham"] + probabilities["spam"] - 1.0) < 1e-6
    assert probabilities["spam"] > 0.5, probabilities

    eventually(lambda: sms_id in set(offline_ids(platform)), timeout=10, what="offline row")
