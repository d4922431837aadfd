"""The tokenizer and recursive-descent parser."""

from __future__ import annotations

import pytest

from tests.cql_emulator import statements as st
from tests.cql_emulator.errors import SyntaxException
from tests.cql_emulator.parser import Parser, parse


def test_parse_select_with_everything() -> None:
    stmt = parse(
        "SELECT a, writetime(b) AS w, ttl(b), count(*) FROM ks.t WHERE a IN (1, 2) AND b > ? "
        "ORDER BY b DESC PER PARTITION LIMIT 2 LIMIT 10 ALLOW FILTERING;"
    )
    assert isinstance(stmt, st.Select)
    assert stmt.table == st.TableName("ks", "t")
    assert [s.kind for s in stmt.selectors or []] == ["column", "writetime", "ttl", "count"]
    assert stmt.selectors and stmt.selectors[1].alias == "w"
    assert stmt.where[0].op == "IN" and stmt.where[1].value == st.BindMarker(0)
    assert stmt.order_by == [("b", True)] and stmt.allow_filtering
    assert stmt.limit == st.Literal("int", "10")


def test_identifiers_fold_case_unless_quoted() -> None:
    stmt = parse('SELECT "MixedCase", Lower FROM "KS"."Tab"')
    assert isinstance(stmt, st.Select)
    assert [s.column for s in stmt.selectors or []] == ["MixedCase", "lower"]
    assert stmt.table == st.TableName("KS", "Tab")


def test_parse_create_table_feast_template() -> None:
    stmt = parse(
        """
        CREATE TABLE IF NOT EXISTS "ks"."proj_view" (
            entity_key      TEXT,
            feature_name    TEXT,
            value           BLOB,
            event_ts        TIMESTAMP,
            created_ts      TIMESTAMP,
            PRIMARY KEY ((entity_key), feature_name)
        ) WITH CLUSTERING ORDER BY (feature_name ASC);
        """
    )
    assert isinstance(stmt, st.CreateTable) and stmt.if_not_exists
    assert stmt.partition_key == ["entity_key"] and stmt.clustering == ["feature_name"]
    assert stmt.clustering_order == [("feature_name", False)]


def test_parse_compound_partition_key_and_options() -> None:
    stmt = parse(
        "CREATE TABLE c (a text, b text, t timeuuid, PRIMARY KEY ((a, b), t)) WITH CLUSTERING ORDER BY (t DESC) "
        "AND default_time_to_live = 3600 AND compaction = {'class': 'LeveledCompactionStrategy'}"
    )
    assert isinstance(stmt, st.CreateTable)
    assert stmt.partition_key == ["a", "b"]
    assert stmt.properties == {"default_time_to_live": "3600", "compaction": {"class": "LeveledCompactionStrategy"}}


def test_parse_insert_update_delete_batch() -> None:
    ins = parse("INSERT INTO t (a, b) VALUES (?, :named) IF NOT EXISTS USING TTL 10 AND TIMESTAMP 5")
    assert isinstance(ins, st.Insert) and ins.if_not_exists and ins.values[1] == st.BindMarker(1, "named")
    upd = parse("UPDATE t USING TTL 5 SET l = l + [1], m['k'] = 2, s = {'a'} + s WHERE a = 1 IF EXISTS")
    assert isinstance(upd, st.Update) and [a.op for a in upd.assignments] == ["add", "set_element", "prepend"]
    dele = parse("DELETE a, m[1] FROM t USING TIMESTAMP 3 WHERE a = 1 IF b = 2")
    assert isinstance(dele, st.Delete) and dele.columns[1][1] == st.Literal("int", "1") and dele.conditions
    batch = parse("BEGIN UNLOGGED BATCH INSERT INTO t (a) VALUES (1); DELETE FROM t WHERE a = 2; APPLY BATCH")
    assert isinstance(batch, st.Batch) and batch.kind == "unlogged" and len(batch.statements) == 2


def test_literals_and_comments() -> None:
    stmt = parse(
        "INSERT INTO t (a, b, c, d, e, f) VALUES ('it''s', -1.5e3, 0xCAFE, "
        "123e4567-e89b-12d3-a456-426614174000, {'k': [1]}, NaN) -- trailing\n/* block */"
    )
    assert isinstance(stmt, st.Insert)
    kinds = [getattr(v, "kind", None) for v in stmt.values]
    assert kinds == ["string", "float", "hex", "uuid", "map", "float"]
    assert stmt.values[0] == st.Literal("string", "it's")


def test_marker_count_spans_statement() -> None:
    parser = Parser("SELECT * FROM t WHERE a = ? AND b IN ? LIMIT ?")
    parser.statement()
    assert parser.markers == 3


@pytest.mark.parametrize(
    "text",
    [
        "SELEC * FROM t",
        "SELECT * FORM t",
        "SELECT * FROM t WHERE",
        "SELECT * FROM t LIMIT",
        "CREATE TABEL t (k int PRIMARY KEY)",
        "CREATE TABLE t (select int PRIMARY KEY)",
        "INSERT INTO t VALUES (1)",
        "DELETE FROM t USING TTL 1 WHERE k = 1",
        "UPDATE t SET a = 1",
        "SELECT * FROM t; SELECT * FROM t",
        "SELECT * FROM t WHERE a = 'unterminated",
        "CREATE TABLE t (k nosuchtype PRIMARY KEY)",
    ],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(SyntaxException):
        parse(text)
