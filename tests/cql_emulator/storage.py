"""In-memory table data: cells with write timestamps and TTLs, tombstones, last-write-wins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .murmur3 import compose_partition_key, murmur3_token
from .schema import Table
from .types import Descending, sort_key

Key = tuple[bytes, ...]


@dataclass
class Cell:
    value: bytes | None  # None is a tombstone
    timestamp: int  # microseconds, as given by the client or the server clock
    expires_at: int | None = None  # server-clock seconds at which the cell dies
    ttl: int | None = None

    def live(self, now_s: int) -> bool:
        return self.value is not None and (self.expires_at is None or now_s < self.expires_at)

    def wins_over(self, other: Cell) -> bool:
        """Cassandra's reconciliation: higher timestamp, then tombstone, then later expiry, then value."""
        if self.timestamp != other.timestamp:
            return self.timestamp > other.timestamp
        if (self.value is None) != (other.value is None):
            return self.value is None
        if (self.expires_at or 0) != (other.expires_at or 0):
            return (self.expires_at or 2**62) > (other.expires_at or 2**62)
        return (self.value or b"") > (other.value or b"")


@dataclass
class Row:
    marker: Cell | None = None  # primary-key liveness, set by INSERT
    deleted_at: int | None = None
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class RangeTombstone:
    start: tuple[bytes, ...]
    start_inclusive: bool
    end: tuple[bytes, ...]
    end_inclusive: bool
    timestamp: int


@dataclass
class Partition:
    key: Key
    token: int
    deleted_at: int | None = None
    rows: dict[Key, Row] = field(default_factory=dict)
    static: Row = field(default_factory=Row)
    ranges: list[RangeTombstone] = field(default_factory=list)


@dataclass
class LiveRow:
    """A row as a read sees it: live values plus per-cell write time and remaining TTL."""

    partition: Key
    clustering: Key
    token: int
    values: dict[str, bytes | None]
    writetimes: dict[str, int]
    ttls: dict[str, int]


def _max(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def write_cell(cells: dict[str, Cell], name: str, cell: Cell) -> None:
    old = cells.get(name)
    if old is None or cell.wins_over(old):
        cells[name] = cell


class TableData:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.partitions: dict[Key, Partition] = {}

    def clear(self) -> None:
        self.partitions.clear()

    def partition(self, key: Key, *, create: bool = True) -> Partition | None:
        part = self.partitions.get(key)
        if part is None and create:
            part = Partition(key, murmur3_token(compose_partition_key(list(key))))
            self.partitions[key] = part
        return part

    def row(self, key: Key, clustering: Key) -> Row:
        part = self.partition(key)
        assert part is not None
        return part.rows.setdefault(clustering, Row())

    def clustering_key(self, clustering: Key) -> tuple[object, ...]:
        out: list[object] = []
        for name, raw in zip(self.table.clustering, clustering, strict=False):
            col = self.table.columns[name]
            key = sort_key(col.ctype, raw)
            out.append(Descending(key) if col.descending else key)
        return tuple(out)

    def partition_sort_key(self, key: Key) -> tuple[object, ...]:
        part = self.partitions.get(key)
        token = part.token if part else murmur3_token(compose_partition_key(list(key)))
        return (token, compose_partition_key(list(key)))

    def sorted_partitions(self) -> list[Partition]:
        return sorted(self.partitions.values(), key=lambda p: (p.token, compose_partition_key(list(p.key))))

    def _range_deleted_at(self, part: Partition, clustering: Key) -> int | None:
        result = None
        ck = self.clustering_key(clustering)
        for rt in part.ranges:
            start = self.clustering_key(rt.start)
            end = self.clustering_key(rt.end)
            prefix_start = ck[: len(start)]
            prefix_end = ck[: len(end)]
            after_start = prefix_start > start or (rt.start_inclusive and prefix_start == start)
            before_end = prefix_end < end or (rt.end_inclusive and prefix_end == end)
            if (not start or after_start) and (not end or before_end):
                result = _max(result, rt.timestamp)
        return result

    def live_rows(self, part: Partition, now_s: int) -> Iterator[LiveRow]:
        """Live rows of a partition in clustering order (static-only partitions yield one row)."""
        static_values, static_wt, static_ttl = self._live_cells(part.static.cells, part.deleted_at, now_s)
        produced = False
        for clustering in sorted(part.rows, key=self.clustering_key):
            row = part.rows[clustering]
            deleted = _max(part.deleted_at, row.deleted_at, self._range_deleted_at(part, clustering))
            values, wts, ttls = self._live_cells(row.cells, deleted, now_s)
            marker = row.marker
            marker_live = marker is not None and marker.live(now_s) and (deleted is None or marker.timestamp > deleted)
            if not values and not marker_live:
                continue
            produced = True
            yield self._make(
                part, clustering, {**static_values, **values}, {**static_wt, **wts}, {**static_ttl, **ttls}
            )
        if not produced and static_values:
            clustering = tuple(b"" for _ in self.table.clustering)
            yield self._make(part, clustering, static_values, static_wt, static_ttl, static_only=True)

    def _make(
        self,
        part: Partition,
        clustering: Key,
        values: dict[str, bytes | None],
        wts: dict[str, int],
        ttls: dict[str, int],
        *,
        static_only: bool = False,
    ) -> LiveRow:
        full: dict[str, bytes | None] = {}
        for name, raw in zip(self.table.partition_key, part.key, strict=True):
            full[name] = raw
        for name, raw in zip(self.table.clustering, clustering, strict=True):
            full[name] = None if static_only else raw
        for name in self.table.regular:
            full[name] = values.get(name)
        return LiveRow(part.key, clustering, part.token, full, wts, ttls)

    @staticmethod
    def _live_cells(
        cells: dict[str, Cell], deleted: int | None, now_s: int
    ) -> tuple[dict[str, bytes | None], dict[str, int], dict[str, int]]:
        values: dict[str, bytes | None] = {}
        wts: dict[str, int] = {}
        ttls: dict[str, int] = {}
        for name, cell in cells.items():
            if not cell.live(now_s) or (deleted is not None and cell.timestamp <= deleted):
                continue
            values[name] = cell.value
            wts[name] = cell.timestamp
            if cell.expires_at is not None:
                ttls[name] = cell.expires_at - now_s
        return values, wts, ttls
