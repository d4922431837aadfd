"""Push v2 features for every stored message of USER... that lacks them online or offline (Feast push).

Reads the user-data store (STORAGE_BACKEND, SQLITE_PATH, CASSANDRA_*), the Feast repository
(FEATURE_REPO_PATH, FEAST_FS_YAML_FILE for Cassandra) and the v2 tokenizer (MODELS_DIR). Idempotent:
a second run pushes nothing. Example: python scripts/backfill_features.py fiona max
"""

import argparse
import json
import sys

from api.common.storage import make_stores
from batch.backfill import BackfillSettings, backfill_users
from training.feature_sets import TOKEN_IDS
from training.tokenizer import SmsTokenizer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("users", nargs="+", metavar="USER", help="user ids whose inboxes to repair")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = BackfillSettings()

    from feast import FeatureStore  # heavy import: after --help

    feature_store = FeatureStore(repo_path=str(settings.feature_repo_path), fs_yaml_file=settings.feast_yaml_path)
    tokenizer = SmsTokenizer.load(TOKEN_IDS.state_dir(settings.models_dir))
    stores = make_stores(settings)
    try:
        report = backfill_users(args.users, sms_store=stores.sms, feature_store=feature_store, tokenizer=tokenizer,
                                chunk_size=settings.backfill_chunk_size,
                                progress=not args.no_progress)
    finally:
        stores.close()
    print(json.dumps({"users": report.users, "checked": report.checked, "pushed_online": report.pushed_online,
                      "pushed_offline": report.pushed_offline}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
