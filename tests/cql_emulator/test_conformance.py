"""Statements with the verdict Cassandra 4 gives them: accepted, or the error class it raises."""

from __future__ import annotations

import pytest

from tests.cql_emulator.errors import (
    AlreadyExists,
    ConfigurationException,
    CqlError,
    InvalidRequest,
    SyntaxException,
    Unauthorized,
)
from tests.cql_emulator.executor import ClientSession, Executor, Node
from tests.cql_emulator.protocol import QueryParameters

OK = None
SETUP = [
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    "USE ks",
    "CREATE TABLE t (k int, c1 int, c2 text, v text, n int, l list<int>, m map<text, int>, s set<text>, "
    "PRIMARY KEY (k, c1, c2))",
    "CREATE TABLE cp (a text, b text, c int, v int, PRIMARY KEY ((a, b), c))",
    "CREATE TABLE st (k int, c int, sv text STATIC, v text, PRIMARY KEY (k, c))",
    "CREATE TABLE cnt (k int PRIMARY KEY, hits counter)",
    "CREATE TABLE smss_by_users (user_id text, sms_id timeuuid, sender_id text, sms_text text, "
    "PRIMARY KEY ((user_id), sms_id)) WITH CLUSTERING ORDER BY (sms_id DESC)",
    "CREATE TABLE prediction_cache (version text, endpoint text, input_digest text, artifact_sha256 text, "
    "response text, PRIMARY KEY ((version, endpoint, input_digest), artifact_sha256)) "
    "WITH default_time_to_live = 3600",
    "CREATE TABLE call_log (caller_id text, version text, called_at timeuuid, endpoint text, input_json text, "
    "PRIMARY KEY ((caller_id, version), called_at)) WITH CLUSTERING ORDER BY (called_at DESC) "
    "AND default_time_to_live = 3600",
]

CASES: list[tuple[str, type[CqlError] | None]] = [
    # --- DDL: keyspaces
    ("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", AlreadyExists),
    ("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", OK),
    ("CREATE KEYSPACE k2 WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 3}", OK),
    ("CREATE KEYSPACE k3 WITH replication = {'class': 'NetworkTopologyStrategy', 'nodc': 3}", ConfigurationException),
    ("CREATE KEYSPACE k4 WITH replication = {'class': 'SimpleStrategy'}", ConfigurationException),
    (
        "CREATE KEYSPACE k5 WITH replication = {'class': 'NoSuchStrategy', 'replication_factor': 1}",
        ConfigurationException,
    ),
    ("CREATE KEYSPACE k6 WITH durable_writes = false", InvalidRequest),
    (
        "CREATE KEYSPACE k7 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1} AND foo = 1",
        SyntaxException,
    ),
    ("CREATE KEYSPACE system WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", InvalidRequest),
    (
        "CREATE KEYSPACE \"Bad-Name\" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        InvalidRequest,
    ),
    ("DROP KEYSPACE nosuch", InvalidRequest),
    ("DROP KEYSPACE IF EXISTS nosuch", OK),
    ("DROP KEYSPACE system", Unauthorized),
    ("DROP KEYSPACE system_schema", Unauthorized),
    ("USE nosuch", InvalidRequest),
    # --- DDL: tables
    ("CREATE TABLE t (k int PRIMARY KEY)", AlreadyExists),
    ("CREATE TABLE IF NOT EXISTS t (k int PRIMARY KEY)", OK),
    ("CREATE TABLE t2 (k int PRIMARY KEY, v text) WITH comment = 'x' AND gc_grace_seconds = 10", OK),
    ("CREATE TABLE t3 (k int, v text)", InvalidRequest),
    ("CREATE TABLE t4 (k int PRIMARY KEY, v text, PRIMARY KEY (k))", InvalidRequest),
    ("CREATE TABLE t5 (k int, v text, PRIMARY KEY (x))", InvalidRequest),
    ("CREATE TABLE t6 (k int, k text, PRIMARY KEY (k))", InvalidRequest),
    ("CREATE TABLE t7 (k list<int> PRIMARY KEY)", InvalidRequest),
    ("CREATE TABLE t8 (k frozen<list<int>> PRIMARY KEY)", OK),
    ("CREATE TABLE t9 (k int, c int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (k DESC)", InvalidRequest),
    (
        "CREATE TABLE t10 (k int, c int, d int, PRIMARY KEY (k, c, d)) WITH CLUSTERING ORDER BY (d DESC, c ASC)",
        InvalidRequest,
    ),
    ("CREATE TABLE t11 (k int, c int, d int, PRIMARY KEY (k, c, d)) WITH CLUSTERING ORDER BY (c DESC)", OK),
    ("CREATE TABLE t12 (k int PRIMARY KEY) WITH no_such_option = 1", SyntaxException),
    ("CREATE TABLE t13 (k int PRIMARY KEY) WITH default_time_to_live = -1", ConfigurationException),
    ("CREATE TABLE t14 (k int PRIMARY KEY, c counter, v int)", InvalidRequest),
    ("CREATE TABLE t15 (k int PRIMARY KEY, s int STATIC)", InvalidRequest),
    ("CREATE TABLE t16 (k int PRIMARY KEY) WITH COMPACT STORAGE", InvalidRequest),
    ("CREATE TABLE nosuch.t (k int PRIMARY KEY)", InvalidRequest),
    ("CREATE TABLE system.t (k int PRIMARY KEY)", Unauthorized),
    ("CREATE TABEL t17 (k int PRIMARY KEY)", SyntaxException),
    ("CREATE TABLE t18 (k notatype PRIMARY KEY)", SyntaxException),
    ("CREATE TABLE t19 (select int PRIMARY KEY)", SyntaxException),
    ('CREATE TABLE t20 ("select" int PRIMARY KEY)', OK),
    ("DROP TABLE nosuch", InvalidRequest),
    ("DROP TABLE IF EXISTS nosuch", OK),
    ("DROP TABLE system.local", Unauthorized),
    ("TRUNCATE t", OK),
    ("TRUNCATE nosuch", InvalidRequest),
    ("ALTER TABLE t ADD extra text", OK),
    ("ALTER TABLE t ADD v text", InvalidRequest),
    ("ALTER TABLE t DROP k", InvalidRequest),
    ("ALTER TABLE t WITH default_time_to_live = 60", OK),
    # --- SELECT
    ("SELECT * FROM t", OK),
    ("SELECT * FROM t WHERE k = 1", OK),
    ("SELECT * FROM t WHERE k IN (1, 2)", OK),
    ("SELECT * FROM t WHERE k = 1 AND c1 = 1 AND c2 > 'a'", OK),
    ("SELECT * FROM t WHERE k = 1 AND c1 > 1", OK),
    ("SELECT * FROM t WHERE k = 1 AND c1 IN (1, 2) AND c2 = 'a'", OK),
    ("SELECT * FROM t WHERE k = 1 AND c2 = 'a'", InvalidRequest),
    ("SELECT * FROM t WHERE k = 1 AND c2 = 'a' ALLOW FILTERING", OK),
    ("SELECT * FROM t WHERE k = 1 AND c1 > 1 AND c2 = 'a'", InvalidRequest),
    ("SELECT * FROM t WHERE c1 = 1", InvalidRequest),
    ("SELECT * FROM t WHERE c1 = 1 ALLOW FILTERING", OK),
    ("SELECT * FROM t WHERE v = 'x'", InvalidRequest),
    ("SELECT * FROM t WHERE k = 1 AND v = 'x'", InvalidRequest),
    ("SELECT * FROM t WHERE v = 'x' ALLOW FILTERING", OK),
    ("SELECT * FROM t WHERE v IN ('x') ALLOW FILTERING", InvalidRequest),
    ("SELECT * FROM t WHERE k > 1", InvalidRequest),
    ("SELECT * FROM t WHERE k > 1 ALLOW FILTERING", OK),
    ("SELECT * FROM t WHERE token(k) > 0", OK),
    ("SELECT * FROM t WHERE token(c1) > 0", InvalidRequest),
    ("SELECT * FROM cp WHERE a = 'x'", InvalidRequest),
    ("SELECT * FROM cp WHERE a = 'x' AND b = 'y'", OK),
    ("SELECT * FROM cp WHERE a = 'x' AND b IN ('y', 'z')", OK),
    ("SELECT * FROM t WHERE k = 1 AND k = 2", InvalidRequest),
    ("SELECT * FROM t WHERE k = 1 AND c1 > 1 AND c1 > 2", InvalidRequest),
    ("SELECT * FROM t WHERE k = 1 AND c1 > 1 AND c1 < 5", OK),
    ("SELECT * FROM t WHERE k != 1", InvalidRequest),
    ("SELECT * FROM t WHERE nosuch = 1", InvalidRequest),
    ("SELECT nosuch FROM t", InvalidRequest),
    ("SELECT * FROM nosuch", InvalidRequest),
    ("SELECT * FROM nosuch.t", InvalidRequest),
    ("SELECT * FROM t WHERE k = 'one'", InvalidRequest),
    ("SELECT * FROM t WHERE k = 1 ORDER BY c1 DESC", OK),
    ("SELECT * FROM t WHERE k = 1 ORDER BY c1 DESC, c2 DESC", OK),
    ("SELECT * FROM t WHERE k = 1 ORDER BY c1 ASC, c2 DESC", InvalidRequest),
    ("SELECT * FROM t WHERE k = 1 ORDER BY c2 DESC", InvalidRequest),
    ("SELECT * FROM t WHERE k = 1 AND c1 = 2 ORDER BY c2 DESC", OK),
    ("SELECT * FROM t WHERE k = 1 ORDER BY v", InvalidRequest),
    ("SELECT * FROM t ORDER BY c1", InvalidRequest),
    ("SELECT * FROM t WHERE k IN (1, 2) ORDER BY c1 LIMIT 10", OK),
    ("SELECT * FROM t WHERE k = 1 LIMIT 0", InvalidRequest),
    ("SELECT * FROM t WHERE k = 1 LIMIT 5", OK),
    ("SELECT * FROM t PER PARTITION LIMIT 1", OK),
    ("SELECT k, writetime(v), ttl(v) FROM t", OK),
    ("SELECT writetime(k) FROM t", InvalidRequest),
    ("SELECT writetime(l) FROM t", InvalidRequest),
    ("SELECT count(*) FROM t", OK),
    ("SELECT COUNT(1) FROM t WHERE k = 1", OK),
    ("SELECT DISTINCT k FROM t", OK),
    ("SELECT DISTINCT v FROM t", InvalidRequest),
    ("SELECT token(k) FROM t", OK),
    ("SELECT v AS alias FROM t WHERE k = 1", OK),
    ("SELECT JSON * FROM t", OK),
    ("SELECT * FROM t WHERE l CONTAINS 1", InvalidRequest),
    ("SELECT * FROM t WHERE l CONTAINS 1 ALLOW FILTERING", OK),
    ("SELECT * FROM t WHERE v CONTAINS 'a' ALLOW FILTERING", InvalidRequest),
    ("SELECT * FROM t WHERE k = 1 AND (c1, c2) > (1, 'a')", OK),
    ("SELECT * FROM t WHERE k = 1 AND (c2, c1) > ('a', 1)", InvalidRequest),
    ("SELECT * FROM system.local WHERE key = 'local'", OK),
    ("SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 't'", OK),
    ("SELECT * FROM system.peers_v2", OK),
    ("SELEC * FROM t", SyntaxException),
    ("SELECT * FROM t WHERE", SyntaxException),
    ("SELECT * FROM t LIMIT", SyntaxException),
    ("SELECT * FORM t", SyntaxException),
    ("SELECT * FROM smss_by_users WHERE user_id = 'u' AND sms_id > maxTimeuuid('2020-01-01')", OK),
    ("SELECT * FROM smss_by_users WHERE user_id = 'u' AND sms_id > maxTimeuuid('soon')", InvalidRequest),
    ("SELECT * FROM smss_by_users WHERE user_id = 'u' AND sms_id > now() AND sms_id < now()", OK),
    ("SELECT * FROM smss_by_users WHERE user_id = 'u' AND sms_id = 'not-a-uuid'", InvalidRequest),
    (
        "SELECT * FROM smss_by_users WHERE user_id = 'u' AND sms_id = 5f8a1b2c-0000-4000-8000-000000000000",
        InvalidRequest,
    ),
    ("SELECT * FROM smss_by_users WHERE user_id = 'u' ORDER BY sms_id ASC LIMIT 10", OK),
    ("SELECT * FROM call_log WHERE caller_id = 'c' AND version = 'v1' LIMIT 20", OK),
    ("SELECT * FROM call_log WHERE caller_id = 'c'", InvalidRequest),
    ("SELECT response FROM prediction_cache WHERE version = 'v' AND endpoint = 'e' AND input_digest = 'd'", OK),
    # --- INSERT
    ("INSERT INTO t (k, c1, c2, v) VALUES (1, 1, 'a', 'x')", OK),
    ("INSERT INTO t (k, c1, c2) VALUES (1, 1, 'b')", OK),
    ("INSERT INTO t (k, c1, v) VALUES (1, 1, 'x')", InvalidRequest),
    ("INSERT INTO t (c1, c2, v) VALUES (1, 'a', 'x')", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, v) VALUES ('one', 1, 'a', 'x')", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, v) VALUES (1, 1, 'a')", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, nosuch) VALUES (1, 1, 'a', 1)", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, v, v) VALUES (1, 1, 'a', 'x', 'y')", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, n) VALUES (1, 1, 'a', 99999999999)", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, n) VALUES (1, 1, 'a', 1.5)", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, l, m, s) VALUES (1, 1, 'a', [1, 2], {'a': 1}, {'x', 'y'})", OK),
    ("INSERT INTO t (k, c1, c2, l) VALUES (1, 1, 'a', {'a': 1})", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, v) VALUES (1, 1, 'a', 'x') IF NOT EXISTS", OK),
    ("INSERT INTO t (k, c1, c2, v) VALUES (1, 1, 'a', 'x') IF NOT EXISTS USING TIMESTAMP 5", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, v) VALUES (1, 1, 'a', 'x') USING TTL 10 AND TIMESTAMP 5", OK),
    ("INSERT INTO t (k, c1, c2, v) VALUES (1, 1, 'a', 'x') USING TTL -1", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, v) VALUES (1, 1, 'a', 'x') USING TTL 999999999", InvalidRequest),
    ("INSERT INTO t (k, c1, c2, v) VALUES (null, 1, 'a', 'x')", InvalidRequest),
    ("INSERT INTO cnt (k, hits) VALUES (1, 1)", InvalidRequest),
    ("INSERT INTO smss_by_users (user_id, sms_id, sender_id, sms_text) VALUES ('u', now(), 's', 'hi')", OK),
    ("INSERT INTO smss_by_users (user_id, sms_id, sms_text) VALUES ('u', 'nope', 'hi')", InvalidRequest),
    ("INSERT INTO smss_by_users (user_id, sms_id, sms_text) VALUES ('u', uuid(), 'hi')", InvalidRequest),
    ("INSERT INTO smss_by_users (user_id, sms_id) VALUES ('u', 5f8a1b2c-0000-1000-8000-000000000000)", OK),
    ('INSERT INTO t JSON \'{"k": 5, "c1": 1, "c2": "a", "v": "j"}\'', OK),
    ("INSERT INTO t (k, c1, c2, v) VALUES (1, 1, 'a', 'x') IF EXISTS", SyntaxException),
    ("INSERT INTO system.local (key) VALUES ('x')", OK),
    # --- UPDATE
    ("UPDATE t SET v = 'y' WHERE k = 1 AND c1 = 1 AND c2 = 'a'", OK),
    ("UPDATE t SET v = 'y' WHERE k IN (1, 2) AND c1 = 1 AND c2 = 'a'", OK),
    ("UPDATE t SET v = 'y' WHERE k = 1 AND c1 = 1", InvalidRequest),
    ("UPDATE t SET v = 'y' WHERE c1 = 1 AND c2 = 'a'", InvalidRequest),
    ("UPDATE t SET k = 2 WHERE k = 1 AND c1 = 1 AND c2 = 'a'", InvalidRequest),
    ("UPDATE t SET v = 'y' WHERE k = 1 AND c1 > 1 AND c2 = 'a'", InvalidRequest),
    ("UPDATE t SET v = 'y' WHERE k = 1 AND c1 = 1 AND c2 = 'a' AND v = 'x'", InvalidRequest),
    ("UPDATE t SET l = l + [3], s = s + {'z'}, m['b'] = 2 WHERE k = 1 AND c1 = 1 AND c2 = 'a'", OK),
    ("UPDATE t SET n = n + 1 WHERE k = 1 AND c1 = 1 AND c2 = 'a'", InvalidRequest),
    ("UPDATE t USING TTL 5 SET v = 'y' WHERE k = 1 AND c1 = 1 AND c2 = 'a' IF EXISTS", OK),
    ("UPDATE t SET v = 'y' WHERE k = 1 AND c1 = 1 AND c2 = 'a' IF v = 'x'", OK),
    ("UPDATE t SET v = 'y' WHERE k IN (1, 2) AND c1 = 1 AND c2 = 'a' IF v = 'x'", InvalidRequest),
    ("UPDATE cnt SET hits = hits + 1 WHERE k = 1", OK),
    ("UPDATE cnt SET hits = 5 WHERE k = 1", InvalidRequest),
    ("UPDATE st SET sv = 'static' WHERE k = 1", OK),
    ("UPDATE t SET v = 'y' WHERE token(k) = 1 AND c1 = 1 AND c2 = 'a'", InvalidRequest),
    ("UPDATE t SET v = 'y' WHERE k = 1 AND c1 = 1 AND c2 = 'a' ALLOW FILTERING", SyntaxException),
    # --- DELETE
    ("DELETE FROM t WHERE k = 1", OK),
    ("DELETE FROM t WHERE k = 1 AND c1 = 1", OK),
    ("DELETE FROM t WHERE k = 1 AND c1 > 1", OK),
    ("DELETE FROM t WHERE k = 1 AND c2 = 'a'", InvalidRequest),
    ("DELETE v FROM t WHERE k = 1 AND c1 = 1 AND c2 = 'a'", OK),
    ("DELETE v FROM t WHERE k = 1", InvalidRequest),
    ("DELETE k FROM t WHERE k = 1", InvalidRequest),
    ("DELETE FROM t WHERE c1 = 1", InvalidRequest),
    ("DELETE FROM t WHERE k = 1 AND v = 'x'", InvalidRequest),
    ("DELETE FROM t USING TTL 5 WHERE k = 1", SyntaxException),
    ("DELETE FROM t USING TIMESTAMP 5 WHERE k = 1", OK),
    ("DELETE m['a'] FROM t WHERE k = 1 AND c1 = 1 AND c2 = 'a'", OK),
    ("DELETE FROM t WHERE k = 1 AND c1 = 1 AND c2 = 'a' IF EXISTS", OK),
    ("DELETE FROM t WHERE k = 1 IF EXISTS", InvalidRequest),
    # --- BATCH
    (
        "BEGIN BATCH INSERT INTO t (k, c1, c2) VALUES (1, 2, 'a'); UPDATE t SET v = 'b' WHERE k = 1 AND c1 = 2 "
        "AND c2 = 'a'; APPLY BATCH",
        OK,
    ),
    ("BEGIN UNLOGGED BATCH USING TIMESTAMP 10 DELETE FROM t WHERE k = 3; APPLY BATCH", OK),
    (
        "BEGIN BATCH USING TIMESTAMP 10 INSERT INTO t (k, c1, c2) VALUES (1, 2, 'a') USING TIMESTAMP 5; APPLY BATCH",
        InvalidRequest,
    ),
    ("BEGIN BATCH UPDATE cnt SET hits = hits + 1 WHERE k = 1; APPLY BATCH", InvalidRequest),
    ("BEGIN COUNTER BATCH UPDATE cnt SET hits = hits + 1 WHERE k = 1; APPLY BATCH", OK),
    ("BEGIN BATCH SELECT * FROM t; APPLY BATCH", SyntaxException),
]


@pytest.fixture()
def executor() -> tuple[Executor, ClientSession]:
    ex = Executor(Node(), lambda: 1_700_000_000_000_000, lambda change: None)
    session = ClientSession()
    for statement in SETUP:
        ex.query(statement, QueryParameters(), session)
    return ex, session


@pytest.mark.parametrize(("statement", "expected"), CASES, ids=[c[0][:70] for c in CASES])
def test_statement_verdict_matches_cassandra(
    executor: tuple[Executor, ClientSession], statement: str, expected: type[CqlError] | None
) -> None:
    ex, session = executor
    if expected is None:
        ex.query(statement, QueryParameters(), session)
    else:
        with pytest.raises(expected) as info:
            ex.query(statement, QueryParameters(), session)
        assert type(info.value) is expected


def test_conformance_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert sum(1 for _, v in CASES if v is None) >= 20
