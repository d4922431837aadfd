"""Feast's `file` offline store with append-only, exactly-once offline writes (written against Feast 0.67.0).

Feast's DaskOfflineStore rereads and rewrites the whole Parquet file on every `offline_write_batch`, with
no lock, so concurrent pushes lose rows. This subclass differs in three places:
- `offline_write_batch` appends a new part file to a directory source through the ledger of
  feast_ext/parts.py (durable on return, exactly once per row, compacted in the background). Naive
  timestamps and offset-less strings are read as UTC and cast to the source's Arrow schema.
- `pull_all_from_table_or_query` (what materialization reads) reads the ledger's live parts with
  pyarrow instead of building a Dask graph: materialization spent about half its time in Dask.
- every read registers as a reader in the ledger, so parts merged away meanwhile stay on disk until it
  ends, and retries a few times if a part it listed vanished all the same (a crashed writer's leftover).
"""

import functools
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from feast import FeatureStore
from feast.data_source import DataSource
from feast.feature_view import DUMMY_ENTITY_ID, DUMMY_ENTITY_VAL, FeatureView
from feast.infra.offline_stores.dask import DaskOfflineStore, DaskOfflineStoreConfig, DaskRetrievalJob
from feast.infra.offline_stores.file_source import FileSource
from feast.infra.offline_stores.offline_store import RetrievalJob
from feast.repo_config import RepoConfig
from pydantic import StrictStr

from feast_ext.parts import LedgerSettings, PartLedger, ledger_for

READ_ATTEMPTS = 5
READ_RETRY_SECONDS = 0.05
T = TypeVar("T")


class AppendOnlyFileOfflineStoreConfig(DaskOfflineStoreConfig):
    type: Literal["feast_ext.offline.AppendOnlyFileOfflineStore"] = "feast_ext.offline.AppendOnlyFileOfflineStore"
    ledger_path: StrictStr = "data/offline_ledger.db"
    """SQLite ledger of live part files and recently written row keys, relative to the repository."""
    dedupe_window_seconds: float = 86_400.0
    """A retried push within this time after the first writes nothing again."""
    compaction_fanout: int = 8
    """Parts of one size tier merged into one part of the next tier."""


class ArrowRetrievalJob(DaskRetrievalJob):
    """A DaskRetrievalJob whose evaluation returns an Arrow table: no Dask graph, no pandas round trip."""

    def _to_arrow_internal(self, timeout: int | None = None) -> pa.Table:
        return self.evaluation_function()

    def _to_df_internal(self, timeout: int | None = None) -> pd.DataFrame:
        return self.evaluation_function().to_pandas()


class AppendOnlyFileOfflineStore(DaskOfflineStore):
    def get_table_column_names_and_types_from_data_source(
        self, config: RepoConfig, data_source: DataSource
    ) -> Iterable[tuple[str, str]]:
        # Feast asks this on every push. Its own answer lists the directory and opens a part, which can be
        # one compaction has just removed (a 500 under concurrent pushes); the schema of a part directory
        # never changes, so ours is read once, with retries.
        if isinstance(data_source, FileSource) and (directory := source_path(config, data_source)).is_dir():
            schema = source_schema(directory)
            return list(zip(schema.names, map(str, schema.types), strict=True))
        return super().get_table_column_names_and_types_from_data_source(config, data_source)

    @staticmethod
    def offline_write_batch(
        config: RepoConfig, feature_view: FeatureView, table: pa.Table, progress: Callable[[int], Any] | None
    ) -> None:
        source = feature_view.batch_source
        assert isinstance(source, FileSource)
        directory = source_path(config, source)
        if not directory.is_dir():
            raise ValueError(f"offline writes need a directory of part files; {source.name} is the file {directory}")
        table = conform(table, source_schema(directory), source.timestamp_field)
        reverse_mapping = {target: column for column, target in (source.field_mapping or {}).items()}
        key_columns = [reverse_mapping.get(column.name, column.name) for column in feature_view.entity_columns]
        ledger(config).append(
            directory, feature_view.name, table, key_columns=key_columns, timestamp_column=source.timestamp_field
        )
        if progress:
            progress(table.num_rows)

    @staticmethod
    def get_historical_features(config: RepoConfig, *args: Any, **kwargs: Any) -> RetrievalJob:
        return guarded_job(config, DaskOfflineStore.get_historical_features(config, *args, **kwargs))

    @staticmethod
    def pull_latest_from_table_or_query(config: RepoConfig, *args: Any, **kwargs: Any) -> RetrievalJob:
        return guarded_job(config, DaskOfflineStore.pull_latest_from_table_or_query(config, *args, **kwargs))

    @staticmethod
    def pull_all_from_table_or_query(
        config: RepoConfig,
        data_source: DataSource,
        join_key_columns: list[str],
        feature_name_columns: list[str],
        timestamp_field: str,
        created_timestamp_column: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> RetrievalJob:
        assert isinstance(data_source, FileSource)
        timestamps = [timestamp_field, *([created_timestamp_column] if created_timestamp_column else [])]
        columns = [*join_key_columns, *feature_name_columns, *timestamps] if feature_name_columns else None

        def evaluate() -> pa.Table:
            table = read_source(config, data_source, columns, timestamp_field, start_date, end_date)
            if not join_key_columns:
                table = table.append_column(DUMMY_ENTITY_ID, pa.array([DUMMY_ENTITY_VAL] * table.num_rows))
            return table

        def guarded() -> pa.Table:
            with ledger(config).reading():
                return with_retries(evaluate)

        return ArrowRetrievalJob(
            evaluation_function=guarded,
            full_feature_names=False,
            repo_path=str(config.repo_path),
        )


def compact_directory_sources(store: FeatureStore, progress: Callable[[], Any] = lambda: None) -> dict[str, int]:
    """Compact every directory source of the store's feature views now; returns the live parts of each."""
    parts: dict[str, int] = {}
    for view in store.list_feature_views():
        source = view.batch_source
        if isinstance(source, FileSource) and (directory := source_path(store.config, source)).is_dir():
            store_ledger = ledger(store.config)
            store_ledger.compact(directory)
            parts[str(directory)] = len(store_ledger.live_parts(directory) or [])
            progress()
    return parts


def ledger(config: RepoConfig) -> PartLedger:
    store = config.offline_store
    path = Path(store.ledger_path)
    settings = LedgerSettings(
        path=path if path.is_absolute() else Path(config.repo_path) / path,
        dedupe_window_seconds=store.dedupe_window_seconds,
        compaction_fanout=store.compaction_fanout,
    )
    return ledger_for(settings)


def source_path(config: RepoConfig, source: FileSource) -> Path:
    return Path(FileSource.get_uri_for_file_path(repo_path=config.repo_path, uri=source.file_options.uri))


@functools.cache
def source_schema(directory: Path) -> pa.Schema:
    """The source's Arrow schema, from its parts (stable for the life of a repository)."""
    return with_retries(lambda: ds.dataset(directory, format="parquet").schema.remove_metadata())


def conform(table: pa.Table, schema: pa.Schema, timestamp_field: str) -> pa.Table:
    """Select and cast to `schema`, reading naive timestamps and offset-less strings as UTC."""
    missing = set(schema.names) - set(table.column_names)
    if missing:
        raise ValueError(f"the rows lack the source columns {sorted(missing)}")
    columns = {name: table.column(name) for name in schema.names}
    for field in schema:
        if pa.types.is_timestamp(field.type):
            columns[field.name] = as_utc(columns[field.name], field.type)
    return pa.table(columns).cast(schema)


def as_utc(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = parse_utc(column)
    elif pa.types.is_timestamp(column.type) and column.type.tz is None:
        column = pc.assume_timezone(column, "UTC")
    return pc.cast(column, target, safe=False)  # finer than microseconds is truncated, as the source holds µs


def parse_utc(strings: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO 8601 strings as UTC times: an offset converted, none read as UTC."""
    try:  # every string with an offset: Arrow parses ~8x faster than pandas
        return pc.cast(strings, pa.timestamp("ns", tz="UTC"))
    except pa.ArrowInvalid:  # some without one
        return pa.chunked_array([pa.array(pd.to_datetime(strings.to_pandas(), utc=True, format="ISO8601"))])


def read_source(
    config: RepoConfig,
    source: FileSource,
    columns: list[str] | None,
    timestamp_field: str,
    start: datetime | None,
    end: datetime | None,
) -> pa.Table:
    """The source's rows with start <= timestamp <= end (inclusive both, as Feast's Dask store)."""
    path = source_path(config, source)
    parts = ledger(config).live_parts(path) if path.is_dir() else None
    dataset = ds.dataset([str(part) for part in parts] if parts is not None else str(path), format="parquet")
    time_filter = None
    if start is not None:
        time_filter = ds.field(timestamp_field) >= pa.scalar(utc(start), pa.timestamp("us", tz="UTC"))
    if end is not None:
        below = ds.field(timestamp_field) <= pa.scalar(utc(end), pa.timestamp("us", tz="UTC"))
        time_filter = below if time_filter is None else time_filter & below
    return dataset.to_table(columns=columns, filter=time_filter)


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def with_retries(read: Callable[[], T]) -> T:
    """Run `read`, again if a part it listed vanished (a compaction merged it away meanwhile)."""
    for attempt in range(1, READ_ATTEMPTS):
        try:
            return read()
        except (FileNotFoundError, pa.ArrowInvalid) as error:
            if not vanished_part(error):
                raise
            time.sleep(READ_RETRY_SECONDS * attempt)
    return read()


def vanished_part(error: Exception) -> bool:
    return isinstance(error, FileNotFoundError) or "No such file" in str(error)


def guarded_job(config: RepoConfig, job: RetrievalJob) -> RetrievalJob:
    """Evaluate a Dask job's graph as a registered reader (merged-away parts stay), retrying a vanished part."""
    assert isinstance(job, DaskRetrievalJob)
    evaluate = job.evaluation_function

    def guarded() -> Any:
        with ledger(config).reading():
            return with_retries(lambda: evaluate().persist())

    job.evaluation_function = guarded
    return job
