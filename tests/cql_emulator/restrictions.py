"""WHERE-clause restrictions: per-column merging, Cassandra's validation rules, and evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

from . import statements as st
from .errors import InvalidRequest
from .protocol import Unset
from .schema import Column, Table
from .terms import Context, Spec, evaluate
from .types import CqlType, _collection_items, sort_key

REQUIRES_ALLOW_FILTERING = (
    "Cannot execute this query as it might involve data filtering and thus may have unpredictable "
    "performance. If you want to execute this query despite the performance unpredictability, use "
    "ALLOW FILTERING"
)
SLICE_OPS = ("<", "<=", ">", ">=")


@dataclass
class ColumnRestriction:
    column: Column
    eq: st.Term | None = None
    in_terms: list[st.Term] | st.Term | None = None
    lower: tuple[str, st.Term] | None = None
    upper: tuple[str, st.Term] | None = None
    contains: list[tuple[str, st.Term]] = field(default_factory=list)

    @property
    def is_eq_or_in(self) -> bool:
        return self.eq is not None or self.in_terms is not None

    @property
    def is_slice(self) -> bool:
        return self.lower is not None or self.upper is not None

    @property
    def is_in(self) -> bool:
        return self.in_terms is not None


@dataclass
class MultiRestriction:
    columns: list[Column]
    op: str
    value: st.Term | list[st.Term]


@dataclass
class Restrictions:
    table: Table
    columns: dict[str, ColumnRestriction] = field(default_factory=dict)
    token: list[tuple[str, st.Term]] = field(default_factory=list)
    multi: list[MultiRestriction] = field(default_factory=list)

    @property
    def partition(self) -> list[ColumnRestriction]:
        return [self.columns[c] for c in self.table.partition_key if c in self.columns]

    @property
    def clustering(self) -> list[ColumnRestriction]:
        return [self.columns[c] for c in self.table.clustering if c in self.columns]

    @property
    def regular(self) -> list[ColumnRestriction]:
        return [r for n, r in self.columns.items() if n not in self.table.primary_key]

    def partition_fully_eq(self) -> bool:
        return all(c in self.columns and self.columns[c].is_eq_or_in for c in self.table.partition_key)

    def restricted_by_eq(self, name: str) -> bool:
        r = self.columns.get(name)
        return r is not None and r.eq is not None

    def clustering_restricted(self) -> list[int]:
        positions = {self.table.columns[c].position for c in self.columns if c in self.table.clustering}
        for m in self.multi:
            positions.update(c.position for c in m.columns)
        return sorted(positions)


def collect(table: Table, where: list[st.Relation], specs: dict[int, Spec]) -> Restrictions:
    """Merge relations per column, rejecting combinations Cassandra rejects, and record marker specs."""
    out = Restrictions(table)
    for rel in where:
        if rel.token:
            if rel.columns != table.partition_key:
                missing = [c for c in rel.columns if c not in table.columns]
                if missing:
                    raise InvalidRequest(f"Undefined column name {missing[0]} in table {table.keyspace}.{table.name}")
                raise InvalidRequest(
                    "The token() function must be applied to all partition key components or none of them"
                )
            if rel.op == "!=":
                raise InvalidRequest(f'Unsupported "!=" relation: token({", ".join(rel.columns)}) != ...')
            note(rel.value, Spec("partition key token", CqlType("bigint")), specs)
            out.token.append((rel.op, rel.value))  # type: ignore[arg-type]
            continue
        if rel.multi:
            cols = [table.column(c) for c in rel.columns]
            for c in cols:
                if c.kind != "clustering":
                    raise InvalidRequest(
                        f"Multi-column relations can only be applied to clustering columns but was applied to: {c.name}"
                    )
            positions = [c.position for c in cols]
            if positions != list(range(positions[0], positions[0] + len(cols))):
                raise InvalidRequest(
                    "Clustering columns must appear in the PRIMARY KEY order in multi-column relations: "
                    f"({', '.join(rel.columns)})"
                )
            tuple_type = CqlType("tuple", tuple(c.ctype for c in cols), True)
            if isinstance(rel.value, list):
                for item in rel.value:
                    note(item, Spec("(" + ",".join(rel.columns) + ")", tuple_type), specs)
            else:
                note(rel.value, Spec("(" + ",".join(rel.columns) + ")", tuple_type), specs)
            out.multi.append(MultiRestriction(cols, rel.op, rel.value))
            continue
        name = rel.columns[0]
        col = table.column(name)
        if rel.op == "!=":
            raise InvalidRequest(f'Unsupported "!=" relation: {name} != ...')
        if rel.op == "IS_NOT_NULL":
            raise InvalidRequest(f"Unsupported restriction: {name} IS NOT NULL")
        if rel.op == "LIKE":
            raise InvalidRequest(
                f"LIKE restriction is only supported on properly indexed columns. {name} LIKE ... is not valid."
            )
        restriction = out.columns.setdefault(name, ColumnRestriction(col))
        if rel.op in ("CONTAINS", "CONTAINS_KEY"):
            if not col.ctype.is_collection:
                raise InvalidRequest(f"Cannot use CONTAINS on non-collection column {name}")
            if rel.op == "CONTAINS_KEY" and col.ctype.name != "map":
                raise InvalidRequest(f"Cannot use CONTAINS KEY on non-map column {name}")
            elem = col.ctype.params[0] if rel.op == "CONTAINS_KEY" or col.ctype.name != "map" else col.ctype.params[1]
            note(rel.value, Spec(f"{'key' if rel.op == 'CONTAINS_KEY' else 'value'}({name})", elem), specs)
            restriction.contains.append((rel.op, rel.value))  # type: ignore[arg-type]
            continue
        if restriction.eq is not None:
            raise InvalidRequest(f"{name} cannot be restricted by more than one relation if it includes an Equal")
        if restriction.in_terms is not None:
            raise InvalidRequest(f"{name} cannot be restricted by more than one relation if it includes a IN")
        if rel.op == "=":
            if restriction.is_slice or restriction.contains:
                raise InvalidRequest(f"{name} cannot be restricted by more than one relation if it includes an Equal")
            note(rel.value, Spec(name, col.ctype), specs)
            restriction.eq = rel.value  # type: ignore[assignment]
        elif rel.op == "IN":
            if restriction.is_slice or restriction.contains:
                raise InvalidRequest(f"{name} cannot be restricted by more than one relation if it includes a IN")
            if col.kind in ("regular", "static"):
                raise InvalidRequest(f"IN predicates on non-primary-key columns ({name}) is not yet supported")
            if isinstance(rel.value, list):
                for item in rel.value:
                    note(item, Spec(name, col.ctype), specs)
            else:
                note(rel.value, Spec(f"in({name})", CqlType("list", (col.ctype,))), specs)
            restriction.in_terms = rel.value
        else:
            bound = "start" if rel.op in (">", ">=") else "end"
            if (restriction.lower if bound == "start" else restriction.upper) is not None:
                raise InvalidRequest(f"More than one restriction was found for the {bound} bound on {name}")
            if col.ctype.is_multicell:
                raise InvalidRequest(f"Slice restrictions are not supported on collections ({name})")
            note(rel.value, Spec(name, col.ctype), specs)
            if bound == "start":
                restriction.lower = (rel.op, rel.value)  # type: ignore[assignment]
            else:
                restriction.upper = (rel.op, rel.value)  # type: ignore[assignment]
    if out.token and out.partition:
        cols = ", ".join(r.column.name for r in out.partition)
        raise InvalidRequest(f'Columns "{cols}" cannot be restricted by both a normal relation and a token relation')
    return out


def note(term: st.Term | list[st.Term], spec: Spec, specs: dict[int, Spec], *, check: bool = True) -> None:
    """Record the receiver of every bind marker inside term; type-check literals as prepare does."""
    if isinstance(term, list):
        for item in term:
            note(item, spec, specs, check=check)
        return
    if isinstance(term, st.BindMarker):
        specs[term.index] = spec
        return
    if check:
        evaluate(term, spec, Context())  # raises InvalidRequest for mistyped literals
    if isinstance(term, st.Collection) and spec.ctype.params:
        kind = "map" if term.kind == "set" and not term.items and spec.ctype.name == "map" else term.kind
        if kind != spec.ctype.name:
            return
        for i, item in enumerate(term.items):
            if term.kind == "tuple":
                sub = spec.ctype.params[min(i, len(spec.ctype.params) - 1)]
            elif term.kind == "map":
                sub = spec.ctype.params[i % 2]
            else:
                sub = spec.ctype.params[0]
            note(item, Spec(spec.name, sub), specs, check=False)


def values_of(r: ColumnRestriction, ctx: Context, *, what: str = "") -> list[bytes]:
    """EQ/IN values of a key column, de-duplicated in given order; null and unset are errors."""
    spec = Spec(r.column.name, r.column.ctype)
    raws: list[object]
    if r.eq is not None:
        raws = [evaluate(r.eq, spec, ctx)]
    elif isinstance(r.in_terms, list):
        raws = [evaluate(t, spec, ctx) for t in r.in_terms]
    else:
        assert r.in_terms is not None
        packed = evaluate(r.in_terms, Spec(f"in({r.column.name})", CqlType("list", (r.column.ctype,))), ctx)
        if packed is None:
            raise InvalidRequest(f"Invalid null value for {r.column.name}")
        if isinstance(packed, Unset):
            raise InvalidRequest(f"Invalid unset value for column {r.column.name}")
        raws = list(_collection_items(packed)) if packed else []
    out: list[bytes] = []
    for raw in raws:
        if raw is None:
            kind = "partition key part" if r.column.kind == "partition_key" else "clustering key part"
            raise InvalidRequest(f"Invalid null value {what or 'in condition'} for {kind} {r.column.name}")
        if isinstance(raw, Unset):
            raise InvalidRequest(f"Invalid unset value for column {r.column.name}")
        assert isinstance(raw, bytes)
        if raw not in out:
            out.append(raw)
    return out


def key_combinations(rs: list[ColumnRestriction], ctx: Context) -> list[tuple[bytes, ...]]:
    return [tuple(c) for c in product(*(values_of(r, ctx) for r in rs))]


def _compare(op: str, left: object, right: object) -> bool:
    if op == "=":
        return left == right
    if op == "<":
        return left < right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    if op == ">":
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]


def row_matches(res: Restrictions, values: dict[str, bytes | None], ctx: Context) -> bool:
    """Apply every single- and multi-column restriction to a row (full-scan filtering)."""
    for name, r in res.columns.items():
        ctype = r.column.ctype
        raw = values.get(name)
        if r.is_eq_or_in and (raw is None or raw not in values_of(r, ctx)):
            return False
        for bound_op in (r.lower, r.upper):
            if bound_op is None:
                continue
            op, term = bound_op
            bound = evaluate(term, Spec(name, ctype), ctx)
            if not isinstance(bound, bytes):
                raise InvalidRequest(f"Invalid null value for {name}")
            if raw is None or not _compare(op, sort_key(ctype, raw), sort_key(ctype, bound)):
                return False
        for op, term in r.contains:
            elem = evaluate(term, Spec(name, ctype), ctx)
            if raw is None or not raw:
                return False
            items = _collection_items(raw, pairs=ctype.name == "map")
            if ctype.name == "map":
                items = items[0::2] if op == "CONTAINS_KEY" else items[1::2]
            if elem not in items:
                return False
    for m in res.multi:
        tuple_type = CqlType("tuple", tuple(c.ctype for c in m.columns), True)
        row_key = tuple(sort_key(c.ctype, values.get(c.name)) for c in m.columns)

        def as_key(term: st.Term, m: MultiRestriction = m, tuple_type: CqlType = tuple_type) -> tuple[object, ...]:
            raw = evaluate(term, Spec("tuple", tuple_type), ctx)
            if not isinstance(raw, bytes):
                raise InvalidRequest("Invalid null value in multi-column relation")
            parts, pos = [], 0
            for c in m.columns:
                size = int.from_bytes(raw[pos : pos + 4], "big", signed=True)
                pos += 4
                parts.append(sort_key(c.ctype, raw[pos : pos + size] if size >= 0 else None))
                pos += max(size, 0)
            return tuple(parts)

        if m.op == "IN":
            terms = m.value if isinstance(m.value, list) else []
            if row_key not in [as_key(t) for t in terms]:
                return False
        elif not _compare(m.op, row_key, as_key(m.value)):  # type: ignore[arg-type]
            return False
    return True
