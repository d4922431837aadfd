"""The inbox page in headless Chromium against the real services: log in, list, check, refresh."""

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from api.common.auth import API_KEY_HEADER
from tests.web.conftest import API_KEY, WebPlatform
from tests.web.inbox_page import InboxPage
from tests.web.seed import USER

pytestmark = pytest.mark.slow
SCREENSHOT_DIR = Path("/tmp")
VERDICT_TEXT = re.compile(r"^(ham|spam) (>99\.9|\d{1,3}\.\d)% · architecture (I|II)")


@pytest.mark.parametrize(
    ("variant", "answered_by"),
    [("I", "I"), ("II", "II"), ("II-proxy-down", "I"), ("II-proxy-hangs", "I")],
    ids=["architecture-I", "architecture-II", "architecture-II-proxy-down", "architecture-II-proxy-hangs"],
)
def test_check_spam_message_shows_spam_with_probability(
    browser: WebDriver, web_platform: WebPlatform, variant: str, answered_by: str
) -> None:
    page = InboxPage(browser, web_platform.web_urls[variant]).open().log_in(USER)
    assert f"architecture {variant.split('-')[0]}" in page.badge()

    verdict = page.check(web_platform.spam_id)
    page.screenshot(SCREENSHOT_DIR / f"spamops_inbox_{variant}.png")

    assert verdict.label == "spam", verdict.text
    assert 0.5 < verdict.probability <= 1.0
    assert verdict.architecture == answered_by
    assert VERDICT_TEXT.match(verdict.text), verdict.text
    assert ("fallback" in verdict.text) == (answered_by != variant.split("-")[0])


def test_login_lists_messages_newest_first(browser: WebDriver, web_platform: WebPlatform) -> None:
    page = InboxPage(browser, web_platform.web_urls["I"]).open().log_in(USER)
    assert page.message_ids() == [sms.sms_id for sms in web_platform.inbox]
    assert page.status() == f"{len(web_platform.inbox)} messages"
    times = [datetime.fromisoformat(value) for value in page.received_times()]
    assert times == sorted(times, reverse=True)
    assert times[0].year == 2019


def test_check_message_without_features_falls_back_to_architecture_i(
    browser: WebDriver, web_platform: WebPlatform
) -> None:
    page = InboxPage(browser, web_platform.web_urls["II"]).open().log_in(USER)
    verdict = page.check(web_platform.without_features_id)
    assert verdict.architecture == "I"
    assert "fallback: no stored features" in verdict.text
    assert verdict.label in {"ham", "spam"}


def test_refresh_shows_a_new_message_first(browser: WebDriver, web_platform: WebPlatform) -> None:
    page = InboxPage(browser, web_platform.web_urls["I"]).open().log_in("refresh-user")
    assert page.message_ids() == []
    assert "No messages" in page.status()
    body = {"sender_id": "max", "sms_text": "See you at the station at 6"}
    created = httpx.post(
        f"{web_platform.user_data_url}/sms/refresh-user", json=body, headers={API_KEY_HEADER: API_KEY}, timeout=10
    )
    assert created.status_code == 201, created.text
    page.refresh()
    assert page.message_ids() == [created.json()["sms_id"]]


def test_unknown_user_sees_an_empty_inbox(browser: WebDriver, web_platform: WebPlatform) -> None:
    page = InboxPage(browser, web_platform.web_urls["II"]).open().log_in(f"nobody-{datetime.now(UTC):%H%M%S}")
    assert page.message_ids() == []
    assert "No messages for nobody-" in page.status()
