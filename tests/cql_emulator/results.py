"""RESULT message bodies (native_protocol_v4.spec section 4.2.5)."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import protocol as p
from .types import CqlType


@dataclass(frozen=True)
class ColumnSpec:
    keyspace: str
    table: str
    name: str
    ctype: CqlType


@dataclass
class Void:
    def encode(self, *, skip_metadata: bool = False) -> bytes:
        return p.w_int(p.VOID)


@dataclass
class SetKeyspace:
    keyspace: str

    def encode(self, *, skip_metadata: bool = False) -> bytes:
        return p.w_int(p.SET_KEYSPACE) + p.w_string(self.keyspace)


@dataclass
class SchemaChange:
    change: str  # CREATED, UPDATED, DROPPED
    target: str  # KEYSPACE, TABLE
    keyspace: str
    name: str | None = None

    def body(self) -> bytes:
        out = p.w_string(self.change) + p.w_string(self.target) + p.w_string(self.keyspace)
        if self.target != "KEYSPACE":
            out += p.w_string(self.name or "")
        return out

    def encode(self, *, skip_metadata: bool = False) -> bytes:
        return p.w_int(p.SCHEMA_CHANGE) + self.body()

    def event(self) -> bytes:
        return p.w_string("SCHEMA_CHANGE") + self.body()


def column_specs(columns: list[ColumnSpec]) -> bytes:
    """Column specs, with the global table spec when every column shares one table."""
    if columns and len({(c.keyspace, c.table) for c in columns}) == 1:
        head = p.w_string(columns[0].keyspace) + p.w_string(columns[0].table)
        return head + b"".join(p.w_string(c.name) + c.ctype.option() for c in columns)
    return b"".join(
        p.w_string(c.keyspace) + p.w_string(c.table) + p.w_string(c.name) + c.ctype.option() for c in columns
    )


def metadata_flags(columns: list[ColumnSpec]) -> int:
    return p.META_GLOBAL_TABLES_SPEC if columns and len({(c.keyspace, c.table) for c in columns}) == 1 else 0


@dataclass
class Rows:
    columns: list[ColumnSpec]
    rows: list[list[bytes | None]] = field(default_factory=list)
    paging_state: bytes | None = None

    def encode(self, *, skip_metadata: bool = False) -> bytes:
        flags = 0
        if skip_metadata:
            flags |= p.META_NO_METADATA
        else:
            flags |= metadata_flags(self.columns)
        if self.paging_state is not None:
            flags |= p.META_HAS_MORE_PAGES
        out = p.w_int(flags) + p.w_int(len(self.columns))
        if self.paging_state is not None:
            out += p.w_bytes(self.paging_state)
        if not skip_metadata:
            out += column_specs(self.columns)
        body = bytearray(p.w_int(p.ROWS) + out + p.w_int(len(self.rows)))
        for row in self.rows:
            for cell in row:
                body += p.w_bytes(cell)
        return bytes(body)


@dataclass
class Prepared:
    query_id: bytes
    variables: list[ColumnSpec]
    pk_indexes: list[int]
    result_columns: list[ColumnSpec]

    def encode(self, *, skip_metadata: bool = False) -> bytes:
        out = p.w_int(p.PREPARED) + p.w_short_bytes(self.query_id)
        out += p.w_int(metadata_flags(self.variables)) + p.w_int(len(self.variables))
        out += p.w_int(len(self.pk_indexes)) + b"".join(p.w_short(i) for i in self.pk_indexes)
        out += column_specs(self.variables)
        if self.result_columns:
            out += p.w_int(metadata_flags(self.result_columns)) + p.w_int(len(self.result_columns))
            out += column_specs(self.result_columns)
        else:
            out += p.w_int(p.META_NO_METADATA) + p.w_int(0)
        return out


Result = Void | SetKeyspace | SchemaChange | Rows | Prepared
