"""Read/write semantics in-process: last-write-wins, tombstones, TTL with an injected clock, paging."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cql_emulator import ManualClock
from tests.cql_emulator.errors import InvalidRequest
from tests.cql_emulator.executor import ClientSession, Executor, Node
from tests.cql_emulator.murmur3 import murmur3_token
from tests.cql_emulator.protocol import QueryParameters
from tests.cql_emulator.results import Rows
from tests.cql_emulator.types import deserialize, serialize


class Db:
    def __init__(self) -> None:
        self.clock = ManualClock(1_700_000_000_000_000)
        self.ex = Executor(Node(), self.clock, lambda change: None)
        self.session = ClientSession()
        self.run("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        self.run("USE ks")

    def run(self, cql: str, **params: Any) -> Any:
        return self.ex.query(cql, QueryParameters(**params), self.session)

    def rows(self, cql: str, **params: Any) -> list[dict[str, Any]]:
        result = self.run(cql, **params)
        assert isinstance(result, Rows)
        return [
            {c.name: deserialize(c.ctype, v) for c, v in zip(result.columns, row, strict=True)} for row in result.rows
        ]


@pytest.fixture()
def db() -> Db:
    d = Db()
    d.run("CREATE TABLE t (k int, c int, v text, n int, PRIMARY KEY (k, c))")
    return d


def test_last_write_wins_by_timestamp_not_arrival(db: Db) -> None:
    db.run("INSERT INTO t (k, c, v) VALUES (1, 1, 'new') USING TIMESTAMP 20")
    db.run("INSERT INTO t (k, c, v) VALUES (1, 1, 'old') USING TIMESTAMP 10")
    assert db.rows("SELECT v, writetime(v) AS w FROM t WHERE k = 1") == [{"v": "new", "w": 20}]


def test_client_default_timestamp_is_used(db: Db) -> None:
    db.run("INSERT INTO t (k, c, v) VALUES (1, 1, 'x')", timestamp=99)
    assert db.rows("SELECT writetime(v) AS w FROM t WHERE k = 1") == [{"w": 99}]


def test_delete_tombstone_shadows_older_writes_only(db: Db) -> None:
    db.run("INSERT INTO t (k, c, v) VALUES (1, 1, 'a') USING TIMESTAMP 10")
    db.run("DELETE FROM t USING TIMESTAMP 15 WHERE k = 1")
    assert db.rows("SELECT * FROM t WHERE k = 1") == []
    db.run("INSERT INTO t (k, c, v) VALUES (1, 2, 'b') USING TIMESTAMP 20")
    assert [r["c"] for r in db.rows("SELECT * FROM t WHERE k = 1")] == [2]


def test_range_delete_on_clustering(db: Db) -> None:
    for c in range(6):
        db.run(f"INSERT INTO t (k, c) VALUES (1, {c})")
    db.run("DELETE FROM t WHERE k = 1 AND c >= 2 AND c < 4")
    assert [r["c"] for r in db.rows("SELECT c FROM t WHERE k = 1")] == [0, 1, 4, 5]


def test_update_creates_row_without_marker_and_null_column_delete(db: Db) -> None:
    db.run("UPDATE t SET v = 'u' WHERE k = 2 AND c = 1")
    assert db.rows("SELECT v FROM t WHERE k = 2") == [{"v": "u"}]
    db.run("DELETE v FROM t WHERE k = 2 AND c = 1")
    assert db.rows("SELECT * FROM t WHERE k = 2") == []
    db.run("INSERT INTO t (k, c) VALUES (3, 1)")
    assert db.rows("SELECT k, v FROM t WHERE k = 3") == [{"k": 3, "v": None}]


def test_ttl_expiry_follows_injected_clock(db: Db) -> None:
    db.run("INSERT INTO t (k, c, v) VALUES (1, 1, 'x') USING TTL 10")
    assert db.rows("SELECT ttl(v) AS t FROM t WHERE k = 1") == [{"t": 10}]
    db.clock.advance(4)
    assert db.rows("SELECT ttl(v) AS t FROM t WHERE k = 1") == [{"t": 6}]
    db.clock.advance(6)
    assert db.rows("SELECT * FROM t WHERE k = 1") == []


def test_default_ttl_and_explicit_ttl_zero(db: Db) -> None:
    db.run("CREATE TABLE d (k int PRIMARY KEY, v text) WITH default_time_to_live = 100")
    db.run("INSERT INTO d (k, v) VALUES (1, 'default')")
    db.run("INSERT INTO d (k, v) VALUES (2, 'forever') USING TTL 0")
    assert db.rows("SELECT k, ttl(v) AS t FROM d WHERE k IN (1, 2)") == [{"k": 1, "t": 100}, {"k": 2, "t": None}]
    db.clock.advance(100)
    assert db.rows("SELECT k FROM d") == [{"k": 2}]


def test_update_ttl_keeps_row_alive_only_through_cells(db: Db) -> None:
    db.run("INSERT INTO t (k, c, v) VALUES (1, 1, 'a')")
    db.run("UPDATE t USING TTL 5 SET n = 3 WHERE k = 1 AND c = 1")
    db.clock.advance(5)
    assert db.rows("SELECT v, n FROM t WHERE k = 1") == [{"v": "a", "n": None}]


def test_clustering_order_desc_and_order_by_reverses(db: Db) -> None:
    db.run("CREATE TABLE r (k int, c int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)")
    for c in (2, 9, 5):
        db.run(f"INSERT INTO r (k, c) VALUES (1, {c})")
    assert [r["c"] for r in db.rows("SELECT c FROM r WHERE k = 1")] == [9, 5, 2]
    assert [r["c"] for r in db.rows("SELECT c FROM r WHERE k = 1 ORDER BY c ASC")] == [2, 5, 9]
    assert [r["c"] for r in db.rows("SELECT c FROM r WHERE k = 1 AND c < 9 LIMIT 1")] == [5]


def test_full_scan_orders_partitions_by_token(db: Db) -> None:
    for k in range(10):
        db.run(f"INSERT INTO t (k, c) VALUES ({k}, 0)")
    keys = [r["k"] for r in db.rows("SELECT k, token(k) AS tok FROM t")]
    assert keys == sorted(range(10), key=lambda k: murmur3_token(serialize(db_int(), k)))
    toks = db.rows("SELECT token(k) AS tok FROM t WHERE k = 3")
    assert toks == [{"tok": murmur3_token((3).to_bytes(4, "big"))}]


def db_int() -> Any:
    from tests.cql_emulator.types import CqlType

    return CqlType("int")


def test_paging_resumes_after_last_row_and_respects_limit(db: Db) -> None:
    for k in range(3):
        for c in range(4):
            db.run(f"INSERT INTO t (k, c) VALUES ({k}, {c})")
    seen, state = [], None
    while True:
        result = db.run("SELECT k, c FROM t LIMIT 10", page_size=3, paging_state=state)
        seen += result.rows
        state = result.paging_state
        if state is None:
            break
    assert len(seen) == 10 and len(set(map(tuple, seen))) == 10


def test_allow_filtering_scans_and_filters(db: Db) -> None:
    db.run("INSERT INTO t (k, c, v, n) VALUES (1, 1, 'a', 5)")
    db.run("INSERT INTO t (k, c, v, n) VALUES (2, 1, 'b', 7)")
    assert db.rows("SELECT k FROM t WHERE n > 6 ALLOW FILTERING") == [{"k": 2}]
    assert db.rows("SELECT count(*) FROM t WHERE v = 'a' ALLOW FILTERING") == [{"count": 1}]


def test_compound_partition_key_in_query(db: Db) -> None:
    db.run("CREATE TABLE cp (a text, b text, c int, PRIMARY KEY ((a, b), c))")
    db.run("INSERT INTO cp (a, b, c) VALUES ('x', 'y', 1)")
    db.run("INSERT INTO cp (a, b, c) VALUES ('x', 'z', 2)")
    rows = db.rows("SELECT c FROM cp WHERE a = 'x' AND b IN ('z', 'y')")
    assert sorted(r["c"] for r in rows) == [1, 2]


def test_lightweight_transactions_report_applied(db: Db) -> None:
    first = db.rows("INSERT INTO t (k, c, v) VALUES (1, 1, 'a') IF NOT EXISTS")
    assert first == [{"[applied]": True}]
    second = db.rows("INSERT INTO t (k, c, v) VALUES (1, 1, 'b') IF NOT EXISTS")
    assert second[0]["[applied]"] is False and second[0]["v"] == "a"
    assert db.rows("UPDATE t SET v = 'c' WHERE k = 1 AND c = 1 IF v = 'zzz'") == [{"[applied]": False, "v": "a"}]
    assert db.rows("UPDATE t SET v = 'c' WHERE k = 1 AND c = 1 IF v = 'a'") == [{"[applied]": True}]
    assert db.rows("DELETE FROM t WHERE k = 9 AND c = 9 IF EXISTS") == [{"[applied]": False}]


def test_collection_operations(db: Db) -> None:
    db.run("CREATE TABLE col (k int PRIMARY KEY, l list<int>, s set<text>, m map<text, int>)")
    db.run("INSERT INTO col (k, l, s, m) VALUES (1, [1, 2], {'b'}, {'x': 1})")
    db.run("UPDATE col SET l = l + [3], l = [0] + l, s = s + {'a'}, m['y'] = 2 WHERE k = 1")
    db.run("UPDATE col SET m = m - {'x'} WHERE k = 1")
    assert db.rows("SELECT l, s, m FROM col WHERE k = 1") == [{"l": [0, 1, 2, 3], "s": ["a", "b"], "m": {"y": 2}}]
    db.run("DELETE l[0] FROM col WHERE k = 1")
    assert db.rows("SELECT l FROM col WHERE k = 1") == [{"l": [1, 2, 3]}]


def test_static_columns_are_shared_by_partition(db: Db) -> None:
    db.run("CREATE TABLE s (k int, c int, sv text STATIC, v text, PRIMARY KEY (k, c))")
    db.run("INSERT INTO s (k, c, sv, v) VALUES (1, 1, 'shared', 'a')")
    db.run("INSERT INTO s (k, c, v) VALUES (1, 2, 'b')")
    assert [r["sv"] for r in db.rows("SELECT sv FROM s WHERE k = 1")] == ["shared", "shared"]


def test_counters_increment(db: Db) -> None:
    db.run("CREATE TABLE cnt (k int PRIMARY KEY, hits counter)")
    db.run("UPDATE cnt SET hits = hits + 2 WHERE k = 1")
    db.run("UPDATE cnt SET hits = hits - 1 WHERE k = 1")
    assert db.rows("SELECT hits FROM cnt WHERE k = 1") == [{"hits": 1}]


def test_truncate_and_drop_remove_data(db: Db) -> None:
    db.run("INSERT INTO t (k, c) VALUES (1, 1)")
    db.run("TRUNCATE t")
    assert db.rows("SELECT * FROM t") == []
    db.run("INSERT INTO t (k, c) VALUES (1, 1)")
    db.run("DROP TABLE t")
    db.run("CREATE TABLE t (k int, c int, PRIMARY KEY (k, c))")
    assert db.rows("SELECT * FROM t") == []


def test_bound_values_are_validated_against_receivers(db: Db) -> None:
    db.ex.prepare("SELECT * FROM t WHERE k = ?", db.session)
    with pytest.raises(InvalidRequest):
        db.run("SELECT * FROM t WHERE k = ?", values=[b"\x00"])
    with pytest.raises(InvalidRequest):
        db.run("SELECT * FROM t WHERE k = ?", values=[])
    with pytest.raises(InvalidRequest):
        db.run("SELECT * FROM t WHERE k IN (1, 2) ORDER BY c", page_size=100)
    assert db.rows("SELECT * FROM t WHERE k IN (1, 2) ORDER BY c") == []


def test_schema_version_changes_on_ddl(db: Db) -> None:
    before = db.ex.schema.version
    db.run("CREATE TABLE IF NOT EXISTS t (k int PRIMARY KEY)")
    assert db.ex.schema.version == before
    db.run("CREATE TABLE t2 (k int PRIMARY KEY)")
    assert db.ex.schema.version != before
