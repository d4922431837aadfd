"""Feast's local provider, handing pushed rows to online stores that write Arrow (written against Feast 0.67.0).

Every online push (`feast serve` `/push`, `FeatureStore.push`, `write_to_online_store`) ends in the provider's
`ingest_df`, which builds one `EntityKey` and one `Value` proto per value in Python and parses the timestamp
strings with pandas guessing their format: about half of a small `FeatureStore.push` in-process, 10-30 % of
a push's CPU in `feast serve` (docs/benchmarks.md).
This subclass differs there only. When the online store writes Arrow itself (feast_ext.engine.ArrowOnlineWriter,
our SQLite store) and the view is a plain FeatureView without a field mapping, the frame goes to the store as
Arrow, its timestamp strings parsed as the offline store parses them (feast_ext.offline.as_utc: ISO 8601, an
offset converted to UTC, none read as UTC, as Feast's stores read a naive time). Anything else, a timestamp that
is not ISO 8601, or a batch the store declines, takes Feast's path.

Named in feature_store.yaml as `provider: feast_ext.provider.ArrowPushProvider`.
"""

from typing import Any

import pandas as pd
import pyarrow as pa
from feast.feature_view import FeatureView
from feast.infra.passthrough_provider import PassthroughProvider

from feast_ext.engine import ArrowOnlineWriter, write_online
from feast_ext.offline import as_utc

MICROS_UTC = pa.timestamp("us", tz="UTC")


class ArrowPushProvider(PassthroughProvider):
    def ingest_df(self, feature_view: Any, df: pd.DataFrame, field_mapping: dict | None = None) -> None:
        store = self.online_store
        table = _arrow_table(feature_view, df) if not field_mapping and isinstance(store, ArrowOnlineWriter) else None
        if table is None:
            super().ingest_df(feature_view, df, field_mapping)
            return
        write_online(store, self.repo_config, feature_view, table)


def _arrow_table(view: Any, df: pd.DataFrame) -> pa.Table | None:
    """The frame as Arrow with parsed timestamps, or None where only Feast's own conversion is right."""
    source = view.batch_source if type(view) is FeatureView else None
    if source is None or source.field_mapping:
        return None
    timestamps = {source.timestamp_field, source.created_timestamp_column} - {""}
    try:
        return pa.table({str(name): _column(values, name in timestamps) for name, values in df.items()})
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError):  # Feast's path raises its own error
        return None


def _column(values: pd.Series, timestamp: bool) -> pa.Array | pa.ChunkedArray:
    if not pd.api.types.is_object_dtype(values):
        return pa.Array.from_pandas(values)
    if not timestamp:
        return pa.array(values.tolist())
    # Finer than microseconds is truncated, as Feast's conversion truncates it.
    return as_utc(pa.chunked_array([pa.array(values.tolist(), pa.string())]), MICROS_UTC)
