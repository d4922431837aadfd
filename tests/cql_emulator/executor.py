"""Statement execution: keyspace/table DDL, dispatch of DML, prepared statements and batches."""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from . import statements as st
from .ddl import DdlMixin
from .errors import InvalidRequest, Unprepared
from .modify import ModifyPlan, json_insert, plan_modification, write_params
from .parser import Parser
from .protocol import BatchMessage, QueryParameters, Value
from .results import ColumnSpec, Prepared, Result, Rows, SchemaChange, Void
from .schema import Schema, Table
from .select import SelectPlan, plan_select, run_select
from .storage import Cell, TableData
from .system_tables import SystemTables
from .terms import Context, Spec
from .types import serialize
from .writes import apply, check_conditions

NO_KEYSPACE = "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"


@dataclass
class Node:
    host: str = "127.0.0.1"
    port: int = 9042
    cluster_name: str = "cql-emulator"
    data_center: str = "datacenter1"
    rack: str = "rack1"
    release_version: str = "4.1.5"
    host_id: uuid.UUID = field(default_factory=uuid.uuid4)
    tokens: list[int] = field(default_factory=lambda: [-(2**63) + i * (2**64 // 16) + 4242 for i in range(16)])


@dataclass
class ClientSession:
    keyspace: str | None = None


@dataclass
class PreparedEntry:
    query_id: bytes
    query: str
    keyspace: str | None
    statement: st.Statement
    plan: SelectPlan | ModifyPlan | None
    result: Prepared
    markers: list[Spec]


Plan = SelectPlan | ModifyPlan


class Executor(DdlMixin):
    def __init__(self, node: Node, clock: Callable[[], int], on_schema_change: Callable[[SchemaChange], None]) -> None:
        self.node = node
        self.clock = clock
        self.on_schema_change = on_schema_change
        self.schema = Schema()
        self.system = SystemTables(self.schema, node)
        self.install_replicated_system_keyspaces()
        self.data: dict[uuid.UUID, TableData] = {}
        self.prepared: dict[bytes, PreparedEntry] = {}

    # -- helpers ------------------------------------------------------------------------------
    def now_s(self) -> int:
        return self.clock() // 1_000_000

    def resolve(self, name: st.TableName, session: ClientSession) -> Table:
        keyspace = name.keyspace or session.keyspace
        if keyspace is None:
            raise InvalidRequest(NO_KEYSPACE)
        return self.schema.table(keyspace, name.name)

    def table_data(self, table: Table) -> TableData:
        if table.virtual_rows is not None:
            return self._materialize(table)
        data = self.data.get(table.id)
        if data is None:
            data = self.data[table.id] = TableData(table)
        return data

    @staticmethod
    def _materialize(table: Table) -> TableData:
        data = TableData(table)
        assert table.virtual_rows is not None
        for values in table.virtual_rows():
            pk = tuple(serialize(table.columns[c].ctype, values[c]) for c in table.partition_key)
            ck = tuple(serialize(table.columns[c].ctype, values[c]) for c in table.clustering)
            row = data.row(pk, ck)
            row.marker = Cell(b"", 0)
            for name in table.regular:
                value = values.get(name)
                if value is not None:
                    row.cells[name] = Cell(serialize(table.columns[name].ctype, value), 0)
        return data

    def schema_changed(self, change: SchemaChange) -> SchemaChange:
        self.schema.bump()
        self.on_schema_change(change)
        return change

    def drop_prepared(self, keyspace: str, table: str | None = None) -> None:
        for key, entry in list(self.prepared.items()):
            plan = entry.plan
            if plan is not None and plan.table.keyspace == keyspace and table in (None, plan.table.name):
                del self.prepared[key]

    # -- planning -----------------------------------------------------------------------------
    def plan(self, stmt: st.Statement, session: ClientSession) -> Plan | None:
        if isinstance(stmt, st.Select):
            return plan_select(self.resolve(stmt.table, session), stmt)
        if isinstance(stmt, st.Insert | st.Update | st.Delete):
            table = self.resolve(stmt.table, session)
            if table.virtual_rows is not None and self.schema.keyspaces[table.keyspace].virtual:
                raise InvalidRequest(f"Modification is not supported on virtual table {table.keyspace}.{table.name}")
            return plan_modification(table, stmt)
        return None

    def marker_specs(self, parser: Parser, plan: Plan | None, stmt: st.Statement) -> list[Spec]:
        specs = plan.specs if plan is not None else {}
        if isinstance(stmt, st.Batch):
            raise InvalidRequest("Batch statements cannot be prepared in the emulator; use BATCH messages")
        missing = [i for i in range(parser.markers) if i not in specs]
        if missing:
            raise InvalidRequest("Bind markers are not supported in this position")
        return [specs[i] for i in range(parser.markers)]

    # -- entry points -------------------------------------------------------------------------
    def query(self, text: str, params: QueryParameters, session: ClientSession) -> Result:
        parser = Parser(text)
        stmt = parser.statement()
        if isinstance(stmt, st.Batch):
            return self.run_text_batch(stmt, params, session)
        plan = self.plan(stmt, session)
        if plan is None:
            if parser.markers:
                raise InvalidRequest("Bind markers are not allowed in schema statements")
            return self.ddl(stmt, session)
        specs = self.marker_specs(parser, plan, stmt)
        names = [(parser_marker_name(stmt, i) or s.name) for i, s in enumerate(specs)]
        return self.run(plan, self.bind(params, specs, names), params)

    def prepare(self, text: str, session: ClientSession) -> Prepared:
        query_id = hashlib.md5(((session.keyspace or "") + text).encode()).digest()
        parser = Parser(text)
        stmt = parser.statement()
        plan = self.plan(stmt, session)
        specs = self.marker_specs(parser, plan, stmt)
        variables: list[ColumnSpec] = []
        pk_indexes: list[int] = []
        result_columns: list[ColumnSpec] = []
        if plan is not None:
            table = plan.table
            variables = [
                ColumnSpec(table.keyspace, table.name, parser_marker_name(stmt, i) or s.name, s.ctype)
                for i, s in enumerate(specs)
            ]
            pk_indexes = _pk_indexes(plan)
            if isinstance(plan, SelectPlan):
                result_columns = plan.result_columns[:1] if plan.stmt.json else plan.result_columns
        result = Prepared(query_id, variables, pk_indexes, result_columns)
        self.prepared[query_id] = PreparedEntry(query_id, text, session.keyspace, stmt, plan, result, specs)
        return result

    def execute(self, query_id: bytes, params: QueryParameters, session: ClientSession) -> Result:
        entry = self.prepared.get(query_id)
        if entry is None:
            raise Unprepared(query_id)
        if entry.plan is None:
            return self.ddl(entry.statement, ClientSession(entry.keyspace or session.keyspace))
        names = [v.name for v in entry.result.variables]
        return self.run(entry.plan, self.bind(params, entry.markers, names), params)

    def bind(self, params: QueryParameters, specs: list[Spec], names: list[str]) -> Context:
        values: list[Value] = list(params.values)
        if params.names is not None:
            by_name = dict(zip(params.names, params.values, strict=True))
            unknown = [n for n in by_name if n not in names]
            if unknown:
                raise InvalidRequest(f"Unknown named value {unknown[0]}")
            values = [by_name.get(n) for n in names]
        if len(values) != len(specs):
            raise InvalidRequest(f"There were {len(specs)} markers(?) in CQL but {len(values)} bound variables")
        return Context(values, self.clock())

    def run(self, plan: Plan, ctx: Context, params: QueryParameters) -> Result:
        if isinstance(plan, SelectPlan):
            return run_select(
                plan,
                self.table_data(plan.table),
                ctx,
                self.now_s(),
                page_size=params.page_size,
                paging_state=params.paging_state,
            )
        return self.modify(plan, ctx, params.timestamp)

    def modify(self, plan: ModifyPlan, ctx: Context, timestamp: int | None) -> Result:
        if isinstance(plan.stmt, st.Insert) and plan.stmt.json is not None:
            plan = copy.copy(plan)
            json_insert(plan, ctx)
        now_s = self.now_s()
        wp = write_params(plan, ctx, timestamp if timestamp is not None else ctx.now_us, now_s)
        if plan.table.virtual_rows is not None:
            return Void()
        data = self.table_data(plan.table)
        if plan.conditional:
            applied, rows = check_conditions(plan, data, ctx, now_s)
            if applied:
                apply(plan, data, ctx, wp, now_s)
            return rows
        apply(plan, data, ctx, wp, now_s)
        return Void()

    # -- batches ------------------------------------------------------------------------------
    def batch(self, msg: BatchMessage, session: ClientSession) -> Result:
        items: list[tuple[ModifyPlan, Context]] = []
        for child in msg.children:
            if child.prepared_id is not None:
                entry = self.prepared.get(child.prepared_id)
                if entry is None:
                    raise Unprepared(child.prepared_id)
                plan = entry.plan
                specs = entry.markers
                names = [v.name for v in entry.result.variables]
            else:
                parser = Parser(child.query or "")
                stmt = parser.statement()
                if isinstance(stmt, st.Select):
                    raise InvalidRequest(
                        "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed."
                    )
                plan = self.plan(stmt, session)
                specs = self.marker_specs(parser, plan, stmt)
                names = [s.name for s in specs]
            if not isinstance(plan, ModifyPlan):
                raise InvalidRequest(
                    "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed."
                )
            items.append((plan, self.bind(QueryParameters(values=list(child.values)), specs, names)))
        return self._run_batch(items, msg.kind, msg.timestamp)

    def run_text_batch(self, stmt: st.Batch, params: QueryParameters, session: ClientSession) -> Result:
        items = []
        ctx = Context(list(params.values), self.clock())
        for child in stmt.statements:
            plan = self.plan(child, session)
            assert isinstance(plan, ModifyPlan)
            items.append((plan, ctx))
        from .terms import int_value

        ts = int_value(stmt.using.timestamp, "[timestamp]", ctx, "bigint")
        if ts is not None and any(p.stmt.using.timestamp is not None for p, _ in items):
            raise InvalidRequest("Timestamp must be set either on BATCH or individual statements")
        kind = {"logged": 0, "unlogged": 1, "counter": 2}[stmt.kind]
        return self._run_batch(items, kind, ts if ts is not None else params.timestamp)

    def _run_batch(self, items: list[tuple[ModifyPlan, Context]], kind: int, timestamp: int | None) -> Result:
        counters = [any(op.column.ctype.name == "counter" for op in p.ops) for p, _ in items]
        if kind == 2 and not all(counters):
            raise InvalidRequest("Only counter mutations are allowed in COUNTER batches")
        if kind != 2 and any(counters):
            raise InvalidRequest("Counter mutations are only allowed in COUNTER batches")
        conditional = [p for p, _ in items if p.conditional]
        if conditional:
            if timestamp is not None or any(p.stmt.using.timestamp is not None for p, _ in items):
                raise InvalidRequest("Cannot provide custom timestamp for conditional BATCH")
            if len({(p.table.keyspace, p.table.name) for p, _ in items}) > 1:
                raise InvalidRequest("Batch with conditions cannot span multiple tables")
            from .modify import partition_keys

            keys = {k for p, c in items for k in partition_keys(p, c)}
            if len(keys) > 1:
                raise InvalidRequest("Batch with conditions cannot span multiple partitions")
            for plan, ctx in items:
                if plan.conditional:
                    applied, rows = check_conditions(plan, self.table_data(plan.table), ctx, self.now_s())
                    if not applied:
                        return rows
        ts = timestamp if timestamp is not None else self.clock()
        for plan, ctx in items:
            plan = copy.copy(plan)
            plan.if_exists = plan.if_not_exists = False
            plan.conditions = []
            self.modify(plan, ctx, ts)
        if conditional:
            t = conditional[0].table
            from .types import CqlType

            return Rows([ColumnSpec(t.keyspace, t.name, "[applied]", CqlType("boolean"))], [[b"\x01"]])
        return Void()


def parser_marker_name(stmt: st.Statement, index: int) -> str | None:
    """The :name of a named bind marker, found by walking the statement's dataclasses."""
    found: list[str] = []

    def walk(node: object) -> None:
        if found:
            return
        if isinstance(node, st.BindMarker):
            if node.index == index and node.name:
                found.append(node.name)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                walk(getattr(node, name))

    walk(stmt)
    return found[0] if found else None


def _pk_indexes(plan: Plan) -> list[int]:
    out = []
    for name in plan.table.partition_key:
        r = plan.restrictions.columns.get(name)
        if r is None or not isinstance(r.eq, st.BindMarker):
            return []
        out.append(r.eq.index)
    return out
