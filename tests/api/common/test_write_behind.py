"""The write-behind thread: runs writes in order, survives failures, flushes on demand."""

import logging

import pytest

from api.common.write_behind import WriteBehind


def test_runs_writes_in_order_and_flushes() -> None:
    seen: list[int] = []
    writer = WriteBehind("test")
    for i in range(100):
        writer.submit("append", seen.append, i)
    writer.flush()
    assert seen == list(range(100))
    writer.close()


def test_failing_write_is_logged_and_later_writes_run(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("disk full")

    writer = WriteBehind("test")
    with caplog.at_level(logging.ERROR):
        writer.submit("broken", broken)
        writer.submit("append", seen.append, "after")
        writer.flush()
    assert seen == ["after"]
    assert "background write failed" in caplog.text
    writer.close()


def test_full_queue_drops_instead_of_blocking() -> None:
    import threading

    gate = threading.Event()
    writer = WriteBehind("test", max_pending=1)
    writer.submit("block", gate.wait)  # occupies the thread
    for _ in range(5):
        writer.submit("extra", lambda: None)  # must not block the caller
    gate.set()
    writer.flush()
    writer.close()
