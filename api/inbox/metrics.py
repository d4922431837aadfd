"""Inbox metrics (HTTP metrics are shared, in api.common.metrics)."""

from prometheus_client import Counter, Histogram

MESSAGES = Counter(
    "spamops_inbox_messages_total",
    "Messages received, by outcome: pushed (201), queued (202, push pending), rejected (stored nowhere)",
    ["outcome"],
)
BATCH_SIZE = Histogram(
    "spamops_inbox_batch_size", "Messages per ingest batch (one store call, one features call)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
PUSH_SIZE = Histogram(
    "spamops_inbox_push_size", "Rows per push to the feature server, by target store (online, offline)",
    ["target"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
RECOVERED = Counter("spamops_inbox_recovered_total", "Pending pushes completed by the recovery loop")
RECOVERY_RUNS = Counter("spamops_inbox_recovery_runs_total", "Recovery loop passes, by result", ["result"])
DROPPED = Counter(
    "spamops_inbox_push_dropped_total", "Pending messages given up because model serving rejects them (4xx)"
)
