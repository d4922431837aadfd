"""DDL half of the parser: CREATE/DROP/ALTER of keyspaces, tables and indexes."""

from __future__ import annotations

from . import statements as st
from .errors import SyntaxException
from .lexer import TokenCursor


class DdlParser(TokenCursor):
    def create(self) -> st.Statement:
        self.expect_kw("create")
        if self.accept_kw("keyspace", "schema"):
            if_not_exists = self.if_not_exists()
            name = self.ident()
            self.expect_kw("with")
            return st.CreateKeyspace(name, self.properties(), if_not_exists)
        if self.accept_kw("table", "columnfamily"):
            return self.create_table()
        if self.tok.is_kw("custom") or self.tok.is_kw("index"):
            return self.create_index()
        raise self.fail()

    def create_index(self) -> st.CreateIndex:
        self.accept_kw("custom")
        self.expect_kw("index")
        if_not_exists = self.if_not_exists()
        name = None if self.tok.is_kw("on") else self.ident()
        self.expect_kw("on")
        table = st.TableName(*self.table_name())
        self.expect_op("(")
        if self.tok.kind == "ident" and self.peek().is_op("("):
            self.advance()
            self.expect_op("(")
            target = self.ident()
            self.expect_op(")")
        else:
            target = self.ident()
        self.expect_op(")")
        if self.accept_kw("using"):
            if self.tok.kind != "string":
                raise self.fail()
            self.advance()
        if self.accept_kw("with"):
            self.properties()
        return st.CreateIndex(table, name, target, if_not_exists)

    def create_table(self) -> st.CreateTable:
        if_not_exists = self.if_not_exists()
        table = st.TableName(*self.table_name())
        self.expect_op("(")
        columns: list[st.ColumnDef] = []
        partition: list[str] = []
        clustering: list[str] = []
        pk_count = 0
        while True:
            if self.tok.is_kw("primary"):
                self.advance()
                self.expect_kw("key")
                pk_count += 1
                partition, clustering = self.primary_key()
            else:
                name = self.ident()
                ctype = self.cql_type()
                static = self.accept_kw("static")
                columns.append(st.ColumnDef(name, ctype, static))
                if self.accept_kw("primary"):
                    self.expect_kw("key")
                    pk_count += 1
                    partition, clustering = [name], []
            if not self.accept_op(","):
                break
            if self.tok.is_op(")"):
                break
        self.expect_op(")")
        stmt = st.CreateTable(table, columns, partition, clustering, if_not_exists=if_not_exists)
        stmt.primary_key_count = pk_count
        if self.accept_kw("with"):
            self.table_options(stmt)
        return stmt

    def primary_key(self) -> tuple[list[str], list[str]]:
        self.expect_op("(")
        if self.accept_op("("):
            partition = [self.ident()]
            while self.accept_op(","):
                partition.append(self.ident())
            self.expect_op(")")
        else:
            partition = [self.ident()]
        clustering: list[str] = []
        while self.accept_op(","):
            clustering.append(self.ident())
        self.expect_op(")")
        return partition, clustering

    def table_options(self, stmt: st.CreateTable) -> None:
        while True:
            if self.accept_kw("compact"):
                self.expect_kw("storage")
                stmt.compact_storage = True
            elif self.tok.is_kw("clustering") and self.peek().is_kw("order"):
                self.advance()
                self.advance()
                self.expect_kw("by")
                self.expect_op("(")
                while True:
                    name = self.ident()
                    desc = False
                    if self.accept_kw("desc"):
                        desc = True
                    else:
                        self.accept_kw("asc")
                    stmt.clustering_order.append((name, desc))
                    if not self.accept_op(","):
                        break
                self.expect_op(")")
            else:
                key, value = self.property()
                if key in stmt.properties:
                    raise SyntaxException(f"Multiple definitions for property '{key}'")
                stmt.properties[key] = value
            if not self.accept_kw("and"):
                return

    def properties(self) -> dict[str, object]:
        props: dict[str, object] = {}
        while True:
            key, value = self.property()
            if key in props:
                raise SyntaxException(f"Multiple definitions for property '{key}'")
            props[key] = value
            if not self.accept_kw("and"):
                return props

    def property(self) -> tuple[str, object]:
        key = self.ident(allow_reserved=True)
        self.expect_op("=")
        return key, self.property_value()

    def property_value(self) -> object:
        tok = self.tok
        if tok.is_op("{"):
            self.advance()
            result: dict[str, str] = {}
            if self.accept_op("}"):
                return result
            while True:
                key = self.property_value()
                self.expect_op(":")
                result[str(key)] = str(self.property_value())
                if not self.accept_op(","):
                    break
            self.expect_op("}")
            return result
        if tok.kind in ("string", "int", "float"):
            self.advance()
            return tok.value
        if tok.kind == "ident" and tok.value.lower() in ("true", "false"):
            self.advance()
            return tok.value.lower()
        if tok.kind in ("ident", "qident"):
            self.advance()
            return tok.value
        raise self.fail()

    def drop(self) -> st.Statement:
        self.expect_kw("drop")
        if self.accept_kw("keyspace", "schema"):
            if_exists = self.if_exists()
            return st.DropKeyspace(self.ident(), if_exists)
        if self.accept_kw("table", "columnfamily"):
            if_exists = self.if_exists()
            return st.DropTable(st.TableName(*self.table_name()), if_exists)
        raise self.fail()

    def alter(self) -> st.AlterTable:
        self.expect_kw("alter")
        self.expect_kw("table", "columnfamily")
        table = st.TableName(*self.table_name())
        if self.accept_kw("add"):
            stmt = st.AlterTable(table, "add")
            parens = self.accept_op("(")
            while True:
                name = self.ident()
                stmt.columns.append(st.ColumnDef(name, self.cql_type(), self.accept_kw("static")))
                if not (parens and self.accept_op(",")):
                    break
            if parens:
                self.expect_op(")")
            return stmt
        if self.accept_kw("drop"):
            stmt = st.AlterTable(table, "drop")
            if self.accept_op("("):
                stmt.names = [self.ident()]
                while self.accept_op(","):
                    stmt.names.append(self.ident())
                self.expect_op(")")
            else:
                stmt.names = [self.ident()]
            return stmt
        if self.accept_kw("with"):
            return st.AlterTable(table, "with", properties=self.properties())
        if self.accept_kw("rename"):
            stmt = st.AlterTable(table, "rename", names=[self.ident()])
            self.expect_kw("to")
            stmt.names.append(self.ident())
            return stmt
        raise self.fail()
