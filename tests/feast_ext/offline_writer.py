"""A writer process for the feast_ext tests: pushes v2 rows offline through the SDK, in batches.

    python -m tests.feast_ext.offline_writer REPO --ids a,b,c --batch 2

Prints each batch's ids once its push returned (acknowledged rows), one line per batch, flushed.
"""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from feast import FeatureStore
from feast.data_source import PushMode

from contract.feature_store import ENTITY_KEY, V2_LENGTH

EVENT_TIME = datetime(2021, 9, 2, tzinfo=UTC)


def v2_rows(ids: list[str]) -> pd.DataFrame:
    """One row per id at a fixed event time, so a retry is the same row (same key, same timestamp)."""
    return pd.DataFrame(
        {
            ENTITY_KEY: ids,
            "event_timestamp": [EVENT_TIME] * len(ids),
            "features": [[index % 7] * V2_LENGTH for index in range(len(ids))],
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--ids", required=True, help="comma-separated sms ids, pushed in order")
    parser.add_argument("--batch", type=int, default=1, help="rows per push")
    args = parser.parse_args(argv)
    store = FeatureStore(repo_path=str(args.repo))
    ids = args.ids.split(",")
    for start in range(0, len(ids), args.batch):
        batch = ids[start : start + args.batch]
        store.push("smss2_push", v2_rows(batch), to=PushMode.OFFLINE)
        print(",".join(batch), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
