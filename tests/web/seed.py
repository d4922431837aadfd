"""Fiona's inbox for the browser test: the demo seed, plus her v2 features online.

The messages come from `scripts/init_user_data.py` (the tutorial's sample inboxes: fiona and max, June
2019, one obvious spam each), run against the test's user-data database exactly as the demo runs it.
Features are computed by model serving and pushed online to `feast serve`, as the inbox service does
(online only, so the session's offline sources stay untouched); the test leaves one message without
features on purpose, to exercise the page's fallback to architecture I.
"""

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from api.common.auth import API_KEY_HEADER
from contract.feature_store import ENTITY_KEY, PUSH_SOURCE, TIMESTAMP_FIELD, V2_FIELD
from contract.paths import PROJECT_ROOT

USER = "fiona"
SEED_SCRIPT = PROJECT_ROOT / "scripts" / "init_user_data.py"
# How the test recognises the seed's obvious spam for fiona ("WINNER!! You have been selected ... £900 prize").
SPAM_MARKER = "WINNER!!"


@dataclass(frozen=True)
class SeededSms:
    sms_id: str
    sender_id: str
    sms_text: str
    received_at: datetime


def run_seed_script(env: Mapping[str, str]) -> None:
    """`python scripts/init_user_data.py` with the user-data service's storage settings."""
    result = subprocess.run(
        [sys.executable, str(SEED_SCRIPT)], env=dict(env), capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"seed script failed:\n{result.stdout}\n{result.stderr}"


def fetch_inbox(user_data_url: str, user: str = USER, *, api_key: str) -> list[SeededSms]:
    """The user's messages as user-data serves them (newest first)."""
    response = httpx.get(f"{user_data_url}/sms/{user}", params={"limit": 100}, headers={API_KEY_HEADER: api_key},
                         timeout=10.0)
    response.raise_for_status()
    return [
        SeededSms(
            sms_id=item["sms_id"],
            sender_id=item["sender_id"],
            sms_text=item["sms_text"],
            received_at=datetime.fromisoformat(item["received_at"]),
        )
        for item in response.json()
    ]


def the_spam(inbox: list[SeededSms]) -> SeededSms:
    spam = [sms for sms in inbox if SPAM_MARKER in sms.sms_text]
    assert len(spam) == 1, f"expected one {SPAM_MARKER!r} message in the seed, found {len(spam)}"
    return spam[0]


def push_v2_features(messages: list[SeededSms], *, model_serving_url: str, feature_server_url: str) -> None:
    """text_to_features (v3) per message, then one online push of all rows to `smss2_push`."""
    with httpx.Client(timeout=10.0) as client:
        features = []
        for sms in messages:
            response = client.post(f"{model_serving_url}/model/v3/text_to_features", json={"text": sms.sms_text})
            response.raise_for_status()
            features.append(response.json()["features"])
        now = datetime.now(UTC).isoformat()
        frame = {
            ENTITY_KEY: [sms.sms_id for sms in messages],
            TIMESTAMP_FIELD: [now] * len(messages),
            V2_FIELD: features,
        }
        body = {"push_source_name": PUSH_SOURCE, "df": frame, "to": "online"}
        client.post(f"{feature_server_url}/push", json=body).raise_for_status()
