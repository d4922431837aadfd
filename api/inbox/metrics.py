"""Inbox metrics (HTTP metrics are shared, in api.common.metrics)."""

from prometheus_client import Counter, Gauge

MESSAGES = Counter(
    "spamops_inbox_messages_total",
    "Messages received, by outcome: pushed (201), queued (202), rejected (stored nowhere)",
    ["outcome"],
)
PUSHED_FROM_QUEUE = Counter("spamops_inbox_pushed_from_queue_total", "Queued messages pushed later by the retrier")
RETRIES = Counter("spamops_inbox_push_retries_total", "Retrier push attempts, by result", ["result"])
DROPPED = Counter(
    "spamops_inbox_push_dropped_total", "Queued messages given up because model serving rejected them (4xx)"
)
QUEUE_DEPTH = Gauge("spamops_inbox_retry_queue_depth", "Messages stored but waiting for their feature push")
OFFLINE_PENDING = Gauge("spamops_inbox_offline_rows_pending", "Feature rows buffered for the next offline part file")
