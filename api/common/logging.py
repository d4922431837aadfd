"""Structured (JSON-lines) logging; every record carries the current request id."""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# Attributes every LogRecord has; anything else was passed via `extra=` and is emitted as a field.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str) -> None:
    """Idempotent: replaces our handler on the root logger instead of stacking a new one per app."""
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_spamops", False)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._spamops = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # An access log per request would bypass LOGS_FRACTION sampling (only tests run aiohttp servers).
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
