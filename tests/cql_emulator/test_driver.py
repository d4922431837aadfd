"""The real cassandra-driver, default Cluster options, over TCP against the emulator."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from cassandra import AlreadyExists, InvalidRequest
from cassandra.cluster import Cluster, Session
from cassandra.protocol import ConfigurationException, SyntaxException
from cassandra.query import BatchStatement, SimpleStatement
from cassandra.util import uuid_from_time

from tests.cql_emulator import CqlEmulator, ManualClock

pytestmark = pytest.mark.cassandra
KS = "drv"


@pytest.fixture(scope="module")
def emulator() -> Iterator[CqlEmulator]:
    emu = CqlEmulator(data_center="dc-test").start_in_thread()
    yield emu
    emu.stop_thread()


@pytest.fixture(scope="module")
def cluster(emulator: CqlEmulator) -> Iterator[Cluster]:
    cluster = Cluster([emulator.host], port=emulator.port)  # default options: negotiates the protocol
    cluster.connect()
    yield cluster
    cluster.shutdown()


@pytest.fixture(scope="module")
def session(cluster: Cluster) -> Session:
    session = cluster.connect()
    session.execute(f"CREATE KEYSPACE {KS} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
    session.set_keyspace(KS)
    session.execute(
        "CREATE TABLE smss_by_users (user_id text, sms_id timeuuid, sender_id text, sms_text text, "
        "PRIMARY KEY ((user_id), sms_id)) WITH CLUSTERING ORDER BY (sms_id DESC)"
    )
    session.execute(
        "CREATE TABLE prediction_cache (version text, endpoint text, input_digest text, artifact_sha256 text, "
        "response text, PRIMARY KEY ((version, endpoint, input_digest), artifact_sha256)) "
        "WITH default_time_to_live = 3600"
    )
    session.execute(
        "CREATE TABLE call_log (caller_id text, version text, called_at timeuuid, endpoint text, "
        "input_json text, PRIMARY KEY ((caller_id, version), called_at)) "
        "WITH CLUSTERING ORDER BY (called_at DESC) AND default_time_to_live = 3600"
    )
    return session


def test_connect_default_options_negotiates_v4_and_builds_token_map(cluster: Cluster) -> None:
    assert cluster.protocol_version == 4
    host = cluster.metadata.all_hosts()[0]
    assert host.datacenter == "dc-test"
    assert host.release_version.startswith("4.1")
    assert cluster.metadata.partitioner == "org.apache.cassandra.dht.Murmur3Partitioner"
    assert cluster.metadata.token_map is not None


def test_schema_metadata_shows_app_tables(cluster: Cluster, session: Session) -> None:
    tables = cluster.metadata.keyspaces[KS].tables
    sms = tables["smss_by_users"]
    assert [c.name for c in sms.partition_key] == ["user_id"]
    assert [c.name for c in sms.clustering_key] == ["sms_id"]
    assert sms.clustering_key[0].is_reversed
    assert sms.columns["sms_id"].cql_type == "timeuuid"
    cache = tables["prediction_cache"]
    assert [c.name for c in cache.partition_key] == ["version", "endpoint", "input_digest"]
    assert cache.options["default_time_to_live"] == 3600
    log = tables["call_log"]
    assert [c.name for c in log.partition_key] == ["caller_id", "version"]
    assert "CLUSTERING ORDER BY (called_at DESC)" in log.export_as_string()


def test_schema_version_changes_on_ddl_and_stays_in_agreement(cluster: Cluster, session: Session) -> None:
    before = session.execute("SELECT schema_version FROM system.local WHERE key = 'local'").one().schema_version
    session.execute("CREATE TABLE IF NOT EXISTS scratch (k int PRIMARY KEY)")
    after = session.execute("SELECT schema_version FROM system.local WHERE key = 'local'").one().schema_version
    assert before != after
    assert cluster.control_connection.wait_for_schema_agreement()
    session.execute("DROP TABLE scratch")
    assert "scratch" not in cluster.metadata.keyspaces[KS].tables


def test_paging_with_fetch_size_returns_every_row_in_order(session: Session) -> None:
    insert = session.prepare("INSERT INTO smss_by_users (user_id, sms_id, sender_id, sms_text) VALUES (?, ?, ?, ?)")
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    ids = [uuid_from_time(base + dt.timedelta(seconds=i)) for i in range(25)]
    for i, sms_id in enumerate(ids):
        session.execute(insert, ("pager", sms_id, "s", f"text {i}"))
    result = session.execute(SimpleStatement("SELECT sms_id FROM smss_by_users WHERE user_id = 'pager'", fetch_size=10))
    assert result.has_more_pages
    assert len(result.current_rows) == 10
    assert [r.sms_id for r in result] == list(reversed(ids))
    first = session.execute(SimpleStatement("SELECT sms_id FROM smss_by_users WHERE user_id = 'pager'", fetch_size=20))
    rest = session.execute(
        SimpleStatement("SELECT sms_id FROM smss_by_users WHERE user_id = 'pager'", fetch_size=20),
        paging_state=first.paging_state,
    )
    assert len(first.current_rows) == 20 and len(rest.current_rows) == 5
    assert not rest.has_more_pages


def test_prepared_statement_is_reprepared_after_unprepared(emulator: CqlEmulator, session: Session) -> None:
    select = session.prepare(
        "SELECT response FROM prediction_cache WHERE version = ? AND endpoint = ? AND input_digest = ?"
    )
    insert = session.prepare(
        "INSERT INTO prediction_cache (version, endpoint, input_digest, artifact_sha256, response) "
        "VALUES (?, ?, ?, ?, ?)"
    )
    session.execute(insert, ("v1", "predict", "d1", "sha", "{}"))
    emulator.clear_prepared()
    assert session.execute(select, ("v1", "predict", "d1")).one().response == "{}"
    assert len(emulator.executor.prepared) >= 1


def test_prepared_statement_routes_by_token(cluster: Cluster, session: Session) -> None:
    select = session.prepare("SELECT * FROM call_log WHERE caller_id = ? AND version = ?")
    bound = select.bind(("c", "v1"))
    assert select.routing_key_indexes == [0, 1]
    assert cluster.metadata.get_replicas(KS, bound.routing_key) == cluster.metadata.all_hosts()


def test_batch_of_prepared_inserts_is_applied(session: Session) -> None:
    insert = session.prepare("INSERT INTO call_log (caller_id, version, called_at, endpoint) VALUES (?, ?, now(), ?)")
    batch = BatchStatement()
    for endpoint in ("a", "b", "c"):
        batch.add(insert, ("batcher", "v1", endpoint))
    session.execute(batch)
    rows = session.execute("SELECT endpoint FROM call_log WHERE caller_id = 'batcher' AND version = 'v1'")
    assert sorted(r.endpoint for r in rows) == ["a", "b", "c"]


def test_ttl_expires_with_injected_clock(emulator: CqlEmulator, session: Session) -> None:
    clock = ManualClock()
    emulator.clock = clock
    try:
        session.execute("INSERT INTO smss_by_users (user_id, sms_id, sms_text) VALUES ('ttl', now(), 'x') USING TTL 10")
        row = session.execute("SELECT ttl(sms_text) AS t FROM smss_by_users WHERE user_id = 'ttl'").one()
        assert row.t == 10
        clock.advance(11)
        assert session.execute("SELECT * FROM smss_by_users WHERE user_id = 'ttl'").one() is None
    finally:
        emulator.clock = CqlEmulator().clock


def test_default_time_to_live_and_writetime(session: Session) -> None:
    session.execute(
        "INSERT INTO call_log (caller_id, version, called_at, endpoint) VALUES ('wt', 'v1', now(), 'e') "
        "USING TIMESTAMP 1234567"
    )
    row = session.execute(
        "SELECT writetime(endpoint) AS w, ttl(endpoint) AS t FROM call_log WHERE caller_id = 'wt' AND version = 'v1'"
    ).one()
    assert row.w == 1234567
    assert 3590 <= row.t <= 3600


def test_insert_if_not_exists_reports_applied(session: Session) -> None:
    stmt = (
        "INSERT INTO prediction_cache (version, endpoint, input_digest, artifact_sha256, response) "
        "VALUES ('v', 'e', 'lwt', 'sha', '{0}') IF NOT EXISTS"
    )
    assert session.execute(stmt.format("first")).was_applied
    second = session.execute(stmt.format("second"))
    assert not second.was_applied
    assert second.one().response == "first"


def test_named_markers_bind_by_name(session: Session) -> None:
    insert = session.prepare("INSERT INTO smss_by_users (user_id, sms_id, sms_text) VALUES (:user, :sms, :text)")
    session.execute(insert, {"user": "named", "sms": uuid.uuid1(), "text": "hello"})
    assert session.execute("SELECT sms_text FROM smss_by_users WHERE user_id = 'named'").one().sms_text == "hello"


def test_all_types_round_trip_through_driver(session: Session) -> None:
    session.execute(
        "CREATE TABLE IF NOT EXISTS typed (k text PRIMARY KEY, a ascii, b blob, ts timestamp, tu timeuuid, u uuid, "
        "i int, bi bigint, d double, f float, bo boolean, l list<int>, m map<text, int>, s set<text>, "
        "ip inet, dec decimal, vi varint, si smallint, ti tinyint)"
    )
    values = {
        "k": "key",
        "a": "ascii",
        "b": b"\x00\x01",
        "ts": dt.datetime(2024, 5, 6, 7, 8, 9, 123000),
        "tu": uuid.uuid1(),
        "u": uuid.uuid4(),
        "i": -5,
        "bi": 2**40,
        "d": 1.25,
        "f": 0.5,
        "bo": True,
        "l": [3, 1, 2],
        "m": {"x": 1, "y": 2},
        "s": {"b", "a"},
        "ip": "10.0.0.1",
        "dec": Decimal("1.50"),
        "vi": 10**20,
        "si": -3,
        "ti": 7,
    }
    names = ", ".join(values)
    insert = session.prepare(f"INSERT INTO typed ({names}) VALUES ({', '.join('?' for _ in values)})")
    session.execute(insert, tuple(values.values()))
    row = session.execute("SELECT * FROM typed WHERE k = 'key'").one()._asdict()
    assert {
        k: (sorted(v) if isinstance(v, set | frozenset) or type(v).__name__ == "SortedSet" else v)
        for k, v in row.items()
    } == {**values, "s": ["a", "b"]} | {"m": row["m"]}
    assert dict(row["m"]) == values["m"]


def test_server_errors_map_to_driver_exceptions(session: Session) -> None:
    with pytest.raises(InvalidRequest):
        session.execute("SELECT * FROM smss_by_users WHERE sms_text = 'x'")
    with pytest.raises(SyntaxException):
        session.execute("SELEKT * FROM smss_by_users")
    with pytest.raises(AlreadyExists) as info:
        session.execute("CREATE TABLE smss_by_users (k int PRIMARY KEY)")
    assert (info.value.keyspace, info.value.table) == (KS, "smss_by_users")
    with pytest.raises(ConfigurationException):
        session.execute("CREATE KEYSPACE bad WITH replication = {'class': 'SimpleStrategy'}")
    with pytest.raises(InvalidRequest):
        session.execute("INSERT INTO call_log (caller_id, version, called_at) VALUES ('c', 'v', 'yesterday')")
