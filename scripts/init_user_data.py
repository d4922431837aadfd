"""Seed the tutorial's sample inboxes (users fiona and max, June 2019) into the user-data store.

Uses the same settings as the user-data service (STORAGE_BACKEND, SQLITE_PATH, CASSANDRA_*), so run
it with the service's environment. Safe to run again: message ids are deterministic, nothing is
duplicated. With Cassandra, run scripts/init_cassandra.py first (it creates the tables).
"""

import argparse
import sys

from api.common.settings import BaseServiceSettings
from api.common.storage import make_stores
from api.user_data.seed import seed_sample_inboxes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    settings = BaseServiceSettings()
    stores = make_stores(settings)
    try:
        written = seed_sample_inboxes(stores.sms)
    finally:
        stores.close()
    users = sorted({user for user, _ in written})
    print(f"{len(written)} sample messages for {', '.join(users)} in {settings.storage_backend} storage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
