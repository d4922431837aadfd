"""Schema objects (keyspaces, tables) and the schema_version that changes on every DDL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigurationException, InvalidRequest, SyntaxException
from .types import CqlType

NAME_RE = re.compile(r"^\w{1,48}$", re.ASCII)
SYSTEM_KEYSPACES = frozenset(
    {
        "system",
        "system_schema",
        "system_auth",
        "system_distributed",
        "system_traces",
        "system_virtual_schema",
        "system_views",
    }
)
MAX_TTL = 20 * 365 * 24 * 60 * 60

TABLE_DEFAULTS: dict[str, Any] = {
    "additional_write_policy": "99p",
    "bloom_filter_fp_chance": 0.01,
    "caching": {"keys": "ALL", "rows_per_partition": "NONE"},
    "cdc": False,
    "comment": "",
    "compaction": {
        "class": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
        "max_threshold": "32",
        "min_threshold": "4",
    },
    "compression": {"chunk_length_in_kb": "16", "class": "org.apache.cassandra.io.compress.LZ4Compressor"},
    "crc_check_chance": 1.0,
    "default_time_to_live": 0,
    "extensions": {},
    "gc_grace_seconds": 864000,
    "max_index_interval": 2048,
    "memtable_flush_period_in_ms": 0,
    "min_index_interval": 128,
    "read_repair": "BLOCKING",
    "speculative_retry": "99p",
}
_INT_OPTIONS = (
    "default_time_to_live",
    "gc_grace_seconds",
    "max_index_interval",
    "memtable_flush_period_in_ms",
    "min_index_interval",
)
_FLOAT_OPTIONS = ("bloom_filter_fp_chance", "crc_check_chance")
_MAP_OPTIONS = ("caching", "compaction", "compression")


@dataclass
class Column:
    name: str
    ctype: CqlType
    kind: str  # partition_key, clustering, regular, static
    position: int = -1
    descending: bool = False


@dataclass
class Table:
    keyspace: str
    name: str
    columns: dict[str, Column]
    partition_key: list[str]
    clustering: list[str]
    options: dict[str, Any] = field(default_factory=lambda: dict(TABLE_DEFAULTS))
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    virtual_rows: Callable[[], list[dict[str, Any]]] | None = None

    @property
    def primary_key(self) -> list[str]:
        return self.partition_key + self.clustering

    @property
    def regular(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.kind in ("regular", "static")]

    @property
    def default_ttl(self) -> int:
        return int(self.options.get("default_time_to_live", 0))

    def column(self, name: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            raise InvalidRequest(f"Undefined column name {name} in table {self.keyspace}.{self.name}") from None

    def select_order(self) -> list[str]:
        """Column order of SELECT *: partition key, clustering, then the rest by name."""
        rest = sorted(c for c in self.columns if c not in self.primary_key)
        return self.primary_key + rest


@dataclass
class Keyspace:
    name: str
    replication: dict[str, str]
    durable_writes: bool = True
    tables: dict[str, Table] = field(default_factory=dict)
    virtual: bool = False


def check_name(kind: str, name: str) -> None:
    if not NAME_RE.match(name):
        raise InvalidRequest(
            f"{kind} name must not be empty, more than 48 characters long, or contain "
            f"non-alphanumeric-underscore characters (got '{name}')"
        )


def validate_replication(keyspace: str, options: object, datacenters: set[str]) -> dict[str, str]:
    """KeyspaceParams.validate: bad replication maps are ConfigurationException in Cassandra."""
    if not isinstance(options, dict):
        raise SyntaxException("Invalid value for property 'replication'. It should be a map.")
    replication = dict(options)
    strategy = replication.pop("class", None)
    if strategy is None:
        raise ConfigurationException("Missing replication strategy class")
    short = strategy.rsplit(".", 1)[-1]
    if short == "SimpleStrategy":
        if "replication_factor" not in replication:
            raise ConfigurationException("SimpleStrategy requires a replication_factor strategy option.")
        unknown = set(replication) - {"replication_factor"}
    elif short == "NetworkTopologyStrategy":
        unknown = set(replication) - datacenters - {"replication_factor"}
    elif short in ("LocalStrategy", "EverywhereStrategy"):
        raise ConfigurationException(f"Unable to use given strategy class: {short} is reserved for internal use.")
    else:
        raise ConfigurationException(f"Unable to find replication strategy class '{strategy}'")
    if unknown:
        raise ConfigurationException(
            f"Unrecognized strategy option {{{', '.join(sorted(unknown))}}} passed to {short} for keyspace {keyspace}"
        )
    for key, value in replication.items():
        if not re.fullmatch(r"\d+(/\d+)?", str(value)):
            raise ConfigurationException(f"Replication factor must be non-negative, found {value}")
        if key == "replication_factor" and short == "NetworkTopologyStrategy":
            continue
    full = f"org.apache.cassandra.locator.{short}"
    if short == "NetworkTopologyStrategy" and "replication_factor" in replication:
        rf = replication.pop("replication_factor")
        for dc in datacenters:
            replication.setdefault(dc, rf)
    return {"class": full, **{k: str(v) for k, v in replication.items()}}


def table_options(properties: dict[str, object], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate WITH options of CREATE/ALTER TABLE; unknown names are a SyntaxException."""
    options = dict(base or TABLE_DEFAULTS)
    for key, value in properties.items():
        if key not in TABLE_DEFAULTS or key == "extensions":
            raise SyntaxException(f"Unknown property '{key}'")
        if key in _MAP_OPTIONS or key == "extensions":
            if not isinstance(value, dict):
                raise SyntaxException(f"Invalid value for property '{key}'. It should be a map.")
            options[key] = dict(value)
            continue
        if isinstance(value, dict):
            raise SyntaxException(f"Invalid value for property '{key}'. It should be a string")
        if key in _INT_OPTIONS:
            try:
                options[key] = int(str(value))
            except ValueError:
                raise SyntaxException(f"Invalid integer value {value} for '{key}'") from None
        elif key in _FLOAT_OPTIONS:
            try:
                options[key] = float(str(value))
            except ValueError:
                raise SyntaxException(f"Invalid double value {value} for '{key}'") from None
        elif key == "cdc":
            options[key] = str(value).lower() == "true"
        else:
            options[key] = str(value)
    ttl = options["default_time_to_live"]
    if ttl < 0:
        raise ConfigurationException(f"default_time_to_live must be greater than or equal to 0 (got {ttl})")
    if ttl > MAX_TTL:
        raise ConfigurationException(f"default_time_to_live must be less than or equal to {MAX_TTL} (got {ttl})")
    if options["gc_grace_seconds"] < 0:
        raise ConfigurationException(
            f"gc_grace_seconds must be greater than or equal to 0 (got {options['gc_grace_seconds']})"
        )
    fp = options["bloom_filter_fp_chance"]
    if not 0 < fp <= 1:
        raise ConfigurationException(
            f"bloom_filter_fp_chance must be larger than 0 and less than or equal to 1 (got {fp})"
        )
    return options


class Schema:
    """All keyspaces, plus a schema_version UUID regenerated on every schema change."""

    def __init__(self) -> None:
        self.keyspaces: dict[str, Keyspace] = {}
        self.version = uuid.uuid4()

    def bump(self) -> None:
        self.version = uuid.uuid4()

    def keyspace(self, name: str) -> Keyspace:
        try:
            return self.keyspaces[name]
        except KeyError:
            raise InvalidRequest(f"Keyspace '{name}' does not exist") from None

    def table(self, keyspace: str, name: str) -> Table:
        ks = self.keyspaces.get(keyspace)
        if ks is None:
            raise InvalidRequest(f"Keyspace {keyspace} does not exist")
        table = ks.tables.get(name)
        if table is None:
            raise InvalidRequest(f"unconfigured table {name}")
        return table
