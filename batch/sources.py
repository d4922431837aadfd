
"""What a batch run reads: a CSV or Parquet file of texts, or a time slice of one version's offline features.

Both kinds hand out chunks as DataFrames that carry the id column, and turn a chunk into feature rows
through the serving model's own methods (`texts_to_features`, `features_from_online`), so a batch row
gets exactly the features the API would compute for it.
"""

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from api.model_serving.models import Features, SpamModel
from batch.offline_reads import latest_rows
from contract.feature_store import ENTITY_KEY
from training.artifacts import file_sha256

if TYPE_CHECKING:  # importing Feast takes seconds; file scoring never needs it
    from feast import FeatureStore

TABLE_FORMATS = {".csv": "csv", ".parquet": "parquet"}
DEFAULT_ID_COLUMN = ENTITY_KEY
ROW_COLUMN = "row"  # the id of a row when the input has no id column: its 0-based position
# What a file that cannot be read raises: pandas' parser and decode errors are ValueErrors.
READ_ERRORS = (OSError, ValueError, pa.ArrowException)


class BadInput(ValueError):
    """Something the caller asked for cannot be done; the CLI prints it on one line and exits 2."""


def table_format(path: Path, role: str) -> str:
    try:
        return TABLE_FORMATS[path.suffix.lower()]
    except KeyError:
        raise BadInput(f"{role} {path}: unknown extension {path.suffix!r}; use .csv or .parquet") from None


class ChunkSource(Protocol):
    id_column: str

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the input (its content hash and the arguments that shape the output)."""
        ...

    def total_rows(self) -> int | None: ...

    def chunks(self, size: int) -> Iterator[pd.DataFrame]: ...

    def model_input(self, chunk: pd.DataFrame) -> Any:
        """What `feature_rows` needs of a chunk: plain and picklable, since a worker process may compute it."""
        ...

    @staticmethod
    def feature_rows(model: SpamModel, model_input: Any) -> Sequence[Features] | np.ndarray: ...


class FileSource:
    """A CSV or Parquet file with a text column and, optionally, an id column."""

    def __init__(self, path: Path, *, text_column: str, id_column: str | None) -> None:
        self.path = path
        self.format = table_format(path, "input")
        self.text_column = text_column
        columns = self._read("read", self._columns)
        if text_column not in columns:
            raise BadInput(f"input {path} has no column {text_column!r} (it has: {', '.join(columns)})")
        if id_column is not None and id_column not in columns:
            raise BadInput(f"input {path} has no id column {id_column!r} (it has: {', '.join(columns)})")
        if id_column is None and DEFAULT_ID_COLUMN in columns:
            id_column = DEFAULT_ID_COLUMN
        self.input_id_column = id_column
        self.id_column = id_column or ROW_COLUMN

    def _read(self, action: str, function: Any) -> Any:
        try:
            return function()
        except READ_ERRORS as error:
            detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise BadInput(f"cannot {action} input {self.path}: {detail}") from error

    def _columns(self) -> list[str]:
        if self.format == "csv":
            return [str(name) for name in pd.read_csv(self.path, nrows=0).columns]
        schema = pq.read_schema(self.path)
        text_type = schema.field(self.text_column).type if self.text_column in schema.names else pa.string()
        if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)):
            raise BadInput(f"input {self.path}: column {self.text_column!r} holds {text_type}, not text")
        return list(schema.names)

    def _wanted(self) -> list[str]:
        return [self.text_column] + ([self.input_id_column] if self.input_id_column else [])

    def fingerprint(self) -> dict[str, Any]:
        return {
            "input_sha256": self._read("read", lambda: file_sha256(self.path)),
            "text_column": self.text_column,
            "id_column": self.id_column,
        }

    def total_rows(self) -> int | None:
        # A CSV's row count needs a full parse (quoted texts span lines), so its bar counts up instead.
        return pq.ParquetFile(self.path).metadata.num_rows if self.format == "parquet" else None

    def chunks(self, size: int) -> Iterator[pd.DataFrame]:
        frames = self._read("read", lambda: self._frames(size))
        offset = 0
        while (chunk := self._read("parse", lambda: next(frames, None))) is not None:
            chunk = chunk.reset_index(drop=True)
            chunk[self.text_column] = chunk[self.text_column].fillna("")  # a blank field is an empty text
            if self.input_id_column is None:
                chunk[ROW_COLUMN] = range(offset, offset + len(chunk))
            offset += len(chunk)
            yield chunk

    def _frames(self, size: int) -> Iterator[pd.DataFrame]:
        if self.format == "csv":
            # Every value as the string it is ("NA" is a text, not a missing value).
            return iter(pd.read_csv(self.path, usecols=self._wanted(), dtype=str, keep_default_na=False,
                                    chunksize=size))
        batches = pq.ParquetFile(self.path).iter_batches(batch_size=size, columns=self._wanted())
        return (batch.to_pandas() for batch in batches)

    def model_input(self, chunk: pd.DataFrame) -> list[str]:
        return chunk[self.text_column].tolist()

    @staticmethod
    def feature_rows(model: SpamModel, model_input: list[str]) -> np.ndarray:
        return model.texts_to_features(model_input)


def slice_bounds(start: str, end: str) -> tuple[datetime, datetime]:
    """ISO 8601 bounds, both inclusive, UTC unless they carry an offset; a bare --end date means that whole day."""
    first, last = _parse_instant(start, "--start"), _parse_instant(end, "--end")
    if _is_bare_date(end):
        last += timedelta(days=1, microseconds=-1)
    if last < first:
        raise BadInput(f"--end {end} is before --start {start}")
    return first, last


def _is_bare_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _parse_instant(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)  # a bare date reads as its midnight
    except ValueError:
        raise BadInput(f"{option} {text!r} is not an ISO 8601 date or time (e.g. 2020-01-01)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class OfflineSource:
    """The latest row per sms_id of the model's feature view whose event time lies in [start, end].

    Read with `batch.offline_reads.latest_rows`, the read materialization makes.
    """

    id_column = ENTITY_KEY

    def __init__(self, store: "FeatureStore", model: SpamModel, *, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.feature_view = model.feature_view
        self.feature_names = list(model.feature_names)
        self.frame = self._pull(store, self.feature_names)

    def _pull(self, store: "FeatureStore", feature_names: list[str]) -> pd.DataFrame:
        from feast.errors import FeastObjectNotFoundException

        try:
            frame, self.timestamp_field = latest_rows(store, self.feature_view, feature_names,
                                                      start=self.start, end=self.end)
        except FeastObjectNotFoundException as error:
            raise BadInput(f"feature view {self.feature_view!r} is not in the registry; run feast apply") from error
        except OSError as error:
            raise BadInput(f"cannot read the offline source of {self.feature_view!r}: {error}") from error
        # One fixed order, so a resumed run cuts the same chunks.
        return frame.sort_values(ENTITY_KEY, kind="stable").reset_index(drop=True)

    def fingerprint(self) -> dict[str, Any]:
        digest = hashlib.sha256()
        for sms_id, stamp in zip(self.frame[ENTITY_KEY], self.frame[self.timestamp_field], strict=True):
            digest.update(f"{sms_id}\t{pd.Timestamp(stamp).isoformat()}\n".encode())
        return {
            "input_sha256": digest.hexdigest(),
            "feature_view": self.feature_view,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    def total_rows(self) -> int:
        return len(self.frame)

    def chunks(self, size: int) -> Iterator[pd.DataFrame]:
        for offset in range(0, len(self.frame), size):
            yield self.frame.iloc[offset : offset + size].reset_index(drop=True)

    def model_input(self, chunk: pd.DataFrame) -> list[dict[str, Any]]:
        records = chunk[self.feature_names].to_dict("records")
        # Parquet hands out numpy values; the online store, native ones, which is what models validate.
        return [{key: _native(value) for key, value in record.items()} for record in records]

    @staticmethod
    def feature_rows(model: SpamModel, model_input: list[dict[str, Any]]) -> list[Features]:
        return [model.features_from_online(values) for values in model_input]


def _native(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value
