"""Print what the online store holds for some sms ids, view by view, with how fresh each view is.

    python scripts/online_store_sampler.py sms10001 sms10002
    python scripts/online_store_sampler.py -f feature_repo/feature_store.cassandra.yaml sms10001
"""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from contract.paths import FEATURE_REPO_DIR
from feast_ext.freshness import ViewFreshness, view_freshness
from training.data import open_store, read_online

VIEWS = ("sms_labels", "sms_features1", "sms_features2")


def describe(rows: dict[str, dict[str, object] | None], freshness: ViewFreshness, now: datetime) -> str:
    found = sum(row is not None for row in rows.values())
    lines = [f"== {freshness.view}: {found} of {len(rows)} ids found", f"  freshness: {freshness.describe(now)}"]
    lines += [f"  {sms_id}: {'nothing found' if row is None else row}" for sms_id, row in rows.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sms_ids", nargs="+", metavar="ID")
    parser.add_argument("--repo", type=Path, default=FEATURE_REPO_DIR)
    parser.add_argument("-f", "--feature-store-yaml", type=Path, default=None)
    args = parser.parse_args(argv)
    store = open_store(args.repo, args.feature_store_yaml)
    now = datetime.now(UTC)
    reports = [
        describe(read_online(store, freshness.view, args.sms_ids), freshness, now)
        for freshness in view_freshness(store, VIEWS)
    ]
    print("\n".join(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
