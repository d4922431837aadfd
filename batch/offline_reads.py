"""The latest offline row per entity of a feature view within a time slice, through its offline store.

`pull_latest_from_table_or_query` is the call Feast's materialization makes, so every offline store type
works. `get_historical_features` would not do: in Feast 0.67's file store an entity-less call ignores
`start_date` and drops the rows' event times, and an entity with no rows at all makes Dask's
point-in-time join fail ("Divisions calculation failed") once the source has several parts.
"""

from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # importing Feast takes seconds; scoring a file never needs it
    from feast import FeatureStore


def latest_rows(store: "FeatureStore", feature_view: str, feature_names: list[str], *, start: datetime,
                end: datetime) -> tuple[pd.DataFrame, str]:
    """The rows, and the name of the view's timestamp column. Raises FeastObjectNotFoundException for an
    unknown view and OSError when the source cannot be read."""
    from feast.infra.offline_stores.offline_utils import get_offline_store_from_config

    view = store.get_feature_view(feature_view)
    source = view.batch_source
    job = get_offline_store_from_config(store.config.offline_store).pull_latest_from_table_or_query(
        config=store.config,
        data_source=source,
        join_key_columns=view.join_keys,
        feature_name_columns=feature_names,
        timestamp_field=source.timestamp_field,
        created_timestamp_column=source.created_timestamp_column or None,
        start_date=start,
        end_date=end,
    )
    return job.to_df(), source.timestamp_field
