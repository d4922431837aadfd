"""Two inbox apps sharing batches (INGEST_SHARE_BATCHES), as the topology's workers do, against one set of fake
upstreams: the second app's messages run in the first's batches, and come back with the first's outcome or error,
so a failing upstream is called once per message, not once in each worker."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.inbox.main import create_app
from api.inbox.settings import InboxSettings
from tests.api.errors import invalid
from tests.api.inbox.conftest import AUTH, FakeUpstreams

MESSAGE = {"recipient_id": "fiona", "sender_id": "+44 7700 900123", "sms_text": "WINNER!! Call 09061701461 now"}


@pytest.fixture
def workers(inbox_settings: InboxSettings) -> Iterator[tuple[TestClient, TestClient]]:
    """The leader (it ran the first batch) and a follower."""
    settings = inbox_settings.model_copy(update={"ingest_share_batches": True})
    with TestClient(create_app(settings)) as leader, TestClient(create_app(settings)) as follower:
        assert _post(leader, key="first")[0] == 201
        assert leader.app.state.pipeline.peers.leading  # type: ignore[attr-defined]
        yield leader, follower


def _post(client: TestClient, key: str, **overrides: str) -> tuple[int, dict]:
    response = client.post("/sms", json={**MESSAGE, **overrides}, headers={**AUTH, "Idempotency-Key": key})
    return response.status_code, response.json()


def test_a_follower_s_message_is_stored_and_pushed_once(
    workers: tuple[TestClient, TestClient], upstreams: FakeUpstreams,
) -> None:
    _, follower = workers
    status, body = _post(follower, key="second")
    assert status == 201 and body["reason"] == "stored and features pushed"
    assert not follower.app.state.pipeline.peers.leading  # type: ignore[attr-defined]
    assert len(upstreams.messages) == 2 and len(upstreams.store_calls) == 2
    assert upstreams.pushed_ids("online").count(body["sms_id"]) == 1


def test_an_upstream_failure_at_the_leader_is_the_follower_s_answer(
    workers: tuple[TestClient, TestClient], upstreams: FakeUpstreams, inbox_settings: InboxSettings,
) -> None:
    _, follower = workers
    upstreams.user_data_status = 503
    calls_before = len(upstreams.store_calls)
    status, body = _post(follower, key="failing")
    assert status == 502 and "answered" in body["detail"]  # as without a leader (test_routes)
    assert len(upstreams.store_calls) - calls_before == inbox_settings.upstream_attempts  # not again in the follower


def test_a_reused_key_through_the_follower_is_422(workers: tuple[TestClient, TestClient]) -> None:
    _, follower = workers
    status, body = _post(follower, key="first", sms_text="something else")
    assert status == 422
    assert body == invalid("Idempotency-Key was already used for a different message", ("header", "Idempotency-Key"))
