"""A page object for the inbox page, so the browser tests read as user steps."""

import json
from dataclasses import dataclass
from pathlib import Path

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Verdict:
    label: str
    probability: float
    architecture: str
    text: str


class InboxPage:
    def __init__(self, driver: WebDriver, url: str) -> None:
        self.driver = driver
        self.url = url
        self.wait = WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05)

    def open(self) -> "InboxPage":
        self.driver.get(self.url)
        self._until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true", "page ready")
        return self

    def log_in(self, name: str) -> "InboxPage":
        field = self.driver.find_element(By.ID, "user-name")
        field.clear()
        field.send_keys(name)
        self.driver.find_element(By.ID, "login-button").click()
        self._until(lambda _: self.status().endswith("messages") or "No messages" in self.status(), "messages")
        return self

    def status(self) -> str:
        return self.driver.find_element(By.ID, "status").text

    def badge(self) -> str:
        return self.driver.find_element(By.ID, "arch-badge").text

    def messages(self) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, "#messages li.message")

    def message_ids(self) -> list[str]:
        return [item.get_attribute("data-sms-id") or "" for item in self.messages()]

    def received_times(self) -> list[str]:
        return [item.find_element(By.CSS_SELECTOR, "time").get_attribute("datetime") or "" for item in self.messages()]

    def refresh(self) -> None:
        before = self.message_ids()
        self.driver.find_element(By.ID, "refresh-button").click()
        self._until(lambda _: self.message_ids() != before, "refreshed list")

    def check(self, sms_id: str) -> Verdict:
        item = self.driver.find_element(By.CSS_SELECTOR, f'li.message[data-sms-id="{sms_id}"]')
        item.find_element(By.CSS_SELECTOR, ".check-button").click()
        output = item.find_element(By.CSS_SELECTOR, ".verdict")
        self._until(lambda _: output.get_attribute("data-label"), f"verdict for {sms_id}")
        return Verdict(
            label=output.get_attribute("data-label") or "",
            probability=float(output.get_attribute("data-probability") or "nan"),
            architecture=output.get_attribute("data-architecture") or "",
            text=output.text,
        )

    def screenshot(self, path: Path) -> Path:
        self.driver.save_screenshot(str(path))
        return path

    def console(self) -> str:
        return json.dumps(self.driver.get_log("browser"), indent=1)

    def _until(self, condition: object, what: str) -> None:
        try:
            self.wait.until(condition)  # type: ignore[arg-type]
        except TimeoutException as exc:
            raise AssertionError(f"timed out waiting for {what}; browser console:\n{self.console()}") from exc
