"""The call log as model serving writes and reads it: one entry per call, written behind the response.

A text input is stored as its sha256 and length unless CALL_LOG_RAW_INPUTS is on: the log is readable
by the caller for an hour, and inbox traffic carries one-time passcodes (issue 12).
"""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool

from api.common.storage import CallLog, CallLogEntry
from api.common.write_behind import WriteBehind
from api.model_serving.serving import canonical_json


def text_digest(text: str) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "length": len(text)}


def loggable(payload: dict[str, Any]) -> dict[str, Any]:
    """The input with each text replaced by its digest and length."""
    out = dict(payload)
    if "text" in out:
        out["text"] = text_digest(out["text"])
    if "texts" in out:
        out["texts"] = [text_digest(text) for text in out["texts"]]
    return out


class CallRecorder:
    def __init__(self, call_log: CallLog, writer: WriteBehind, *, raw_inputs: bool, window_seconds: int) -> None:
        self.call_log = call_log
        self.writer = writer
        self.raw_inputs = raw_inputs
        self.window_seconds = window_seconds

    def record(self, caller: str, version: str, endpoint: str, payload: dict[str, Any]) -> None:
        """On the event loop, before the response; it only queues the write, so it never blocks."""
        body = canonical_json(payload if self.raw_inputs else loggable(payload))
        entry = CallLogEntry(caller_id=caller, version=version, endpoint=endpoint, input_json=body)
        self.writer.submit("call_log_append", self.call_log.append, entry)

    async def recent(self, caller: str, version: str, *, limit: int) -> list[CallLogEntry]:
        since = datetime.now(UTC) - timedelta(seconds=self.window_seconds)
        return await run_in_threadpool(self._recent_blocking, caller, version, since, limit)

    def _recent_blocking(self, caller: str, version: str, since: datetime, limit: int) -> list[CallLogEntry]:
        self.writer.flush()  # a caller sees its own calls (read-your-writes within this worker)
        return self.call_log.recent(caller, version, since=since, limit=limit)
