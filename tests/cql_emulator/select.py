"""SELECT: validation of restrictions/ordering/selection as Cassandra 4 does it, and execution."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from . import statements as st
from .errors import InvalidRequest
from .restrictions import REQUIRES_ALLOW_FILTERING, Restrictions, collect, key_combinations, note, row_matches
from .results import ColumnSpec, Rows
from .schema import Table
from .storage import LiveRow, TableData
from .terms import Context, Spec, evaluate, int_value
from .types import CqlType, Descending, deserialize, serialize

BIGINT = CqlType("bigint")


@dataclass
class Output:
    kind: str  # column, writetime, ttl, count, token, json
    column: str | None
    spec: ColumnSpec


@dataclass
class SelectPlan:
    table: Table
    stmt: st.Select
    restrictions: Restrictions
    outputs: list[Output]
    specs: dict[int, Spec] = field(default_factory=dict)
    reversed: bool = False
    aggregate: bool = False

    @property
    def result_columns(self) -> list[ColumnSpec]:
        return [o.spec for o in self.outputs]


def plan_select(table: Table, stmt: st.Select) -> SelectPlan:
    specs: dict[int, Spec] = {}
    if stmt.group_by:
        raise InvalidRequest("GROUP BY is not supported by the CQL emulator")
    res = collect(table, stmt.where, specs)
    _check_restrictions(table, stmt, res)
    outputs = _outputs(table, stmt)
    plan = SelectPlan(table, stmt, res, outputs, specs)
    plan.aggregate = any(o.kind == "count" for o in outputs)
    plan.reversed = _ordering(table, stmt, res)
    if stmt.limit is not None:
        note(stmt.limit, Spec("[limit]", CqlType("int")), specs)
    if stmt.per_partition_limit is not None:
        note(stmt.per_partition_limit, Spec("[per_partition_limit]", CqlType("int")), specs)
    return plan


def _check_restrictions(table: Table, stmt: st.Select, res: Restrictions) -> None:
    allow = stmt.allow_filtering
    pk_full = res.partition_fully_eq()
    pk_needs_filtering = bool(res.partition) and (
        not pk_full or any(not r.is_eq_or_in or r.contains for r in res.partition)
    )
    if pk_needs_filtering and not allow:
        raise InvalidRequest(REQUIRES_ALLOW_FILTERING)
    if not allow:
        _check_clustering_prefix(table, res)
        key_range = not pk_full
        if key_range and (res.clustering or res.multi):
            raise InvalidRequest(REQUIRES_ALLOW_FILTERING)
        if res.regular:
            raise InvalidRequest(REQUIRES_ALLOW_FILTERING)
    if stmt.distinct:
        bad = [r.column.name for r in res.clustering + res.regular if r.column.kind != "static"]
        if bad or res.multi:
            raise InvalidRequest(
                "SELECT DISTINCT with WHERE clause only supports restriction by partition key and/or static columns."
            )


def _check_clustering_prefix(table: Table, res: Restrictions) -> None:
    """ClusteringColumnRestrictions: no gaps, nothing after a slice, CONTAINS needs filtering."""
    units: list[tuple[int, int, bool, bool]] = []  # (first position, last position, is slice, contains)
    for r in res.clustering:
        units.append((r.column.position, r.column.position, r.is_slice, bool(r.contains)))
    for m in res.multi:
        units.append((m.columns[0].position, m.columns[-1].position, m.op in ("<", "<=", ">", ">="), False))
    units.sort()
    next_pos = 0
    last_slice: str | None = None
    for first, last, is_slice, contains in units:
        name = table.clustering[first]
        if first < next_pos:
            raise InvalidRequest(
                f'Column "{name}" cannot be restricted by both a single-column and a multi-column relation'
            )
        if last_slice is not None:
            raise InvalidRequest(
                f'Clustering column "{name}" cannot be restricted (preceding column "{last_slice}" '
                "is restricted by a non-EQ relation)"
            )
        if first != next_pos:
            raise InvalidRequest(
                f'PRIMARY KEY column "{name}" cannot be restricted as preceding column '
                f'"{table.clustering[next_pos]}" is not restricted'
            )
        if contains:
            raise InvalidRequest(REQUIRES_ALLOW_FILTERING)
        if is_slice:
            last_slice = name
        next_pos = last + 1


def _outputs(table: Table, stmt: st.Select) -> list[Output]:
    def spec(name: str, ctype: CqlType) -> ColumnSpec:
        return ColumnSpec(table.keyspace, table.name, name, ctype)

    if stmt.selectors is None:
        if stmt.distinct:
            raise InvalidRequest("SELECT DISTINCT queries must request all the partition key columns")
        outputs = [Output("column", c, spec(c, table.columns[c].ctype)) for c in table.select_order()]
    else:
        outputs = []
        for sel in stmt.selectors:
            outputs.append(_selector(table, sel, spec))
    if stmt.distinct:
        names = {o.column for o in outputs if o.kind == "column"}
        for o in outputs:
            if o.kind != "column" or table.columns[o.column or ""].kind not in ("partition_key", "static"):
                raise InvalidRequest(
                    "SELECT DISTINCT queries must only request partition key columns and/or static columns "
                    f"(not {o.column})"
                )
        missing = [c for c in table.partition_key if c not in names]
        if missing:
            raise InvalidRequest(
                f"SELECT DISTINCT queries must request all the partition key columns (missing {missing[0]})"
            )
    if stmt.json:
        return [Output("json", None, spec("[json]", CqlType("text")))] + [
            Output("hidden", o.column, o.spec) for o in outputs
        ]
    return outputs


def _selector(table: Table, sel: st.Selector, spec) -> Output:  # type: ignore[no-untyped-def]
    if sel.kind == "column":
        col = table.column(sel.column or "")
        return Output("column", col.name, spec(sel.alias or col.name, col.ctype))
    if sel.kind in ("writetime", "ttl"):
        if len(sel.args) != 1:
            raise InvalidRequest(f"Invalid number of arguments in call to function system.{sel.kind}")
        col = table.column(sel.args[0])
        label = "writeTime" if sel.kind == "writetime" else "ttl"
        if col.kind in ("partition_key", "clustering"):
            raise InvalidRequest(f"Cannot use selection function {label} on PRIMARY KEY part {col.name}")
        if col.ctype.is_multicell:
            raise InvalidRequest(f"Cannot use selection function {label} on non-frozen collection {col.name}")
        ctype = BIGINT if sel.kind == "writetime" else CqlType("int")
        return Output(sel.kind, col.name, spec(sel.alias or f"{sel.kind}({col.name})", ctype))
    if sel.kind == "count":
        if sel.args and sel.args[0] != "*":
            if len(sel.args) != 1:
                raise InvalidRequest("Invalid number of arguments in call to function system.count")
            col = table.column(sel.args[0])
            return Output("count", col.name, spec(sel.alias or f"system.count({col.name})", BIGINT))
        return Output("count", None, spec(sel.alias or "count", BIGINT))
    if sel.kind == "token":
        for name in sel.args:
            table.column(name)
        if sel.args != table.partition_key:
            raise InvalidRequest(
                "Type error: the token() function must be applied to the partition key "
                f"({', '.join(table.partition_key)})"
            )
        return Output("token", None, spec(sel.alias or f"system.token({', '.join(sel.args)})", BIGINT))
    raise InvalidRequest(f"Unknown function '{sel.column}'")


def _ordering(table: Table, stmt: st.Select, res: Restrictions) -> bool:
    if not stmt.order_by:
        return False
    if not res.partition_fully_eq():
        raise InvalidRequest("ORDER BY is only supported when the partition key is restricted by an EQ or an IN.")
    directions: dict[int, bool] = {}
    i = 0
    seen: set[str] = set()
    for name, desc in stmt.order_by:
        col = table.column(name)
        if col.kind != "clustering":
            raise InvalidRequest(
                f"Order by is currently only supported on the clustered columns of the PRIMARY KEY, got {name}"
            )
        if name in seen:
            raise InvalidRequest(f"Duplicate ORDER BY column {name}")
        seen.add(name)
        while i != col.position:
            if i > col.position or not res.restricted_by_eq(table.clustering[i]):
                raise InvalidRequest(
                    "Order by currently only supports the ordering of columns following their declared order "
                    "in the PRIMARY KEY"
                )
            i += 1
        i += 1
        directions[col.position] = desc != col.descending
    if len(set(directions.values())) > 1:
        raise InvalidRequest("Unsupported order by relation")
    return next(iter(directions.values()))


# -- execution --------------------------------------------------------------------------------------


def _token_ok(plan: SelectPlan, token: int, ctx: Context) -> bool:
    for op, term in plan.restrictions.token:
        raw = evaluate(term, Spec("partition key token", BIGINT), ctx)
        if not isinstance(raw, bytes):
            raise InvalidRequest("Invalid null value for partition key token")
        bound = int.from_bytes(raw, "big", signed=True)
        ok = {
            "=": token == bound,
            "<": token < bound,
            "<=": token <= bound,
            ">": token > bound,
            ">=": token >= bound,
        }[op]
        if not ok:
            return False
    return True


def _rows(plan: SelectPlan, data: TableData, ctx: Context, now_s: int) -> list[tuple[tuple[object, ...], LiveRow]]:
    """All matching rows, each with a total-order position key."""
    res = plan.restrictions
    table = plan.table
    out: list[tuple[tuple[object, ...], LiveRow]] = []
    per_limit = int_value(plan.stmt.per_partition_limit, "[per_partition_limit]", ctx)
    if per_limit is not None and per_limit <= 0:
        raise InvalidRequest("PER PARTITION LIMIT must be strictly positive")
    if res.partition_fully_eq():
        keys = key_combinations(res.partition, ctx)
        if len(table.partition_key) == 1 and any(k == (b"",) for k in keys):
            raise InvalidRequest("Key may not be empty")
        partitions = [(i, data.partitions.get(k)) for i, k in enumerate(keys)]
    else:
        partitions = [((p.token, p.key), p) for p in data.sorted_partitions()]
    for order, part in partitions:
        if part is None or not _token_ok(plan, part.token, ctx):
            continue
        rows = [r for r in data.live_rows(part, now_s) if row_matches(res, r.values, ctx)]
        if plan.stmt.distinct:
            rows = rows[:1]
        if plan.reversed:
            rows.reverse()
        if per_limit is not None:
            rows = rows[:per_limit]
        for row in rows:
            ck = data.clustering_key(row.clustering)
            ck = tuple(Descending(k) for k in ck) if plan.reversed else ck
            out.append(((order, ck), row))
    if plan.stmt.order_by and res.partition_fully_eq() and any(r.is_in for r in res.partition):
        out.sort(key=lambda item: item[0][1])
    return out


def _cell(plan: SelectPlan, out: Output, row: LiveRow) -> bytes | None:
    if out.kind in ("column", "hidden"):
        return row.values.get(out.column or "")
    if out.kind == "writetime":
        wt = row.writetimes.get(out.column or "")
        return None if wt is None else serialize(BIGINT, wt)
    if out.kind == "ttl":
        ttl = row.ttls.get(out.column or "")
        return None if ttl is None else serialize(CqlType("int"), ttl)
    if out.kind == "token":
        return serialize(BIGINT, row.token)
    return None


def _json(plan: SelectPlan, cells: list[bytes | None]) -> bytes:
    doc = {}
    for o, raw in zip(plan.outputs[1:], cells[1:], strict=True):
        value = deserialize(o.spec.ctype, raw)
        doc[o.spec.name] = value if isinstance(value, int | float | str | bool | None) else str(value)
    return json.dumps(doc).encode()


def run_select(
    plan: SelectPlan,
    data: TableData,
    ctx: Context,
    now_s: int,
    *,
    page_size: int | None,
    paging_state: bytes | None,
) -> Rows:
    limit = int_value(plan.stmt.limit, "[limit]", ctx)
    if limit is not None and limit <= 0:
        raise InvalidRequest("LIMIT must be strictly positive")
    res = plan.restrictions
    paging = page_size is not None and page_size > 0 and not plan.aggregate
    if (
        paging
        and (limit is None or limit > (page_size or 0))
        and plan.stmt.order_by
        and any(r.is_in for r in res.partition)
    ):
        raise InvalidRequest(
            "Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either "
            "remove the ORDER BY or the IN and sort client side, or disable paging for this query"
        )
    rows = _rows(plan, data, ctx, now_s)
    if plan.aggregate:
        first = rows[0][1] if rows else None
        cells: list[bytes | None] = []
        for o in plan.outputs:
            if o.kind == "count":
                n = sum(1 for _, r in rows if o.column is None or r.values.get(o.column) is not None)
                cells.append(serialize(BIGINT, n))
            else:
                cells.append(_cell(plan, o, first) if first else None)
        return Rows(plan.result_columns, [cells])
    start, returned = 0, 0
    if paging_state:
        state = json.loads(paging_state.decode())
        returned = state["n"]
        last = _position_from_state(plan, data, state, ctx)
        while start < len(rows) and rows[start][0] <= last:
            start += 1
    remaining = None if limit is None else max(limit - returned, 0)
    end = len(rows) if remaining is None else min(len(rows), start + remaining)
    next_state = None
    if paging and end - start > (page_size or 0):
        end = start + (page_size or 0)
        row = rows[end - 1][1]
        next_state = json.dumps(
            {
                "p": [k.hex() for k in row.partition],
                "c": [k.hex() for k in row.clustering],
                "n": returned + end - start,
            }
        ).encode()
    out_rows = []
    for _, row in rows[start:end]:
        cells = [_cell(plan, o, row) for o in plan.outputs]
        if plan.stmt.json:
            cells[0] = _json(plan, cells)
            cells = cells[:1]
        out_rows.append(cells)
    columns = plan.result_columns[:1] if plan.stmt.json else plan.result_columns
    return Rows(columns, out_rows, next_state)


def _position_from_state(plan: SelectPlan, data: TableData, state: dict, ctx: Context) -> tuple[object, ...]:  # type: ignore[type-arg]
    pk = tuple(bytes.fromhex(h) for h in state["p"])
    ck = tuple(bytes.fromhex(h) for h in state["c"])
    res = plan.restrictions
    if res.partition_fully_eq():
        keys = key_combinations(res.partition, ctx)
        order: object = keys.index(pk) if pk in keys else -1
    else:
        order = data.partition_sort_key(pk)
        order = (order[0], pk)
    key = data.clustering_key(ck)
    if plan.reversed:
        key = tuple(Descending(k) for k in key)
    return (order, key)
