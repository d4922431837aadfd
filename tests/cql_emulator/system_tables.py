"""The system tables cassandra-driver reads: system.local/peers*, system_schema.*, virtual schema."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from .schema import Column, Keyspace, Schema, Table
from .types import parse_type

LOCAL_STRATEGY = {"class": "org.apache.cassandra.locator.LocalStrategy"}

# keyspace -> table -> (columns "name type, ...", partition key, clustering)
DEFINITIONS: dict[str, dict[str, tuple[str, list[str], list[str]]]] = {
    "system": {
        "local": (
            "key text, bootstrapped text, broadcast_address inet, broadcast_port int, cluster_name text, "
            "cql_version text, data_center text, gossip_generation int, host_id uuid, listen_address inet, "
            "listen_port int, native_protocol_version text, partitioner text, rack text, release_version text, "
            "rpc_address inet, rpc_port int, schema_version uuid, tokens set<text>, "
            "truncated_at map<uuid, blob>",
            ["key"],
            [],
        ),
        "peers": (
            "peer inet, data_center text, host_id uuid, preferred_ip inet, rack text, release_version text, "
            "rpc_address inet, schema_version uuid, tokens set<text>",
            ["peer"],
            [],
        ),
        "peers_v2": (
            "peer inet, peer_port int, data_center text, host_id uuid, native_address inet, native_port int, "
            "preferred_ip inet, preferred_port int, rack text, release_version text, schema_version uuid, "
            "tokens set<text>",
            ["peer"],
            ["peer_port"],
        ),
    },
    "system_schema": {
        "keyspaces": (
            "keyspace_name text, durable_writes boolean, replication frozen<map<text, text>>",
            ["keyspace_name"],
            [],
        ),
        "tables": (
            "keyspace_name text, table_name text, additional_write_policy text, bloom_filter_fp_chance double, "
            "caching frozen<map<text, text>>, cdc boolean, comment text, compaction frozen<map<text, text>>, "
            "compression frozen<map<text, text>>, crc_check_chance double, default_time_to_live int, "
            "extensions frozen<map<text, blob>>, flags frozen<set<text>>, gc_grace_seconds int, id uuid, "
            "max_index_interval int, memtable_flush_period_in_ms int, min_index_interval int, read_repair text, "
            "speculative_retry text",
            ["keyspace_name"],
            ["table_name"],
        ),
        "columns": (
            "keyspace_name text, table_name text, column_name text, clustering_order text, "
            "column_name_bytes blob, kind text, position int, type text",
            ["keyspace_name"],
            ["table_name", "column_name"],
        ),
        "dropped_columns": (
            "keyspace_name text, table_name text, column_name text, dropped_time timestamp, kind text, type text",
            ["keyspace_name"],
            ["table_name", "column_name"],
        ),
        "types": (
            "keyspace_name text, type_name text, field_names frozen<list<text>>, field_types frozen<list<text>>",
            ["keyspace_name"],
            ["type_name"],
        ),
        "functions": (
            "keyspace_name text, function_name text, argument_types frozen<list<text>>, "
            "argument_names frozen<list<text>>, body text, called_on_null_input boolean, language text, "
            "return_type text",
            ["keyspace_name"],
            ["function_name", "argument_types"],
        ),
        "aggregates": (
            "keyspace_name text, aggregate_name text, argument_types frozen<list<text>>, final_func text, "
            "initcond text, return_type text, state_func text, state_type text",
            ["keyspace_name"],
            ["aggregate_name", "argument_types"],
        ),
        "indexes": (
            "keyspace_name text, table_name text, index_name text, kind text, options frozen<map<text, text>>",
            ["keyspace_name"],
            ["table_name", "index_name"],
        ),
        "triggers": (
            "keyspace_name text, table_name text, trigger_name text, options frozen<map<text, text>>",
            ["keyspace_name"],
            ["table_name", "trigger_name"],
        ),
        "views": (
            "keyspace_name text, view_name text, base_table_id uuid, base_table_name text, "
            "bloom_filter_fp_chance double, caching frozen<map<text, text>>, cdc boolean, comment text, "
            "compaction frozen<map<text, text>>, compression frozen<map<text, text>>, crc_check_chance double, "
            "default_time_to_live int, extensions frozen<map<text, blob>>, gc_grace_seconds int, id uuid, "
            "include_all_columns boolean, max_index_interval int, memtable_flush_period_in_ms int, "
            "min_index_interval int, read_repair text, speculative_retry text, where_clause text",
            ["keyspace_name"],
            ["view_name"],
        ),
    },
    "system_virtual_schema": {
        "keyspaces": ("keyspace_name text", ["keyspace_name"], []),
        "tables": ("keyspace_name text, table_name text, comment text", ["keyspace_name"], ["table_name"]),
        "columns": (
            "keyspace_name text, table_name text, column_name text, clustering_order text, "
            "column_name_bytes blob, kind text, position int, type text",
            ["keyspace_name"],
            ["table_name", "column_name"],
        ),
    },
}


def _split_columns(text: str) -> list[tuple[str, str]]:
    out, depth, current = [], 0, ""
    for ch in text + ",":
        if ch == "," and depth == 0:
            name, ctype = current.strip().split(" ", 1)
            out.append((name, ctype.strip()))
            current = ""
            continue
        depth += ch == "<"
        depth -= ch == ">"
        current += ch
    return out


def build_table(
    keyspace: str,
    name: str,
    columns: list[tuple[str, str]],
    partition: list[str],
    clustering: list[str],
    rows: Callable[[], list[dict[str, Any]]] | None = None,
) -> Table:
    cols: dict[str, Column] = {}
    for col_name, type_text in columns:
        kind = "partition_key" if col_name in partition else "clustering" if col_name in clustering else "regular"
        position = (
            partition.index(col_name)
            if col_name in partition
            else (clustering.index(col_name) if col_name in clustering else -1)
        )
        cols[col_name] = Column(col_name, parse_type(type_text), kind, position)
    table = Table(keyspace, name, cols, partition, clustering, virtual_rows=rows)
    table.id = uuid.uuid5(uuid.NAMESPACE_OID, f"{keyspace}.{name}")
    return table


class SystemTables:
    """Installs the system keyspaces into a Schema; row providers read live server state."""

    def __init__(self, schema: Schema, node: Any) -> None:
        self.schema = schema
        self.node = node
        for ks_name, tables in DEFINITIONS.items():
            ks = Keyspace(ks_name, dict(LOCAL_STRATEGY), virtual=ks_name == "system_virtual_schema")
            for table_name, (columns, partition, clustering) in tables.items():
                provider = getattr(self, f"_{ks_name}_{table_name}", None) or (lambda: [])
                ks.tables[table_name] = build_table(
                    ks_name, table_name, _split_columns(columns), partition, clustering, provider
                )
            schema.keyspaces[ks_name] = ks

    def _node_row(self) -> dict[str, Any]:
        node = self.node
        return {
            "data_center": node.data_center,
            "rack": node.rack,
            "host_id": node.host_id,
            "release_version": node.release_version,
            "schema_version": self.schema.version,
            "tokens": [str(t) for t in node.tokens],
        }

    def _system_local(self) -> list[dict[str, Any]]:
        node = self.node
        return [
            {
                **self._node_row(),
                "key": "local",
                "bootstrapped": "COMPLETED",
                "broadcast_address": node.host,
                "broadcast_port": 7000,
                "cluster_name": node.cluster_name,
                "cql_version": "3.4.6",
                "gossip_generation": 1700000000,
                "listen_address": node.host,
                "listen_port": 7000,
                "native_protocol_version": "4",
                "partitioner": "org.apache.cassandra.dht.Murmur3Partitioner",
                "rpc_address": node.host,
                "rpc_port": node.port,
                "truncated_at": None,
            }
        ]

    def _system_schema_keyspaces(self) -> list[dict[str, Any]]:
        return [
            {"keyspace_name": ks.name, "durable_writes": ks.durable_writes, "replication": ks.replication}
            for ks in self.schema.keyspaces.values()
            if not ks.virtual
        ]

    def _tables(self) -> list[Table]:
        return [t for ks in self.schema.keyspaces.values() if not ks.virtual for t in ks.tables.values()]

    def _system_schema_tables(self) -> list[dict[str, Any]]:
        rows = []
        for t in self._tables():
            options = {k: v for k, v in t.options.items()}
            rows.append(
                {
                    **options,
                    "keyspace_name": t.keyspace,
                    "table_name": t.name,
                    "flags": ["compound"],
                    "id": t.id,
                }
            )
        return rows

    def _system_schema_columns(self) -> list[dict[str, Any]]:
        return [_column_row(t, c) for t in self._tables() for c in t.columns.values()]

    def _system_virtual_schema_keyspaces(self) -> list[dict[str, Any]]:
        return [{"keyspace_name": ks.name} for ks in self.schema.keyspaces.values() if ks.virtual]

    def _system_virtual_schema_tables(self) -> list[dict[str, Any]]:
        return [
            {"keyspace_name": ks.name, "table_name": t.name, "comment": ""}
            for ks in self.schema.keyspaces.values()
            if ks.virtual
            for t in ks.tables.values()
        ]

    def _system_virtual_schema_columns(self) -> list[dict[str, Any]]:
        return [
            _column_row(t, c)
            for ks in self.schema.keyspaces.values()
            if ks.virtual
            for t in ks.tables.values()
            for c in t.columns.values()
        ]


def _column_row(table: Table, col: Column) -> dict[str, Any]:
    order = "none" if col.kind != "clustering" else ("desc" if col.descending else "asc")
    return {
        "keyspace_name": table.keyspace,
        "table_name": table.name,
        "column_name": col.name,
        "clustering_order": order,
        "column_name_bytes": col.name.encode(),
        "kind": col.kind,
        "position": col.position,
        "type": col.ctype.cql(),
    }
