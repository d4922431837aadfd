"""The write-behind thread: runs writes in order, survives failures, flushes on demand."""

import contextlib
import logging
import threading
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

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
    gate = threading.Event()
    writer = WriteBehind("test", max_pending=1)
    writer.submit("block", gate.wait)  # occupies the thread
    for _ in range(5):
        writer.submit("extra", lambda: None)  # must not block the caller
    gate.set()
    writer.flush()
    writer.close()


class RecordingBatch:
    """A `batch` factory that records which writes ran inside which batch."""

    def __init__(self, fail_commit: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail_commit = fail_commit

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        self.batches.append([])
        yield
        if self.fail_commit:
            raise OSError("disk full")


def _hold(writer: WriteBehind) -> threading.Event:
    """Occupy the writer thread until the returned event is set, so that later writes queue up."""
    started, gate = threading.Event(), threading.Event()
    writer.submit("hold", lambda: (started.set(), gate.wait(5)))
    assert started.wait(5)
    return gate


def test_queued_writes_run_together_in_one_batch() -> None:
    batch = RecordingBatch()
    writer = WriteBehind("test", batch=batch)
    gate = _hold(writer)
    for i in range(10):
        writer.submit("append", lambda i=i: batch.batches[-1].append(i))
    gate.set()
    writer.flush()
    assert batch.batches[-1] == list(range(10))
    writer.close()


def test_batches_are_capped_at_max_batch() -> None:
    batch = RecordingBatch()
    writer = WriteBehind("test", batch=batch, max_batch=4)
    gate = _hold(writer)
    for i in range(10):
        writer.submit("append", lambda i=i: batch.batches[-1].append(i))
    gate.set()
    writer.flush()
    assert batch.batches[1:] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    writer.close()


def test_failed_commit_is_logged_and_counted_and_the_thread_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    batch = RecordingBatch(fail_commit=True)
    writer = WriteBehind("test", batch=batch)
    before = REGISTRY.get_sample_value("spamops_background_failures_total", {"task": "commit_test"}) or 0
    with caplog.at_level(logging.ERROR):
        writer.submit("commit_test", lambda: None)
        writer.flush()
    assert "background write batch failed" in caplog.text
    assert REGISTRY.get_sample_value("spamops_background_failures_total", {"task": "commit_test"}) == before + 1
    batch.fail_commit = False
    seen: list[int] = []
    writer.submit("append", seen.append, 1)
    writer.flush()
    assert seen == [1]
    writer.close()


def test_close_runs_the_writes_queued_before_it() -> None:
    seen: list[int] = []
    writer = WriteBehind("test")
    for i in range(50):
        writer.submit("append", seen.append, i)
    writer.close()
    assert seen == list(range(50))
