"""Offline sources (Parquet) and the push source that feeds v2 features in real time."""

from feast import FileSource, PushSource

from contract.feature_store import (
    FEATURES1,
    FEATURES2,
    LABELS_SOURCE,
    LABELS_SOURCE_PATH,
    PUSH_SOURCE,
    TIMESTAMP_FIELD,
    FeatureSetContract,
)


def _file_source(name: str, path: str, description: str) -> FileSource:
    return FileSource(name=name, path=path, timestamp_field=TIMESTAMP_FIELD, description=description)


def _feature_source(contract: FeatureSetContract, description: str) -> FileSource:
    return _file_source(contract.source, contract.source_path, description)


sms_features1_source = _feature_source(FEATURES1, "v1 (2019) hand-made text features, one row per message.")
sms_labels_source = _file_source(LABELS_SOURCE, LABELS_SOURCE_PATH, "Ground-truth labels, 1 = spam, 0 = ham.")
# A directory of part files: the real-time path appends parts instead of rewriting one file.
sms_features2_source = _feature_source(FEATURES2, "v2 (2020) token-id vectors, one row per message and push.")

smss2_push = PushSource(
    name=PUSH_SOURCE,
    batch_source=sms_features2_source,
    description="Real-time v2 features pushed by the inbox service.",
)
