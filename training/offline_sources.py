"""Offline sources for Feast: the v1, label and v2 Parquet data, built from the raw CSV.

Names, paths and the Arrow schema are the contract's (contract.feature_store). Timestamps are UTC at
microsecond precision, because DuckDB and Spark reject nanoseconds. Rows of v1 and labels carry a
2019 date and v2 rows a 2020 date, so retrieval at a time freeze is meaningful. v2 lives in a
directory of part files: Feast's FileSource reads every part, and the real-time path appends new
parts instead of rewriting one file (see docs/architecture.md).
"""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from contract.feature_store import (
    ENTITY_KEY,
    FEATURES1,
    FEATURES2,
    LABEL_FIELD,
    LABELS_SOURCE_PATH,
    TIMESTAMP_FIELD,
    TIMESTAMP_TYPE,
    V2_FIELD,
    V2_SCHEMA,
)
from training.features import v1_feature_matrix
from training.tokenizer import SmsTokenizer

V1_TIMESTAMP = datetime(2019, 6, 1, tzinfo=UTC)
V2_TIMESTAMP = datetime(2020, 6, 1, tzinfo=UTC)


def _with_keys(raw: pd.DataFrame, timestamp: datetime) -> pd.DataFrame:
    return pd.DataFrame({ENTITY_KEY: raw["sms_id"].to_numpy(), TIMESTAMP_FIELD: pd.Timestamp(timestamp)})


def v1_frame(raw: pd.DataFrame, timestamp: datetime = V1_TIMESTAMP) -> pd.DataFrame:
    frame = _with_keys(raw, timestamp)
    values = v1_feature_matrix(raw["text"])
    for index, name in enumerate(FEATURES1.fields):
        frame[name] = values[:, index]
    return frame


def labels_frame(raw: pd.DataFrame, timestamp: datetime = V1_TIMESTAMP) -> pd.DataFrame:
    frame = _with_keys(raw, timestamp)
    frame[LABEL_FIELD] = (raw["label"].to_numpy() == "spam").astype(np.int64)
    return frame


def v2_frame(raw: pd.DataFrame, tokenizer: SmsTokenizer, timestamp: datetime = V2_TIMESTAMP) -> pd.DataFrame:
    frame = _with_keys(raw, timestamp)
    frame[V2_FIELD] = list(tokenizer.transform(raw["text"].tolist()).astype(np.int64))
    return frame


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write with microsecond UTC timestamps, atomically (write then rename)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(
        table.schema.get_field_index(TIMESTAMP_FIELD),
        TIMESTAMP_FIELD,
        table[TIMESTAMP_FIELD].cast(TIMESTAMP_TYPE),
    )
    if V2_FIELD in table.column_names:
        table = table.cast(V2_SCHEMA)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def v2_initial_part(repo_dir: Path) -> Path:
    return repo_dir / FEATURES2.source_path / "part-000000-initial.parquet"


def write_v1_and_labels(raw: pd.DataFrame, repo_dir: Path) -> None:
    write_parquet(v1_frame(raw), repo_dir / FEATURES1.source_path)
    write_parquet(labels_frame(raw), repo_dir / LABELS_SOURCE_PATH)


def write_offline_sources(raw: pd.DataFrame, repo_dir: Path, tokenizer: SmsTokenizer) -> None:
    """Every offline source of the repository at `repo_dir`, from the raw messages."""
    write_v1_and_labels(raw, repo_dir)
    write_parquet(v2_frame(raw, tokenizer), v2_initial_part(repo_dir))
