"""Create the spamops keyspace and app tables in Cassandra; safe to run again (IF NOT EXISTS).

The app tables: prediction_cache, call_log, smss_by_users, and the inbox's exactly-once write path,
pending_pushes (8 shards) and idempotency_keys (see api/common/storage/cassandra.py).

Reads CASSANDRA_HOSTS, CASSANDRA_PORT, CASSANDRA_KEYSPACE, CASSANDRA_LOCAL_DC and
CASSANDRA_REQUEST_TIMEOUT from the environment (or .env). Feast's own tables are created by
`feast -c feature_repo -f feature_repo/feature_store.cassandra.yaml apply` afterwards, in the same keyspace.
"""

import argparse
import sys

from api.common.settings import BaseServiceSettings
from api.common.storage.cassandra import connect, create_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replication-factor", type=int, default=1)
    parser.add_argument(
        "--network-topology", action="store_true", help="NetworkTopologyStrategy in CASSANDRA_LOCAL_DC"
    )
    args = parser.parse_args(argv)
    settings = BaseServiceSettings(storage_backend="cassandra")
    cluster = connect(settings)
    try:
        session = cluster.connect()
        local_dc = settings.cassandra_local_dc if args.network_topology else None
        create_schema(
            session, settings.cassandra_keyspace, replication_factor=args.replication_factor, local_dc=local_dc
        )
    finally:
        cluster.shutdown()
    print(f"keyspace {settings.cassandra_keyspace} and app tables are ready on {','.join(settings.cassandra_hosts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
