"""Statement dataclasses produced by the parser."""

from __future__ import annotations

from dataclasses import dataclass, field

from .types import CqlType


@dataclass
class Literal:
    kind: str  # string, int, float, uuid, hex, bool, null, nan, infinity
    text: str


@dataclass
class BindMarker:
    index: int
    name: str | None = None


@dataclass
class Collection:
    kind: str  # list, set, map, tuple
    items: list[Term] = field(default_factory=list)  # map: k1, v1, k2, v2, ...


@dataclass
class FunctionCall:
    name: str
    args: list[Term] = field(default_factory=list)


@dataclass
class Cast:
    ctype: CqlType
    term: Term


Term = Literal | BindMarker | Collection | FunctionCall | Cast


@dataclass
class TableName:
    keyspace: str | None
    name: str


@dataclass
class Relation:
    columns: list[str]  # one column, or several for token(...) and multi-column relations
    op: str  # = < <= > >= != IN CONTAINS CONTAINS_KEY LIKE
    value: Term | list[Term]  # list for IN (...)
    token: bool = False
    multi: bool = False


@dataclass
class Selector:
    kind: str  # column, writetime, ttl, count, token, function
    column: str | None
    alias: str | None = None
    args: list[str] = field(default_factory=list)


@dataclass
class Select:
    table: TableName
    selectors: list[Selector] | None  # None means *
    where: list[Relation] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    limit: Term | None = None
    per_partition_limit: Term | None = None
    allow_filtering: bool = False
    distinct: bool = False
    json: bool = False
    group_by: list[str] = field(default_factory=list)


@dataclass
class Using:
    ttl: Term | None = None
    timestamp: Term | None = None


@dataclass
class Condition:
    column: str
    op: str
    value: Term | list[Term]


@dataclass
class Insert:
    table: TableName
    columns: list[str]
    values: list[Term]
    if_not_exists: bool = False
    using: Using = field(default_factory=Using)
    json: Term | None = None


@dataclass
class Assignment:
    column: str
    op: str  # set, add, sub, prepend, set_element
    value: Term
    key: Term | None = None


@dataclass
class Update:
    table: TableName
    assignments: list[Assignment]
    where: list[Relation]
    using: Using = field(default_factory=Using)
    if_exists: bool = False
    conditions: list[Condition] = field(default_factory=list)


@dataclass
class Delete:
    table: TableName
    columns: list[tuple[str, Term | None]]
    where: list[Relation]
    using: Using = field(default_factory=Using)
    if_exists: bool = False
    conditions: list[Condition] = field(default_factory=list)


Modification = Insert | Update | Delete


@dataclass
class Batch:
    kind: str  # logged, unlogged, counter
    statements: list[Modification]
    using: Using = field(default_factory=Using)


@dataclass
class CreateKeyspace:
    name: str
    properties: dict[str, object]
    if_not_exists: bool = False


@dataclass
class DropKeyspace:
    name: str
    if_exists: bool = False


@dataclass
class ColumnDef:
    name: str
    ctype: CqlType
    static: bool = False


@dataclass
class CreateTable:
    table: TableName
    columns: list[ColumnDef]
    partition_key: list[str]
    clustering: list[str]
    clustering_order: list[tuple[str, bool]] = field(default_factory=list)
    properties: dict[str, object] = field(default_factory=dict)
    if_not_exists: bool = False
    compact_storage: bool = False
    primary_key_count: int = 1


@dataclass
class AlterTable:
    table: TableName
    action: str  # add, drop, with, rename
    columns: list[ColumnDef] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    properties: dict[str, object] = field(default_factory=dict)


@dataclass
class DropTable:
    table: TableName
    if_exists: bool = False


@dataclass
class Truncate:
    table: TableName


@dataclass
class Use:
    keyspace: str


@dataclass
class CreateIndex:
    table: TableName
    name: str | None
    target: str
    if_not_exists: bool = False


Statement = (
    Select
    | Insert
    | Update
    | Delete
    | Batch
    | CreateKeyspace
    | DropKeyspace
    | CreateTable
    | AlterTable
    | DropTable
    | Truncate
    | Use
    | CreateIndex
)
