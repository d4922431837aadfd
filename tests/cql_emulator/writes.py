"""Applying planned INSERT/UPDATE/DELETE to table data, including lightweight transactions."""

from __future__ import annotations

from . import statements as st
from .errors import InvalidRequest
from .modify import ModifyPlan, Op, WriteParams, clustering_keys, partition_keys
from .protocol import Unset
from .restrictions import values_of
from .results import ColumnSpec, Rows
from .storage import Cell, LiveRow, RangeTombstone, Row, TableData, write_cell
from .terms import Context, Spec, evaluate
from .types import CqlType, _collection_items, _pack_items, sort_key

BOOLEAN = CqlType("boolean")


def apply(plan: ModifyPlan, data: TableData, ctx: Context, wp: WriteParams, now_s: int) -> None:
    for pk in partition_keys(plan, ctx):
        if isinstance(plan.stmt, st.Delete):
            _delete(plan, data, pk, ctx, wp)
            continue
        part = data.partition(pk)
        assert part is not None
        targets = [part.static] if plan.static_only else []
        if not plan.static_only:
            for ck in clustering_keys(plan, ctx) or ([()] if not plan.table.clustering else []):
                targets.append(data.row(pk, ck))
        expires = None if wp.ttl is None else now_s + wp.ttl
        for row in targets:
            if isinstance(plan.stmt, st.Insert):
                marker = Cell(b"", wp.timestamp, expires, wp.ttl)
                if row.marker is None or marker.wins_over(row.marker):
                    row.marker = marker
            for op in plan.ops:
                cells = part.static.cells if op.column.kind == "static" else row.cells
                _apply_op(op, cells, ctx, wp, expires, now_s)


def _apply_op(op: Op, cells: dict[str, Cell], ctx: Context, wp: WriteParams, expires: int | None, now_s: int) -> None:
    col = op.column
    ctype = col.ctype
    name = col.name
    current = cells.get(name)
    live = current.value if current is not None and current.live(now_s) else None
    if op.kind == "delete":
        write_cell(cells, name, Cell(None, wp.timestamp))
        return
    if op.kind == "set":
        value = evaluate(op.value, Spec(name, ctype), ctx)  # type: ignore[arg-type]
        if isinstance(value, Unset):
            return
        if ctype.is_multicell and value is not None and value[:4] == b"\x00\x00\x00\x00":
            value = None
        if ctype.is_multicell:
            cells.pop(name, None) if current is not None and current.timestamp < wp.timestamp else None
        write_cell(cells, name, Cell(value, wp.timestamp, None if value is None else expires, wp.ttl))
        return
    if ctype.name == "counter":
        delta_raw = evaluate(op.value, Spec(name, CqlType("bigint")), ctx)  # type: ignore[arg-type]
        if not isinstance(delta_raw, bytes):
            raise InvalidRequest(f"Invalid null value for counter increment on {name}")
        delta = int.from_bytes(delta_raw, "big", signed=True) * (-1 if op.kind == "sub" else 1)
        base = int.from_bytes(live, "big", signed=True) if live else 0
        cells[name] = Cell(
            (base + delta).to_bytes(8, "big", signed=True),
            max(wp.timestamp, current.timestamp if current else 0),
        )
        return
    items = _collection_items(live, pairs=ctype.name == "map") if live else []
    if op.kind in ("add", "sub", "prepend"):
        spec_type = CqlType("set", (ctype.params[0],)) if op.kind == "sub" and ctype.name == "map" else ctype
        raw = evaluate(op.value, Spec(name, spec_type), ctx)  # type: ignore[arg-type]
        if isinstance(raw, Unset):
            return
        new = _collection_items(raw, pairs=spec_type.name == "map") if raw else []
        if ctype.name == "list":
            items = (
                new + items
                if op.kind == "prepend"
                else (items + new if op.kind == "add" else [i for i in items if i not in new])
            )
        elif ctype.name == "set":
            merged = set(items) | set(new) if op.kind == "add" else set(items) - set(new)
            items = sorted(merged, key=lambda b: sort_key(ctype.params[0], b))  # type: ignore[arg-type]
        else:
            pairs = dict(zip(items[0::2], items[1::2], strict=True))
            if op.kind == "add":
                pairs.update(zip(new[0::2], new[1::2], strict=True))
            else:
                for key in new:
                    pairs.pop(key, None)
            ordered = sorted(pairs.items(), key=lambda kv: sort_key(ctype.params[0], kv[0]))  # type: ignore[arg-type]
            items = [b for kv in ordered for b in kv]
    elif op.kind in ("set_element", "delete_element"):
        key_type = CqlType("int") if ctype.name == "list" else ctype.params[0]
        key = evaluate(op.key, Spec(name, key_type), ctx)  # type: ignore[arg-type]
        if not isinstance(key, bytes):
            raise InvalidRequest(f"Invalid null value for {'list index' if ctype.name == 'list' else 'map key'}")
        value = None
        if op.kind == "set_element":
            val_type = ctype.params[0] if ctype.name == "list" else ctype.params[1]
            value = evaluate(op.value, Spec(name, val_type), ctx)  # type: ignore[arg-type]
            if isinstance(value, Unset):
                return
        if ctype.name == "list":
            idx = int.from_bytes(key, "big", signed=True)
            if not live:
                raise InvalidRequest("Attempted to set an element on a list which is null")
            if not 0 <= idx < len(items):
                raise InvalidRequest(f"List index {idx} out of bound, list has size {len(items)}")
            if value is None:
                del items[idx]
            else:
                items[idx] = value
        else:
            pairs = dict(zip(items[0::2], items[1::2], strict=True))
            if value is None:
                pairs.pop(key, None)
            else:
                pairs[key] = value
            ordered = sorted(pairs.items(), key=lambda kv: sort_key(ctype.params[0], kv[0]))  # type: ignore[arg-type]
            items = [b for kv in ordered for b in kv]
    kept = [i for i in items if i is not None]
    packed: bytes | None = _pack_items(kept, pairs=ctype.name == "map") if kept else None
    cells[name] = Cell(
        packed,
        max(wp.timestamp, current.timestamp if current else 0),
        None if packed is None else expires,
        wp.ttl,
    )


def _delete(plan: ModifyPlan, data: TableData, pk: tuple[bytes, ...], ctx: Context, wp: WriteParams) -> None:
    part = data.partition(pk)
    assert part is not None
    res = plan.restrictions
    if plan.ops:
        rows: list[Row] = [part.static] if plan.static_only else [data.row(pk, ck) for ck in clustering_keys(plan, ctx)]
        for row in rows:
            for op in plan.ops:
                cells = part.static.cells if op.column.kind == "static" else row.cells
                _apply_op(op, cells, ctx, wp, None, 0)
        return
    if not res.clustering:
        part.deleted_at = max(part.deleted_at or wp.timestamp, wp.timestamp)
        return
    full = clustering_keys(plan, ctx)
    if full:
        for ck in full:
            row = data.row(pk, ck)
            row.deleted_at = max(row.deleted_at or wp.timestamp, wp.timestamp)
        return
    eq = [r for r in res.clustering if not r.is_slice]
    from itertools import product

    prefixes = [tuple(c) for c in product(*(values_of(r, ctx) for r in eq))]
    sliced = next((r for r in res.clustering if r.is_slice), None)
    for prefix in prefixes:
        start, end = prefix, prefix
        start_inc = end_inc = True
        if sliced is not None:
            spec = Spec(sliced.column.name, sliced.column.ctype)
            for bound in (sliced.lower, sliced.upper):
                if bound is None:
                    continue
                op, term = bound
                raw = evaluate(term, spec, ctx)
                if not isinstance(raw, bytes):
                    raise InvalidRequest(f"Invalid null value in condition for column {sliced.column.name}")
                lower = op in (">", ">=")
                if sliced.column.descending:
                    lower = not lower
                if lower:
                    start, start_inc = (*prefix, raw), op in (">=", "<=")
                else:
                    end, end_inc = (*prefix, raw), op in (">=", "<=")
        part.ranges.append(RangeTombstone(start, start_inc, end, end_inc, wp.timestamp))


def current_row(plan: ModifyPlan, data: TableData, ctx: Context, now_s: int) -> LiveRow | None:
    pk = partition_keys(plan, ctx)[0]
    part = data.partitions.get(pk)
    if part is None:
        return None
    cks = clustering_keys(plan, ctx)
    for row in data.live_rows(part, now_s):
        if plan.static_only or not cks or row.clustering == cks[0]:
            return row
    return None


def check_conditions(plan: ModifyPlan, data: TableData, ctx: Context, now_s: int) -> tuple[bool, Rows]:
    """Evaluate IF [NOT] EXISTS / IF col op value; build the [applied] result like Cassandra."""
    table = plan.table
    row = current_row(plan, data, ctx, now_s)
    applied_spec = ColumnSpec(table.keyspace, table.name, "[applied]", BOOLEAN)
    if plan.if_not_exists:
        if row is None:
            return True, Rows([applied_spec], [[b"\x01"]])
        cols = [ColumnSpec(table.keyspace, table.name, c, table.columns[c].ctype) for c in table.select_order()]
        return False, Rows([applied_spec, *cols], [[b"\x00"] + [row.values.get(c) for c in table.select_order()]])
    if plan.if_exists:
        return (row is not None), Rows([applied_spec], [[b"\x01" if row is not None else b"\x00"]])
    ok = True
    for col, op, term in plan.conditions:
        actual = row.values.get(col.name) if row else None
        if op == "IN":
            options = [evaluate(t, Spec(col.name, col.ctype), ctx) for t in term]  # type: ignore[union-attr]
            ok = ok and actual in options
            continue
        expected = evaluate(term, Spec(col.name, col.ctype), ctx)  # type: ignore[arg-type]
        if op in ("=", "!="):
            ok = ok and ((actual == expected) == (op == "="))
        elif actual is None or not isinstance(expected, bytes):
            ok = False
        else:
            a, e = sort_key(col.ctype, actual), sort_key(col.ctype, expected)
            ok = ok and {"<": a < e, "<=": a <= e, ">": a > e, ">=": a >= e}[op]
    if ok:
        return True, Rows([applied_spec], [[b"\x01"]])
    names = []
    for col, _, _ in plan.conditions:
        if col.name not in names:
            names.append(col.name)
    cols = [ColumnSpec(table.keyspace, table.name, n, table.columns[n].ctype) for n in names]
    values = [row.values.get(n) if row else None for n in names]
    return False, Rows([applied_spec, *cols], [[b"\x00", *values]])
