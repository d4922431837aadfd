"""Pushes through the real `feast serve` on our store subclasses, for the SQLite and the Cassandra profile."""

import itertools
import threading
import time
from datetime import UTC, datetime

import httpx
import pandas as pd

from contract.feature_store import ENTITY_KEY, V2_LENGTH
from tests.feast_ext.checks import live_id_counts
from tests.feast_ext.conftest import Served

PUSH_CLIENTS = 16
PUSH_SECONDS = 10.0
TIMEOUT_SECONDS = 30.0


def push_body(ids: list[str], timestamp: str) -> dict[str, object]:
    features = [[(index + slot) % 20 for slot in range(V2_LENGTH)] for index in range(len(ids))]
    df = {ENTITY_KEY: ids, "event_timestamp": [timestamp] * len(ids), "features": features}
    return {"push_source_name": "smss2_push", "df": df, "to": "online_and_offline"}


def push_concurrently(url: str, *, prefix: str, clients: int, seconds: float) -> tuple[list[str], list[str]]:
    """`clients` threads push 1-row batches for `seconds`; returns the acknowledged ids and the failures."""
    acknowledged: list[str] = []
    failures: list[str] = []
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        with httpx.Client(base_url=url, timeout=TIMEOUT_SECONDS) as http:
            for count in itertools.count():
                if time.monotonic() >= deadline:
                    return
                sms_id = f"{prefix}-{number}-{count}"
                stamp = datetime.now(UTC).isoformat()
                response = http.post("/push", json=push_body([sms_id], stamp))
                (acknowledged if response.status_code == 200 else failures).append(
                    sms_id if response.status_code == 200 else f"{response.status_code} {response.text[:200]}"
                )

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return acknowledged, failures


def online_features(served: Served, ids: list[str]) -> dict[str, object]:
    response = httpx.post(
        served.url + "/get-online-features",
        json={"features": ["sms_features2:features"], "entities": {ENTITY_KEY: ids}},
        timeout=TIMEOUT_SECONDS,
    )
    response.raise_for_status()
    body = response.json()
    names = body["metadata"]["feature_names"]
    column = body["results"][names.index("features")]
    return dict(zip(ids, column["values"], strict=True))


def test_concurrent_pushes_all_succeed_and_land_once_in_both_stores(served: Served) -> None:
    acknowledged, failures = push_concurrently(served.url, prefix="conc", clients=PUSH_CLIENTS, seconds=PUSH_SECONDS)
    assert failures == []
    assert len(acknowledged) > PUSH_CLIENTS
    online = online_features(served, acknowledged)
    assert [sms_id for sms_id, value in online.items() if value is None] == []
    counts = live_id_counts(served.repo)
    assert {sms_id: counts[sms_id] for sms_id in acknowledged} == dict.fromkeys(acknowledged, 1)
    assert sum(count for sms_id, count in counts.items() if sms_id.startswith("conc-")) == len(acknowledged)


def test_tutorial_push_answers_200_and_is_read_back_from_both_stores(served: Served) -> None:
    body = push_body(["tutorial1"], "2021-09-02 00:00:00")  # no offset: read as UTC
    response = httpx.post(served.url + "/push", json=body, timeout=TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    expected = body["df"]["features"][0]  # type: ignore[index]
    assert online_features(served, ["tutorial1"])["tutorial1"] == expected
    entity_df = pd.DataFrame({ENTITY_KEY: ["tutorial1"], "event_timestamp": [datetime(2021, 9, 3, tzinfo=UTC)]})
    historical = served.store().get_historical_features(entity_df=entity_df, features=["sms_features2:features"])
    assert list(historical.to_df()["features"].iloc[0]) == expected
    before = served.store().get_historical_features(
        entity_df=entity_df.assign(event_timestamp=datetime(2021, 9, 1, 23, 59, tzinfo=UTC)),
        features=["sms_features2:features"],
    )
    assert before.to_df()["features"].isna().all()  # 00:00 UTC, not local time: not yet there at 23:59 UTC
