"""Model-serving metrics (HTTP and cache metrics are shared, in api.common.metrics)."""

from prometheus_client import Histogram

from api.common.metrics import LATENCY_BUCKETS

PREDICT_LATENCY = Histogram(
    "spamops_model_predict_duration_seconds",
    "predict_proba latency by model version and call kind (single row or batch)",
    ["version", "kind"],
    buckets=LATENCY_BUCKETS,
)
# How well dynamic batching (batching.py) and the batch routes fill each predict call.
PREDICT_ROWS = Histogram(
    "spamops_model_predict_rows",
    "Rows per predict_proba call by model version",
    ["version"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
# How old the online features behind each sms_to_prediction were (issue 13 §2); buckets from 1 s to 30 days.
FEATURE_AGE = Histogram(
    "spamops_feature_age_seconds",
    "Age of the online features used for a prediction, by model version",
    ["version"],
    buckets=(1, 10, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400),
)
