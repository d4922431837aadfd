"""Training datasets read from Feast's offline store with point-in-time retrieval at a time freeze."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from feast import FeatureStore

from contract.feature_store import ENTITY_KEY, LABEL_FIELD, TIMESTAMP_FIELD
from training.versions import ModelVersion


def entity_frame(sms_ids: pd.Series, version: ModelVersion) -> pd.DataFrame:
    """Every id asked for at the version's time freeze: Feast returns the latest row at or before it."""
    return pd.DataFrame({ENTITY_KEY: sms_ids.to_numpy(), TIMESTAMP_FIELD: pd.Timestamp(version.time_freeze)})


def load_training_frame(store: FeatureStore, version: ModelVersion, raw: pd.DataFrame) -> pd.DataFrame:
    """Labels and features of the raw ids at the time freeze, with the text, in the raw file's order.

    Rows without a label or features at the freeze are dropped: they did not exist yet. Columns come
    in declared order, because Feast's is not stable.
    """
    contract = version.feature_set.contract
    service = store.get_feature_service(contract.training_service)
    historical = store.get_historical_features(entity_df=entity_frame(raw[ENTITY_KEY], version), features=service)
    fields = list(contract.fields)
    frame = historical.to_df()[[ENTITY_KEY, LABEL_FIELD, *fields]].dropna(subset=[LABEL_FIELD, *fields])
    merged = raw[[ENTITY_KEY, "text"]].merge(frame, on=ENTITY_KEY, how="inner", validate="one_to_one")
    merged[LABEL_FIELD] = merged[LABEL_FIELD].astype(np.int64)
    return merged.reset_index(drop=True)


def dataset_hash(frame: pd.DataFrame, version: ModelVersion) -> str:
    """sha256 of the ids, labels and features a model was trained and tested on."""
    digest = hashlib.sha256()
    digest.update(frame[ENTITY_KEY].str.cat(sep="\n").encode())
    digest.update(frame[LABEL_FIELD].to_numpy(dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(version.feature_set.frame_to_matrix(frame)).tobytes())
    return digest.hexdigest()


def open_store(repo_path: Path, fs_yaml_file: Path | None = None) -> FeatureStore:
    """Open a repository; `fs_yaml_file` picks a config variant such as feature_store.cassandra.yaml."""
    return FeatureStore(repo_path=str(repo_path), fs_yaml_file=fs_yaml_file)


def read_online(store: FeatureStore, view_name: str, sms_ids: list[str]) -> dict[str, dict[str, object] | None]:
    """Every field of one view per id, in declared order and native types; None where nothing is online."""
    names = [field.name for field in store.get_feature_view(view_name).features]
    rows = [{ENTITY_KEY: sms_id} for sms_id in sms_ids]
    columns = store.get_online_features(features=[f"{view_name}:{n}" for n in names], entity_rows=rows).to_dict()
    found: dict[str, dict[str, object] | None] = {}
    for index, sms_id in enumerate(sms_ids):
        row = {name: columns[name][index] for name in names}
        found[sms_id] = row if any(value is not None for value in row.values()) else None
    return found
