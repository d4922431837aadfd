"""Online feature reads for `sms_to_prediction`: a dependency, kept out of the models so they stay pure."""

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from contract.feature_store import ENTITY_KEY

READY_PROBE_ID = "__spamops_ready_probe__"
TIMESTAMP_SUFFIX = "__ts"  # feast.online_response.TIMESTAMP_POSTFIX: the row's event time, whole seconds


@dataclass(frozen=True, slots=True)
class OnlineRow:
    values: dict[str, Any]  # {field: value}
    event_time: datetime  # UTC; when the row's features were computed (pushed or materialized)


class FeatureReader(Protocol):
    def read(self, view: str, fields: Sequence[str], sms_ids: Sequence[str]) -> list[OnlineRow | None]:
        """One row per id, in order; None when any field is missing online."""
        ...

    def ping(self, view: str, field: str) -> None:
        """Raise if the online store cannot answer a read."""
        ...

    def close(self) -> None: ...


class FeastFeatureReader:
    """Wraps `feast.FeatureStore.get_online_features`; one FeatureStore per process (built in lifespan)."""

    def __init__(self, repo_path: Path, *, fs_yaml_file: Path | None = None) -> None:
        from feast import FeatureStore  # heavy import: only services that read features pay for it

        self._store = FeatureStore(repo_path=str(repo_path), fs_yaml_file=fs_yaml_file)
        # Feast's SQLite online store shares one connection across threads; serialise access to it.
        self._lock = threading.Lock()

    def read(self, view: str, fields: Sequence[str], sms_ids: Sequence[str]) -> list[OnlineRow | None]:
        refs = [f"{view}:{field}" for field in fields]
        rows = [{ENTITY_KEY: sms_id} for sms_id in sms_ids]
        with self._lock:
            response = self._store.get_online_features(features=refs, entity_rows=rows)
            columns = response.to_dict(include_event_timestamps=True)
        # Pick fields by name: Feast does not promise an order. The fields of one view share a row,
        # hence one event time.
        out: list[OnlineRow | None] = []
        for i in range(len(sms_ids)):
            values = {field: columns[field][i] for field in fields}
            if any(value is None for value in values.values()):
                out.append(None)
                continue
            seconds = columns[f"{fields[0]}{TIMESTAMP_SUFFIX}"][i]
            out.append(OnlineRow(values, datetime.fromtimestamp(seconds, UTC)))
        return out

    def ping(self, view: str, field: str) -> None:
        self.read(view, [field], [READY_PROBE_ID])

    def close(self) -> None:
        # FeatureStore has no close(); drop the reference so its connections can be collected.
        self._store = None  # type: ignore[assignment]
