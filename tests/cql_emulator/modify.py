"""INSERT / UPDATE / DELETE: Cassandra 4's validation rules and cell-level write semantics."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import product

from . import statements as st
from .errors import InvalidRequest
from .protocol import Unset
from .restrictions import ColumnRestriction, Restrictions, collect, key_combinations, note, values_of
from .schema import MAX_TTL, Column, Table
from .terms import Context, Spec, evaluate, int_value
from .types import CqlType

BOOLEAN = CqlType("boolean")


@dataclass
class Op:
    column: Column
    kind: str  # set, add, sub, prepend, set_element, delete, delete_element
    value: st.Term | None = None
    key: st.Term | None = None


@dataclass
class ModifyPlan:
    table: Table
    stmt: st.Insert | st.Update | st.Delete
    restrictions: Restrictions
    ops: list[Op]
    specs: dict[int, Spec] = field(default_factory=dict)
    if_exists: bool = False
    if_not_exists: bool = False
    conditions: list[tuple[Column, str, st.Term | list[st.Term]]] = field(default_factory=list)
    static_only: bool = False

    @property
    def conditional(self) -> bool:
        return self.if_exists or self.if_not_exists or bool(self.conditions)


def plan_modification(table: Table, stmt: st.Insert | st.Update | st.Delete) -> ModifyPlan:
    specs: dict[int, Spec] = {}
    if isinstance(stmt, st.Insert):
        plan = _plan_insert(table, stmt, specs)
    elif isinstance(stmt, st.Update):
        plan = _plan_update(table, stmt, specs)
    else:
        plan = _plan_delete(table, stmt, specs)
    using = stmt.using
    if using.ttl is not None:
        note(using.ttl, Spec("[ttl]", CqlType("int")), specs)
    if using.timestamp is not None:
        note(using.timestamp, Spec("[timestamp]", CqlType("bigint")), specs)
        if plan.conditional:
            raise InvalidRequest("Cannot provide custom timestamp for conditional updates")
    for col, _op, value in plan.conditions:
        if col.kind in ("partition_key", "clustering"):
            raise InvalidRequest(f"PRIMARY KEY column '{col.name}' cannot have IF conditions")
        note(value, Spec(col.name, col.ctype), specs)
    if plan.conditional:
        if any(r.is_in for r in plan.restrictions.partition):
            raise InvalidRequest("IN on the partition key is not supported with conditional updates")
        if any(r.is_in for r in plan.restrictions.clustering):
            raise InvalidRequest("IN on the clustering key columns is not supported with conditional updates")
    plan.specs = specs
    return plan


def _plan_insert(table: Table, stmt: st.Insert, specs: dict[int, Spec]) -> ModifyPlan:
    if any(c.ctype.name == "counter" for c in table.columns.values()):
        raise InvalidRequest("INSERT statements are not allowed on counter tables, use UPDATE instead")
    if stmt.json is not None:
        note(stmt.json, Spec("[json]", CqlType("text")), specs)
        plan = ModifyPlan(table, stmt, Restrictions(table), [], if_not_exists=stmt.if_not_exists)
        return plan
    if not stmt.columns:
        raise InvalidRequest("No columns provided to INSERT")
    if len(stmt.columns) != len(stmt.values):
        raise InvalidRequest("Unmatched column names/values")
    res = Restrictions(table)
    ops: list[Op] = []
    for name, term in zip(stmt.columns, stmt.values, strict=True):
        col = table.column(name)
        if name in res.columns or any(o.column.name == name for o in ops):
            raise InvalidRequest(f"Multiple definitions found for column {name}")
        note(term, Spec(name, col.ctype), specs)
        if col.kind in ("partition_key", "clustering"):
            res.columns[name] = ColumnRestriction(col, eq=term)
        else:
            ops.append(Op(col, "set", term))
    _require_keys(table, res, static_only=False)
    return ModifyPlan(table, stmt, res, ops, if_not_exists=stmt.if_not_exists)


def _require_keys(table: Table, res: Restrictions, *, static_only: bool) -> None:
    missing = [c for c in table.partition_key if c not in res.columns]
    if missing:
        raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
    missing = [c for c in table.clustering if c not in res.columns]
    if missing and not (static_only and len(missing) == len(table.clustering)):
        raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing)}")


def _where(table: Table, where: list[st.Relation], specs: dict[int, Spec], kind: str) -> Restrictions:
    for rel in where:
        if rel.token:
            raise InvalidRequest(f"The token function cannot be used in WHERE clauses for {kind} statements")
    res = collect(table, where, specs)
    if res.regular:
        names = ", ".join(r.column.name for r in res.regular)
        raise InvalidRequest(f"Non PRIMARY KEY columns found in where clause: {names} ")
    if res.multi:
        raise InvalidRequest(f"Multi-column relations are not supported in {kind} statements by the emulator")
    for r in res.partition:
        if not r.is_eq_or_in or r.contains:
            raise InvalidRequest(
                "Only EQ and IN relation are supported on the partition key (unless you use the token() function)"
            )
    for r in res.clustering:
        if r.contains:
            raise InvalidRequest(f"Cannot use CONTAINS on clustering column {r.column.name} in {kind} statements")
    return res


def _conditions(table: Table, conds: list[st.Condition]) -> list[tuple[Column, str, st.Term | list[st.Term]]]:
    out = []
    for cond in conds:
        col = table.column(cond.column)
        if cond.op == "!=" or cond.op in ("=", "<", "<=", ">", ">=", "IN"):
            out.append((col, cond.op, cond.value))
    return out


def _plan_update(table: Table, stmt: st.Update, specs: dict[int, Spec]) -> ModifyPlan:
    ops: list[Op] = []
    seen: set[str] = set()
    for a in stmt.assignments:
        col = table.column(a.column)
        if col.kind in ("partition_key", "clustering"):
            raise InvalidRequest(f"PRIMARY KEY part {col.name} found in SET part")
        if a.column in seen and a.op == "set":
            raise InvalidRequest(f"Multiple incompatible setting of column {a.column}")
        seen.add(a.column)
        ctype = col.ctype
        if a.op in ("add", "sub", "prepend"):
            if ctype.name == "counter":
                note(a.value, Spec(col.name, CqlType("bigint")), specs)
            elif not ctype.is_multicell or (a.op == "prepend" and ctype.name != "list"):
                raise InvalidRequest(
                    f"Invalid operation ({col.name} = {col.name} + ?) for non counter column {col.name}"
                )
            elif a.op == "sub" and ctype.name == "map":
                note(a.value, Spec(col.name, CqlType("set", (ctype.params[0],))), specs)
            else:
                note(a.value, Spec(col.name, ctype), specs)
        elif a.op == "set_element":
            if not ctype.is_collection or ctype.name == "set":
                raise InvalidRequest(f"Invalid operation ({col.name}[?] = ?) for non collection column {col.name}")
            if ctype.frozen:
                raise InvalidRequest(f"Invalid operation ({col.name}[?] = ?) for frozen collection column {col.name}")
            key_type = CqlType("int") if ctype.name == "list" else ctype.params[0]
            val_type = ctype.params[0] if ctype.name == "list" else ctype.params[1]
            note(a.key, Spec(f"{'idx' if ctype.name == 'list' else 'key'}({col.name})", key_type), specs)  # type: ignore[arg-type]
            note(a.value, Spec(f"value({col.name})", val_type), specs)
        else:
            if ctype.name == "counter":
                raise InvalidRequest(
                    f"Cannot set the value of counter column {col.name} (counters can only be "
                    "incremented/decremented, not set)"
                )
            note(a.value, Spec(col.name, ctype), specs)
        ops.append(Op(col, a.op, a.value, a.key))
    res = _where(table, stmt.where, specs, "UPDATE")
    if any(r.is_slice for r in res.clustering):
        raise InvalidRequest("Slice restrictions are not supported on the clustering columns in UPDATE statements")
    static_only = all(o.column.kind == "static" for o in ops)
    _require_keys(table, res, static_only=static_only)
    plan = ModifyPlan(table, stmt, res, ops, if_exists=stmt.if_exists, conditions=_conditions(table, stmt.conditions))
    plan.static_only = static_only and not res.clustering
    return plan


def _plan_delete(table: Table, stmt: st.Delete, specs: dict[int, Spec]) -> ModifyPlan:
    ops: list[Op] = []
    for name, key in stmt.columns:
        col = table.column(name)
        if col.kind in ("partition_key", "clustering"):
            raise InvalidRequest(f"Invalid identifier {name} for deletion (should not be a PRIMARY KEY part)")
        if key is not None:
            if not col.ctype.is_multicell or col.ctype.name == "set":
                raise InvalidRequest(f"Invalid operation ({name}[?]) for non collection column {name}")
            key_type = CqlType("int") if col.ctype.name == "list" else col.ctype.params[0]
            note(key, Spec(f"{'idx' if col.ctype.name == 'list' else 'key'}({name})", key_type), specs)
            ops.append(Op(col, "delete_element", key=key))
        else:
            ops.append(Op(col, "delete"))
    res = _where(table, stmt.where, specs, "DELETE")
    missing = [c for c in table.partition_key if c not in res.columns]
    if missing:
        raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
    restricted = [table.columns[c].position for c in table.clustering if c in res.columns]
    last_slice = None
    for i, pos in enumerate(restricted):
        name = table.clustering[pos]
        if pos != i:
            raise InvalidRequest(
                f'PRIMARY KEY column "{name}" cannot be restricted as preceding column '
                f'"{table.clustering[i]}" is not restricted'
            )
        if last_slice is not None:
            raise InvalidRequest(
                f'Clustering column "{name}" cannot be restricted (preceding column "{last_slice}" is '
                "restricted by a non-EQ relation)"
            )
        if res.columns[name].is_slice:
            last_slice = name
    full = len(restricted) == len(table.clustering) and last_slice is None
    only_static = bool(ops) and all(o.column.kind == "static" for o in ops)
    if ops and not full and not only_static:
        raise InvalidRequest("Range deletions are not supported for specific columns")
    conditions = _conditions(table, stmt.conditions)
    if (stmt.if_exists or conditions) and not full and not only_static:
        raise InvalidRequest(
            "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to use "
            "IF conditions"
        )
    plan = ModifyPlan(table, stmt, res, ops, if_exists=stmt.if_exists, conditions=conditions)
    plan.static_only = only_static and not res.clustering
    return plan


@dataclass
class WriteParams:
    timestamp: int
    ttl: int | None


def write_params(plan: ModifyPlan, ctx: Context, default_ts: int, now_s: int) -> WriteParams:
    using = plan.stmt.using
    ts = int_value(using.timestamp, "[timestamp]", ctx, "bigint")
    ttl = int_value(using.ttl, "[ttl]", ctx)
    if ttl is not None and ttl < 0:
        raise InvalidRequest(f"A TTL must be greater or equal to 0, but was {ttl}")
    if ttl is not None and ttl > MAX_TTL:
        raise InvalidRequest(f"ttl is too large. requested ({ttl}) maximum ({MAX_TTL})")
    if ttl is None:
        ttl = plan.table.default_ttl
    return WriteParams(default_ts if ts is None else ts, ttl or None)


def partition_keys(plan: ModifyPlan, ctx: Context) -> list[tuple[bytes, ...]]:
    keys = key_combinations(plan.restrictions.partition, ctx)
    if len(plan.table.partition_key) == 1 and any(k == (b"",) for k in keys):
        raise InvalidRequest("Key may not be empty")
    return keys


def clustering_keys(plan: ModifyPlan, ctx: Context) -> list[tuple[bytes, ...]]:
    """Full clustering keys (EQ/IN on every clustering column)."""
    rs = plan.restrictions.clustering
    if len(rs) != len(plan.table.clustering) or any(r.is_slice for r in rs):
        return []
    return [tuple(c) for c in product(*(values_of(r, ctx, what="") for r in rs))]


def json_insert(plan: ModifyPlan, ctx: Context) -> None:
    """Turn INSERT JSON into key restrictions and set-operations with literal terms."""
    from .terms import json_term

    assert isinstance(plan.stmt, st.Insert) and plan.stmt.json is not None
    raw = evaluate(plan.stmt.json, Spec("[json]", CqlType("text")), ctx)
    if not isinstance(raw, bytes):
        raise InvalidRequest("Got null for INSERT JSON values")
    try:
        doc = json.loads(raw.decode())
    except ValueError as exc:
        raise InvalidRequest(f"Could not decode JSON string as a map: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidRequest("Could not decode JSON string as a map")
    table = plan.table
    res = Restrictions(table)
    ops = []
    for key, value in doc.items():
        name = key[1:-1] if key.startswith('"') else key.lower()
        if name not in table.columns:
            raise InvalidRequest(f"JSON values map contains unrecognized column: {name}")
        col = table.columns[name]
        term = json_term(col, value)
        if col.kind in ("partition_key", "clustering"):
            res.columns[name] = ColumnRestriction(col, eq=term)
        else:
            ops.append(Op(col, "set", term))
    for name in table.regular:
        if name not in doc and name not in [o.column.name for o in ops]:
            ops.append(Op(table.columns[name], "set", st.Literal("null", "null")))
    _require_keys(table, res, static_only=False)
    plan.restrictions, plan.ops = res, ops


def unset_or_none(value: object) -> bool:
    return value is None or isinstance(value, Unset)
