"""Schema statements with Cassandra 4's checks, in the order CreateTableStatement & co. apply them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import statements as st
from .errors import AlreadyExists, ConfigurationException, InvalidRequest, SyntaxException, Unauthorized
from .results import Result, SchemaChange, SetKeyspace, Void
from .schema import Column, Keyspace, Table, check_name, table_options, validate_replication

if TYPE_CHECKING:
    from .executor import ClientSession, Executor

LOCAL_SYSTEM = ("system", "system_schema")
VIRTUAL_SYSTEM = ("system_virtual_schema", "system_views")
REPLICATED_SYSTEM = ("system_auth", "system_distributed", "system_traces")
KEYSPACE_OPTIONS = ("replication", "durable_writes")


def _authorize(keyspace: str, perm: str, resource: str) -> None:
    """ClientState.preventSystemKSSchemaModification for CREATE/ALTER/DROP permissions."""
    if keyspace in LOCAL_SYSTEM:
        raise Unauthorized(f"{keyspace} keyspace is not user-modifiable.")
    if keyspace in REPLICATED_SYSTEM:
        raise Unauthorized(f"Cannot {perm} <{resource}>")


def _modifiable(keyspace: str) -> None:
    """AlterSchemaStatement.execute's first checks."""
    if keyspace in LOCAL_SYSTEM:
        raise InvalidRequest(f"System keyspace '{keyspace}' is not user-modifiable")
    if keyspace in VIRTUAL_SYSTEM:
        raise InvalidRequest(f"Virtual keyspace '{keyspace}' is not user-modifiable")


class DdlMixin:
    def install_replicated_system_keyspaces(self: Executor) -> None:
        for name in REPLICATED_SYSTEM:
            replication = {"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"}
            self.schema.keyspaces[name] = Keyspace(name, replication)

    def ddl(self: Executor, stmt: st.Statement, session: ClientSession) -> Result:
        if isinstance(stmt, st.Use):
            if stmt.keyspace not in self.schema.keyspaces:
                raise InvalidRequest(f"Keyspace '{stmt.keyspace}' does not exist")
            session.keyspace = stmt.keyspace
            return SetKeyspace(stmt.keyspace)
        if isinstance(stmt, st.CreateKeyspace):
            return self.create_keyspace(stmt)
        if isinstance(stmt, st.DropKeyspace):
            return self.drop_keyspace(stmt)
        keyspace = stmt.table.keyspace or session.keyspace  # type: ignore[union-attr]
        if keyspace is None:
            raise InvalidRequest(
                "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
            )
        if isinstance(stmt, st.CreateTable):
            return self.create_table(stmt, keyspace)
        if isinstance(stmt, st.DropTable):
            return self.drop_table(stmt, keyspace)
        if isinstance(stmt, st.AlterTable):
            return self.alter_table(stmt, keyspace)
        if isinstance(stmt, st.Truncate):
            table = self.schema.table(keyspace, stmt.table.name)
            if self.schema.keyspaces[keyspace].virtual:
                raise InvalidRequest(f"Truncation is not supported on virtual table {keyspace}.{table.name}")
            self.table_data(table).clear()
            return Void()
        if isinstance(stmt, st.CreateIndex):
            _authorize(keyspace, "ALTER", f"table {keyspace}.{stmt.table.name}")
            table = self.schema.table(keyspace, stmt.table.name)
            table.column(stmt.target)
            raise InvalidRequest("Secondary indexes are not supported by the CQL emulator")
        raise InvalidRequest(f"Unsupported statement {type(stmt).__name__}")

    def create_keyspace(self: Executor, stmt: st.CreateKeyspace) -> Result:
        name = stmt.name
        for key in stmt.properties:
            if key not in KEYSPACE_OPTIONS:
                raise SyntaxException(f"Unknown property '{key}'")
        durable = str(stmt.properties.get("durable_writes", "true")).lower()
        if durable not in ("true", "false"):
            raise SyntaxException(f"Invalid boolean value {durable} for 'durable_writes'")
        _modifiable(name)
        check_name("Keyspace", name)
        if "replication" not in stmt.properties:
            raise InvalidRequest("Missing mandatory option 'replication'")
        if name in self.schema.keyspaces:
            if stmt.if_not_exists:
                return Void()
            raise AlreadyExists(name)
        replication = validate_replication(name, stmt.properties["replication"], {self.node.data_center})
        self.schema.keyspaces[name] = Keyspace(name, replication, durable == "true")
        return self.schema_changed(SchemaChange("CREATED", "KEYSPACE", name))

    def drop_keyspace(self: Executor, stmt: st.DropKeyspace) -> Result:
        _authorize(stmt.name, "DROP", f"keyspace {stmt.name}")
        _modifiable(stmt.name)
        ks = self.schema.keyspaces.get(stmt.name)
        if ks is None:
            if stmt.if_exists:
                return Void()
            raise InvalidRequest(f"Keyspace '{stmt.name}' doesn't exist")
        for table in ks.tables.values():
            self.data.pop(table.id, None)
        del self.schema.keyspaces[stmt.name]
        self.drop_prepared(stmt.name)
        return self.schema_changed(SchemaChange("DROPPED", "KEYSPACE", stmt.name))

    def create_table(self: Executor, stmt: st.CreateTable, keyspace: str) -> Result:
        name = stmt.table.name
        _authorize(keyspace, "CREATE", f"keyspace {keyspace}")
        _modifiable(keyspace)
        options = table_options(stmt.properties)
        if stmt.primary_key_count == 0:
            raise InvalidRequest(f"No PRIMARY KEY specifed for table '{name}' (exactly one required)")
        if stmt.primary_key_count > 1:
            raise InvalidRequest(f"Multiple PRIMARY KEY specified for table '{name}' (exactly one required)")
        seen: set[str] = set()
        for col in stmt.columns:
            if col.name in seen:
                raise InvalidRequest(f"Duplicate column '{col.name}' declaration for table '{keyspace}.{name}'")
            seen.add(col.name)
        ks = self.schema.keyspaces.get(keyspace)
        if ks is None:
            raise InvalidRequest(f"Keyspace '{keyspace}' doesn't exist")
        if name in ks.tables:
            if stmt.if_not_exists:
                return Void()
            raise AlreadyExists(keyspace, name)
        if stmt.compact_storage:
            raise InvalidRequest("COMPACT STORAGE tables are not supported starting with version 4.0")
        table = self._build_table(stmt, keyspace, options)
        if not (0 < len(name) <= 48) or not name.replace("_", "a").isalnum() or not name.isascii():
            raise ConfigurationException(
                f"Table name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore "
                f'characters (got "{name}")'
            )
        ks.tables[name] = table
        return self.schema_changed(SchemaChange("CREATED", "TABLE", keyspace, name))

    @staticmethod
    def _build_table(stmt: st.CreateTable, keyspace: str, options: dict[str, object]) -> Table:
        name = stmt.table.name
        defs = {c.name: c for c in stmt.columns}
        key = stmt.partition_key + stmt.clustering
        for col_name in key:
            if col_name not in defs:
                raise InvalidRequest(f"Unknown column '{col_name}' referenced in PRIMARY KEY for table '{name}'")
        if len(set(key)) != len(key):
            dup = next(c for c in key if key.count(c) > 1)
            raise InvalidRequest(f"Duplicate column '{dup}' in PRIMARY KEY clause for table '{name}'")
        columns: dict[str, Column] = {}
        for c in stmt.columns:
            kind = "regular"
            position = -1
            if c.name in stmt.partition_key:
                kind, position = "partition_key", stmt.partition_key.index(c.name)
            elif c.name in stmt.clustering:
                kind, position = "clustering", stmt.clustering.index(c.name)
            if kind != "regular":
                if c.static:
                    raise InvalidRequest(f"Static column '{c.name}' cannot be part of the PRIMARY KEY")
                if c.ctype.is_multicell:
                    raise InvalidRequest(
                        f"Invalid non-frozen collection type {c.ctype} for PRIMARY KEY component {c.name}"
                    )
                if c.ctype.name == "counter":
                    raise InvalidRequest(f"counter type is not supported for PRIMARY KEY column '{c.name}'")
            elif c.static:
                if not stmt.clustering:
                    raise InvalidRequest(
                        f"Static column '{c.name}' cannot be defined in a table with no clustering columns"
                    )
                kind = "static"
            if c.ctype.is_collection and any(p.name == "counter" for p in c.ctype.params):
                raise InvalidRequest("Counters are not allowed inside collections")
            columns[c.name] = Column(c.name, c.ctype, kind, position)
        regular = [c for c in columns.values() if c.kind in ("regular", "static")]
        counters = [c.ctype.name == "counter" for c in regular]
        if any(counters) and not all(counters):
            raise InvalidRequest("Cannot mix counter and non counter columns in the same table")
        if any(counters) and options.get("default_time_to_live"):
            raise InvalidRequest("Cannot set default_time_to_live on a table with counters")
        order = stmt.clustering_order
        if order:
            bad = [n for n, _ in order if n not in stmt.clustering]
            if bad:
                raise InvalidRequest(
                    f"Only clustering key columns can be defined in CLUSTERING ORDER directive: {bad} are not "
                    "clustering columns"
                )
            given = [n for n, _ in order]
            for i, n in enumerate(given):
                expected = stmt.clustering[i]
                if n != expected:
                    if expected in given:
                        raise InvalidRequest(
                            "The order of columns in the CLUSTERING ORDER directive must match that of the clustering "
                            f"columns ({expected} must appear before {n})"
                        )
                    raise InvalidRequest(f"Missing CLUSTERING ORDER for column {expected}")
            for n, desc in order:
                columns[n].descending = desc
        return Table(keyspace, name, columns, list(stmt.partition_key), list(stmt.clustering), dict(options))

    def drop_table(self: Executor, stmt: st.DropTable, keyspace: str) -> Result:
        _authorize(keyspace, "DROP", f"table {keyspace}.{stmt.table.name}")
        _modifiable(keyspace)
        ks = self.schema.keyspaces.get(keyspace)
        table = ks.tables.get(stmt.table.name) if ks else None
        if ks is None or table is None:
            if stmt.if_exists:
                return Void()
            raise InvalidRequest(f"Table '{keyspace}.{stmt.table.name}' doesn't exist")
        del ks.tables[table.name]
        self.data.pop(table.id, None)
        self.drop_prepared(keyspace, table.name)
        return self.schema_changed(SchemaChange("DROPPED", "TABLE", keyspace, table.name))

    def alter_table(self: Executor, stmt: st.AlterTable, keyspace: str) -> Result:
        _authorize(keyspace, "ALTER", f"table {keyspace}.{stmt.table.name}")
        _modifiable(keyspace)
        ks = self.schema.keyspaces.get(keyspace)
        if ks is None:
            raise InvalidRequest(f"Keyspace '{keyspace}' doesn't exist")
        table = ks.tables.get(stmt.table.name)
        if table is None:
            raise InvalidRequest(f"Table '{keyspace}.{stmt.table.name}' doesn't exist")
        if stmt.action == "add":
            for c in stmt.columns:
                if c.name in table.columns:
                    raise InvalidRequest(f"Column with name '{c.name}' already exists")
                if c.static and not table.clustering:
                    raise InvalidRequest(
                        "Static columns are only useful (and thus allowed) if the table has at least "
                        "one clustering column"
                    )
            for c in stmt.columns:
                table.columns[c.name] = Column(c.name, c.ctype, "static" if c.static else "regular")
        elif stmt.action == "drop":
            for n in stmt.names:
                col = table.columns.get(n)
                if col is None:
                    raise InvalidRequest(f"Column {n} was not found in table '{keyspace}.{table.name}'")
                if col.kind in ("partition_key", "clustering"):
                    raise InvalidRequest(f"Cannot drop PRIMARY KEY column {n}")
            for n in stmt.names:
                del table.columns[n]
        elif stmt.action == "with":
            table.options = table_options(stmt.properties, table.options)
        else:
            old, new = stmt.names
            col = table.columns.get(old)
            if col is None:
                raise InvalidRequest(f"Column with name '{old}' doesn't exist")
            if col.kind not in ("partition_key", "clustering"):
                raise InvalidRequest(f"Cannot rename non PRIMARY KEY column {old}")
            if new in table.columns:
                raise InvalidRequest(
                    f"Cannot rename column {old} to {new} in table '{table.name}'; another column with that name "
                    "already exists"
                )
            raise InvalidRequest("Renaming columns is not supported by the CQL emulator")
        self.drop_prepared(keyspace, table.name)
        return self.schema_changed(SchemaChange("UPDATED", "TABLE", keyspace, table.name))
