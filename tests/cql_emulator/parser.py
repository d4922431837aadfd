"""Recursive-descent parser for the CQL subset: a query string -> a statement dataclass."""

from __future__ import annotations

from . import statements as st
from .errors import SyntaxException
from .parser_ddl import DdlParser

RELATION_OPS = ("=", "<", "<=", ">", ">=", "!=")


class Parser(DdlParser):
    # -- entry point --------------------------------------------------------------------------
    def statement(self) -> st.Statement:
        tok = self.tok
        stmt: st.Statement
        if tok.is_kw("select"):
            stmt = self.select()
        elif tok.is_kw("insert"):
            stmt = self.insert()
        elif tok.is_kw("update"):
            stmt = self.update()
        elif tok.is_kw("delete"):
            stmt = self.delete()
        elif tok.is_kw("begin"):
            stmt = self.batch()
        elif tok.is_kw("use"):
            self.advance()
            stmt = st.Use(self.ident())
        elif tok.is_kw("truncate"):
            self.advance()
            self.accept_kw("table", "columnfamily")
            stmt = st.Truncate(st.TableName(*self.table_name()))
        elif tok.is_kw("create"):
            stmt = self.create()
        elif tok.is_kw("drop"):
            stmt = self.drop()
        elif tok.is_kw("alter"):
            stmt = self.alter()
        else:
            raise self.fail()
        self.accept_op(";")
        if self.tok.kind != "eof":
            raise SyntaxException(
                f"line {self.tok.line}:{self.tok.col} mismatched input '{self.tok.value}' expecting EOF"
            )
        return stmt

    # -- terms --------------------------------------------------------------------------------
    def term(self) -> st.Term:
        tok = self.tok
        if tok.kind in ("string", "int", "float", "uuid", "hex"):
            self.advance()
            return st.Literal(tok.kind, tok.value)
        if tok.is_op("?"):
            self.advance()
            self.markers += 1
            return st.BindMarker(self.markers - 1)
        if tok.kind == "named":
            self.advance()
            self.markers += 1
            return st.BindMarker(self.markers - 1, tok.value)
        if tok.is_kw("true", "false"):
            self.advance()
            return st.Literal("bool", tok.value.lower())
        if tok.is_kw("null"):
            self.advance()
            return st.Literal("null", "null")
        if tok.is_kw("nan", "infinity"):
            self.advance()
            return st.Literal("float", tok.value)
        if tok.is_op("-") and self.peek().is_kw("nan", "infinity"):
            self.advance()
            return st.Literal("float", "-" + self.advance().value)
        if tok.is_op("["):
            return st.Collection("list", self.term_list("[", "]"))
        if tok.is_op("{"):
            return self.brace_literal()
        if tok.is_op("("):
            if self.peek().kind == "ident" and self.peek(2).is_op(")", "<"):
                self.advance()
                ctype = self.cql_type()
                self.expect_op(")")
                return st.Cast(ctype, self.term())
            return st.Collection("tuple", self.term_list("(", ")"))
        if tok.kind in ("ident", "qident") and self.peek().is_op("("):
            name = self.advance().value.lower()
            return st.FunctionCall(name, self.term_list("(", ")"))
        raise self.fail()

    def term_list(self, open_op: str, close_op: str) -> list[st.Term]:
        self.expect_op(open_op)
        items: list[st.Term] = []
        if not self.accept_op(close_op):
            items.append(self.term())
            while self.accept_op(","):
                items.append(self.term())
            self.expect_op(close_op)
        return items

    def brace_literal(self) -> st.Collection:
        self.expect_op("{")
        if self.accept_op("}"):
            return st.Collection("set", [])  # '{}' is an empty set or map
        first = self.term()
        if self.accept_op(":"):
            items = [first, self.term()]
            while self.accept_op(","):
                items.append(self.term())
                self.expect_op(":")
                items.append(self.term())
            self.expect_op("}")
            return st.Collection("map", items)
        items = [first]
        while self.accept_op(","):
            items.append(self.term())
        self.expect_op("}")
        return st.Collection("set", items)

    # -- SELECT -------------------------------------------------------------------------------
    def select(self) -> st.Select:
        self.expect_kw("select")
        json = self.tok.is_kw("json") and not self.peek().is_kw("from") and self.advance() is not None
        distinct = self.tok.is_kw("distinct") and not self.peek().is_kw("from", "as") and self.advance() is not None
        selectors: list[st.Selector] | None = None
        if not self.accept_op("*"):
            selectors = [self.selector()]
            while self.accept_op(","):
                selectors.append(self.selector())
        self.expect_kw("from")
        stmt = st.Select(st.TableName(*self.table_name()), selectors, distinct=distinct, json=json)
        if self.accept_kw("where"):
            stmt.where = self.relations()
        if self.accept_kw("group"):
            self.expect_kw("by")
            stmt.group_by = [self.ident()]
            while self.accept_op(","):
                stmt.group_by.append(self.ident())
        if self.accept_kw("order"):
            self.expect_kw("by")
            stmt.order_by = [self.ordering()]
            while self.accept_op(","):
                stmt.order_by.append(self.ordering())
        if self.tok.is_kw("per"):
            self.advance()
            self.expect_kw("partition")
            self.expect_kw("limit")
            stmt.per_partition_limit = self.term()
        if self.accept_kw("limit"):
            stmt.limit = self.term()
        if self.accept_kw("allow"):
            self.expect_kw("filtering")
            stmt.allow_filtering = True
        return stmt

    def ordering(self) -> tuple[str, bool]:
        name = self.ident()
        if self.accept_kw("desc"):
            return name, True
        self.accept_kw("asc")
        return name, False

    def selector(self) -> st.Selector:
        tok = self.tok
        if tok.kind in ("ident", "qident") and self.peek().is_op("("):
            fname = self.advance().value.lower()
            self.expect_op("(")
            args: list[str] = []
            if fname == "count" and (self.accept_op("*") or (self.tok.kind == "int" and self.advance())):
                args = ["*"]
            elif not self.tok.is_op(")"):
                args.append(self.ident(allow_reserved=False))
                while self.accept_op(","):
                    args.append(self.ident())
            self.expect_op(")")
            kind = fname if fname in ("writetime", "ttl", "count", "token") else "function"
            sel = st.Selector(kind, args[0] if args and args[0] != "*" else None, None, args)
            if kind == "function":
                sel.column = fname
        elif tok.is_kw("token") and self.peek().is_op("("):
            raise self.fail()
        else:
            sel = st.Selector("column", self.ident())
        if self.accept_kw("as"):
            sel.alias = self.ident()
        return sel

    def relations(self) -> list[st.Relation]:
        rels = [self.relation()]
        while self.accept_kw("and"):
            rels.append(self.relation())
        return rels

    def relation(self) -> st.Relation:
        if self.tok.is_kw("token") and self.peek().is_op("("):
            self.advance()
            self.expect_op("(")
            cols = [self.ident()]
            while self.accept_op(","):
                cols.append(self.ident())
            self.expect_op(")")
            op = self.expect_op(*RELATION_OPS)
            return st.Relation(cols, op, self.term(), token=True)
        if self.tok.is_op("("):
            self.advance()
            cols = [self.ident()]
            while self.accept_op(","):
                cols.append(self.ident())
            self.expect_op(")")
            if self.accept_kw("in"):
                if self.tok.is_op("?") or self.tok.kind == "named":
                    return st.Relation(cols, "IN", self.term(), multi=True)
                return st.Relation(cols, "IN", self.term_list("(", ")"), multi=True)
            op = self.expect_op(*RELATION_OPS)
            return st.Relation(cols, op, self.term(), multi=True)
        column = self.ident()
        if self.accept_kw("in"):
            if self.tok.is_op("?") or self.tok.kind == "named":
                return st.Relation([column], "IN", self.term())
            return st.Relation([column], "IN", self.term_list("(", ")"))
        if self.accept_kw("contains"):
            op = "CONTAINS_KEY" if self.accept_kw("key") else "CONTAINS"
            return st.Relation([column], op, self.term())
        if self.accept_kw("like"):
            return st.Relation([column], "LIKE", self.term())
        if self.tok.is_kw("is") and self.peek().is_kw("not"):
            self.advance()
            self.advance()
            self.expect_kw("null")
            return st.Relation([column], "IS_NOT_NULL", st.Literal("null", "null"))
        op = self.expect_op(*RELATION_OPS)
        return st.Relation([column], op, self.term())

    # -- DML ----------------------------------------------------------------------------------
    def using(self, using: st.Using, *, allow_ttl: bool = True) -> st.Using:
        if not self.accept_kw("using"):
            return using
        while True:
            if allow_ttl and self.accept_kw("ttl"):
                using.ttl = self.term()
            elif self.accept_kw("timestamp"):
                using.timestamp = self.term()
            else:
                raise self.fail()
            if not self.accept_kw("and"):
                return using

    def insert(self) -> st.Insert:
        self.expect_kw("insert")
        self.expect_kw("into")
        table = st.TableName(*self.table_name())
        if self.accept_kw("json"):
            stmt = st.Insert(table, [], [], json=self.term())
            if self.accept_kw("default"):
                self.expect_kw("null", "unset")
        else:
            self.expect_op("(")
            columns = [self.ident()]
            while self.accept_op(","):
                columns.append(self.ident())
            self.expect_op(")")
            self.expect_kw("values")
            stmt = st.Insert(table, columns, self.term_list("(", ")"))
        stmt.if_not_exists = self.if_not_exists()
        self.using(stmt.using)
        return stmt

    def conditions(self) -> tuple[bool, list[st.Condition]]:
        if not self.tok.is_kw("if"):
            return False, []
        if self.if_exists():
            return True, []
        self.expect_kw("if")
        conds = [self.condition()]
        while self.accept_kw("and"):
            conds.append(self.condition())
        return False, conds

    def condition(self) -> st.Condition:
        column = self.ident()
        if self.accept_kw("in"):
            return st.Condition(column, "IN", self.term_list("(", ")"))
        op = self.expect_op(*RELATION_OPS)
        return st.Condition(column, op, self.term())

    def update(self) -> st.Update:
        self.expect_kw("update")
        table = st.TableName(*self.table_name())
        using = self.using(st.Using())
        self.expect_kw("set")
        assignments = [self.assignment()]
        while self.accept_op(","):
            assignments.append(self.assignment())
        self.expect_kw("where")
        stmt = st.Update(table, assignments, self.relations(), using)
        stmt.if_exists, stmt.conditions = self.conditions()
        return stmt

    def assignment(self) -> st.Assignment:
        column = self.ident()
        if self.accept_op("["):
            key = self.term()
            self.expect_op("]")
            self.expect_op("=")
            return st.Assignment(column, "set_element", self.term(), key)
        if self.accept_op("+="):
            return st.Assignment(column, "add", self.term())
        if self.accept_op("-="):
            return st.Assignment(column, "sub", self.term())
        self.expect_op("=")
        if self.tok.kind in ("ident", "qident") and self.peek().is_op("+", "-"):
            other = self.ident()
            if other != column:
                raise SyntaxException(f"Only expressions of the form X = X +/- <value> are supported ({column})")
            op = "add" if self.advance().value == "+" else "sub"
            return st.Assignment(column, op, self.term())
        value = self.term()
        if self.accept_op("+"):
            if self.ident() != column:
                raise SyntaxException(f"Only expressions of the form X = <value> + X are supported ({column})")
            return st.Assignment(column, "prepend", value)
        return st.Assignment(column, "set", value)

    def delete(self) -> st.Delete:
        self.expect_kw("delete")
        columns: list[tuple[str, st.Term | None]] = []
        if not self.tok.is_kw("from"):
            while True:
                name = self.ident()
                key = None
                if self.accept_op("["):
                    key = self.term()
                    self.expect_op("]")
                columns.append((name, key))
                if not self.accept_op(","):
                    break
        self.expect_kw("from")
        table = st.TableName(*self.table_name())
        using = self.using(st.Using(), allow_ttl=False)
        self.expect_kw("where")
        stmt = st.Delete(table, columns, self.relations(), using)
        stmt.if_exists, stmt.conditions = self.conditions()
        return stmt

    def batch(self) -> st.Batch:
        self.expect_kw("begin")
        kind = "logged"
        if self.accept_kw("unlogged"):
            kind = "unlogged"
        elif self.accept_kw("counter"):
            kind = "counter"
        self.expect_kw("batch")
        using = self.using(st.Using(), allow_ttl=False)
        children: list[st.Modification] = []
        while not self.tok.is_kw("apply"):
            if self.tok.is_kw("insert"):
                children.append(self.insert())
            elif self.tok.is_kw("update"):
                children.append(self.update())
            elif self.tok.is_kw("delete"):
                children.append(self.delete())
            else:
                raise self.fail()
            self.accept_op(";")
        self.expect_kw("apply")
        self.expect_kw("batch")
        return st.Batch(kind, children, using)


def parse(text: str) -> st.Statement:
    """Parse one CQL statement; raise SyntaxException on anything outside the grammar."""
    return Parser(text).statement()


def count_markers(text: str) -> int:
    parser = Parser(text)
    parser.statement()
    return parser.markers
