"""Cassandra implementation of the storage Protocols (the production backend, DESIGN §6).

One Cluster and Session per process, prepared statements created once, partition-key access only
(no statement needs ALLOW FILTERING), and idempotent writes (upserts keyed by the primary key).
`create_schema` is what the bootstrap script (`scripts/init_cassandra.py`) runs; services assume it ran.
"""

import json
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.util import min_uuid_from_time

from api.common.settings import BaseServiceSettings
from api.common.storage import CacheKey, CallLogEntry, RateCount, Stores

PROTOCOL_VERSION = 4
CALL_LOG_TTL_SECONDS = 3600
CACHE_DEFAULT_TTL_SECONDS = 3600

TABLES = (
    f"""CREATE TABLE IF NOT EXISTS prediction_cache (
        version text, endpoint text, model_sha256 text, input_digest text, value_json text,
        PRIMARY KEY ((version, endpoint, model_sha256, input_digest))
    ) WITH default_time_to_live = {CACHE_DEFAULT_TTL_SECONDS}""",
    f"""CREATE TABLE IF NOT EXISTS call_log (
        caller_id text, version text, called_at timeuuid, endpoint text, input_json text,
        PRIMARY KEY ((caller_id, version), called_at)
    ) WITH CLUSTERING ORDER BY (called_at DESC) AND default_time_to_live = {CALL_LOG_TTL_SECONDS}""",
    # The rate limiter's per-worker counts (api.model_serving.rate_limit); TTL per row (USING TTL).
    """CREATE TABLE IF NOT EXISTS rate_counts (
        caller_id text, version text, bucket bigint, worker text, count int,
        PRIMARY KEY ((caller_id, version), bucket, worker)
    )""",
    """CREATE TABLE IF NOT EXISTS smss_by_users (
        user_id text, sms_id timeuuid, sender_id text, sms_text text,
        PRIMARY KEY ((user_id), sms_id)
    ) WITH CLUSTERING ORDER BY (sms_id DESC)""",
    # A few shards (from the sms_id) so the inbox's writes and deletes do not all hit one partition;
    # the recovery reads every shard, oldest first within each.
    """CREATE TABLE IF NOT EXISTS pending_pushes (
        shard int, sms_id timeuuid, user_id text, sms_text text, features frozen<list<int>>,
        PRIMARY KEY ((shard), sms_id)
    ) WITH CLUSTERING ORDER BY (sms_id ASC)""",
    # TTL per row (USING TTL), from the service's setting.
    """CREATE TABLE IF NOT EXISTS idempotency_keys (
        idempotency_key text PRIMARY KEY, sms_id timeuuid, fingerprint text
    )""",
)


def connect(settings: BaseServiceSettings) -> Cluster:
    """A Cluster with the DESIGN's policy: token-aware over DC-aware round robin, v4, no compression.

    With CASSANDRA_SECURE_BUNDLE_PATH it connects to Astra DB through the bundle instead of hosts.
    """
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=settings.cassandra_local_dc)),
        request_timeout=settings.cassandra_request_timeout,
    )
    options: dict[str, Any] = {
        "protocol_version": PROTOCOL_VERSION,
        "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
        "compression": False,
        "connect_timeout": settings.cassandra_request_timeout,
        # The driver's own 2 s default bounds its schema reads at connect, which grow with the schema.
        "control_connection_timeout": settings.cassandra_request_timeout,
    }
    if settings.cassandra_username and settings.cassandra_password:
        password = settings.cassandra_password.get_secret_value()
        options["auth_provider"] = PlainTextAuthProvider(settings.cassandra_username, password)
    if settings.cassandra_secure_bundle_path:
        return Cluster(cloud={"secure_connect_bundle": str(settings.cassandra_secure_bundle_path)}, **options)
    return Cluster(contact_points=settings.cassandra_hosts, port=settings.cassandra_port, **options)


def create_schema(session: Session, keyspace: str, *, replication_factor: int = 1, local_dc: str | None = None) -> None:
    """Create the keyspace and the app tables; idempotent. With `local_dc`, NetworkTopologyStrategy."""
    if local_dc:
        replication = f"{{'class': 'NetworkTopologyStrategy', '{local_dc}': {replication_factor}}}"
    else:
        replication = f"{{'class': 'SimpleStrategy', 'replication_factor': {replication_factor}}}"
    # An existing keyspace is left alone: Astra DB refuses CREATE KEYSPACE even with IF NOT EXISTS.
    if keyspace not in session.cluster.metadata.keyspaces:
        session.execute(f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {replication}")
    for statement in TABLES:
        session.execute(statement.replace("CREATE TABLE IF NOT EXISTS ", f"CREATE TABLE IF NOT EXISTS {keyspace}."))


class CassandraBackend:
    """The process-wide Cluster and Session; implements the `Backend` Protocol."""

    def __init__(self, settings: BaseServiceSettings) -> None:
        self.cluster = connect(settings)
        self.session = self.cluster.connect(settings.cassandra_keyspace)

    def ping(self) -> None:
        self.session.execute("SELECT release_version FROM system.local")

    def write_batch(self) -> AbstractContextManager[None]:
        # Each write is its own request; a multi-partition BATCH would only add coordinator work.
        return nullcontext()

    def close(self) -> None:
        self.cluster.shutdown()


class CassandraPredictionCache:
    def __init__(self, session: Session) -> None:
        self.session = session
        key = "version = ? AND endpoint = ? AND model_sha256 = ? AND input_digest = ?"
        self._select = session.prepare(f"SELECT value_json FROM prediction_cache WHERE {key}")
        self._insert = session.prepare(
            "INSERT INTO prediction_cache (version, endpoint, model_sha256, input_digest, value_json)"
            " VALUES (?, ?, ?, ?, ?) USING TTL ?"
        )

    def get(self, key: CacheKey) -> dict[str, Any] | None:
        row = self.session.execute(self._select, (key.version, key.endpoint, key.model_sha256, key.input_digest)).one()
        return None if row is None else json.loads(row.value_json)

    def put(self, key: CacheKey, value: dict[str, Any], ttl_seconds: int) -> None:
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be >= 1")
        body = json.dumps(value, separators=(",", ":"))
        self.session.execute(
            self._insert, (key.version, key.endpoint, key.model_sha256, key.input_digest, body, ttl_seconds)
        )


class CassandraCallLog:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._insert = session.prepare(
            "INSERT INTO call_log (caller_id, version, called_at, endpoint, input_json) VALUES (?, ?, ?, ?, ?)"
        )
        self._recent = session.prepare(
            "SELECT called_at, endpoint, input_json FROM call_log"
            " WHERE caller_id = ? AND version = ? AND called_at >= ? LIMIT ?"
        )

    def append(self, entry: CallLogEntry) -> None:
        self.session.execute(
            self._insert, (entry.caller_id, entry.version, entry.call_id, entry.endpoint, entry.input_json)
        )

    def recent(self, caller_id: str, version: str, *, since: datetime, limit: int) -> list[CallLogEntry]:
        if limit < 1:
            return []
        rows = self.session.execute(self._recent, (caller_id, version, min_uuid_from_time(since.timestamp()), limit))
        return [
            CallLogEntry(caller_id=caller_id, version=version, endpoint=row.endpoint, input_json=row.input_json,
                         call_id=row.called_at)
            for row in rows
        ]


class CassandraRateCounts:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._insert = session.prepare(
            "INSERT INTO rate_counts (caller_id, version, bucket, worker, count) VALUES (?, ?, ?, ?, ?) USING TTL ?"
        )
        self._read = session.prepare(
            "SELECT bucket, worker, count FROM rate_counts WHERE caller_id = ? AND version = ? AND bucket >= ?"
        )

    def put(self, caller_id: str, version: str, worker: str, counts: dict[int, int], *, ttl_seconds: int) -> None:
        # Usually one or two buckets changed since the last sync; their writes go concurrently.
        futures = [self.session.execute_async(self._insert, (caller_id, version, bucket, worker, count, ttl_seconds))
                   for bucket, count in counts.items()]
        for future in futures:
            future.result()

    def read(self, caller_id: str, version: str, *, since_bucket: int) -> list[RateCount]:
        rows = self.session.execute(self._read, (caller_id, version, since_bucket))
        return [RateCount(row.bucket, row.worker, row.count) for row in rows]


def make_cassandra_stores(settings: BaseServiceSettings) -> Stores:
    from api.common.storage.cassandra_sms import CassandraSmsStore  # it builds on connect() above

    backend = CassandraBackend(settings)
    return Stores(
        prediction_cache=CassandraPredictionCache(backend.session),
        call_log=CassandraCallLog(backend.session),
        backend=backend,
        sms=CassandraSmsStore(backend.session),
        rate_counts=CassandraRateCounts(backend.session),
    )
