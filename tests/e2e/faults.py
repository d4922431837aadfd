"""The write path's crash test, shared by the SQLite and the Cassandra end-to-end modules.

16 clients post 300 messages, each with its own Idempotency-Key, and retry every failed POST (a
transport error or a 5xx) with the same key, as a telco webhook does. Partway through, one service
is SIGKILLed as a whole process group, or only the inbox's leading worker is, and nobody restarts it by
hand: the supervisor (or the worker's parent) does. Within
60 s of the last answer every message must be in user-data exactly once, online, and offline
exactly once.
"""

import itertools
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd

from tests.e2e.checks import eventually, stored_messages
from tests.e2e.platform import API_KEY, Platform

MESSAGES = 300
CLIENTS = 16
KILL_AFTER = 80  # answered messages before the kill
ANSWER_DEADLINE = 90.0  # seconds a client keeps retrying one message
# A victim that is one process, not a service: the inbox worker leading the batches the others send it.
INBOX_LEADER = "inbox_leader"


def post_until_answered(client: httpx.Client, url: str, body: dict, key: str) -> httpx.Response:
    headers = {"X-API-Key": API_KEY, "Idempotency-Key": key}
    deadline = time.monotonic() + ANSWER_DEADLINE
    while True:
        try:
            response = client.post(url, json=body, headers=headers, timeout=10)
            if response.status_code < 500:
                return response
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"message {key} was never answered"
        time.sleep(0.2)


def offline_rows(platform: Platform, ids: set[str]) -> pd.Series:
    """The rows of `ids` in the offline source, read as a bare Parquet reader would (every part file)."""
    while True:
        try:
            frame = pd.read_parquet(platform.offline_dir(), columns=["sms_id"])
        except (FileNotFoundError, OSError):  # a compaction removed a part between listing and reading
            continue
        return frame.loc[frame["sms_id"].isin(ids), "sms_id"]


def exactly_once(platform: Platform, ids: set[str]) -> bool:
    counts = offline_rows(platform, ids).value_counts()
    return set(counts.index) == ids and counts.max() == 1


def check_crash_recovery(platform: Platform, victim: str) -> None:
    recipient = f"crash-{victim}-{uuid.uuid4().hex[:6]}"
    url = platform.url("inbox") + "/sms"
    answered = itertools.count(1)
    killed = threading.Event()

    def one(i: int, client: httpx.Client) -> tuple[int, str]:
        body = {"recipient_id": recipient, "sender_id": f"sender-{i}", "sms_text": f"crash test message {i}"}
        response = post_until_answered(client, url, body, key=f"{recipient}-{i}")
        if next(answered) == KILL_AFTER and not killed.is_set():
            killed.set()
            if victim == INBOX_LEADER:
                platform.kill_inbox_leader()
            else:
                platform.kill(victim)
        return response.status_code, response.json()["sms_id"]

    with httpx.Client(limits=httpx.Limits(max_connections=CLIENTS)) as client, ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda i: one(i, client), range(MESSAGES)))
    assert killed.is_set()
    assert {status for status, _ in results} <= {201, 202}, results
    ids = {sms_id for _, sms_id in results}
    assert len(ids) == MESSAGES, "two messages were answered with one sms_id"

    stored = stored_messages(platform, recipient)
    assert len(stored) == MESSAGES, f"{len(stored)} stored for {MESSAGES} messages"
    assert {item["sms_id"] for item in stored} == ids
    eventually(lambda: all(v is not None for v in platform.online_features(sorted(ids)).values()),
               timeout=60, what=f"all {MESSAGES} online after killing {victim}")
    # Exactly once as any reader of the directory sees it, once a compaction in progress has finished.
    eventually(lambda: exactly_once(platform, ids), timeout=60,
               what=f"all {MESSAGES} offline exactly once after killing {victim}")
