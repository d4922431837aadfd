"""Offline sources (Parquet) and the push source that feeds v2 features in real time."""

from feast import FileSource, PushSource

from training.offline_sources import LABELS_SOURCE_PATH, TIMESTAMP_FIELD, V1_SOURCE_PATH, V2_SOURCE_PATH

sms_features1_source = FileSource(
    name="sms_features1_source",
    path=V1_SOURCE_PATH,
    timestamp_field=TIMESTAMP_FIELD,
    description="v1 (2019) hand-made text features, one row per message.",
)

sms_labels_source = FileSource(
    name="sms_labels_source",
    path=LABELS_SOURCE_PATH,
    timestamp_field=TIMESTAMP_FIELD,
    description="Ground-truth labels, 1 = spam, 0 = ham.",
)

# A directory of part files: the real-time path appends parts instead of rewriting one file.
sms_features2_source = FileSource(
    name="sms_features2_source",
    path=V2_SOURCE_PATH,
    timestamp_field=TIMESTAMP_FIELD,
    description="v2 (2020) token-id vectors, one row per message and push.",
)

smss2_push = PushSource(
    name="smss2_push",
    batch_source=sms_features2_source,
    description="Real-time v2 features pushed by the inbox service.",
)
