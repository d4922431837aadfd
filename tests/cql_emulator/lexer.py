"""Tokenizer for the CQL subset the emulator understands."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SyntaxException
from .types import CqlType, make_type

# Reserved keywords of CQL 3 (Cassandra 4 docs, appendix A): never valid as unquoted identifiers.
RESERVED = frozenset(
    [
        "add",
        "allow",
        "alter",
        "and",
        "apply",
        "asc",
        "authorize",
        "batch",
        "begin",
        "by",
        "columnfamily",
        "create",
        "delete",
        "desc",
        "describe",
        "drop",
        "entries",
        "execute",
        "from",
        "full",
        "grant",
        "if",
        "in",
        "index",
        "infinity",
        "insert",
        "into",
        "keyspace",
        "limit",
        "modify",
        "nan",
        "norecursive",
        "not",
        "null",
        "of",
        "on",
        "or",
        "order",
        "primary",
        "rename",
        "replace",
        "revoke",
        "schema",
        "select",
        "set",
        "table",
        "to",
        "token",
        "truncate",
        "unlogged",
        "update",
        "use",
        "using",
        "view",
        "where",
        "with",
    ]
)

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|--[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<uuid>"""
    + _UUID
    + r"""(?![0-9A-Za-z_]))
  | (?P<hex>0[xX][0-9a-fA-F]*(?![0-9A-Za-z_]))
  | (?P<float>-?(?:\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)(?![0-9A-Za-z_]))
  | (?P<int>-?\d+(?![0-9A-Za-z_.]))
  | (?P<ident>[A-Za-z][A-Za-z0-9_]*)
  | (?P<qident>"(?:[^"]|"")+")
  | (?P<string>'(?:[^']|'')*')
  | (?P<pgstring>\$\$.*?\$\$)
  | (?P<named>:[A-Za-z][A-Za-z0-9_]*|:"(?:[^"]|"")+")
  | (?P<op><=|>=|!=|\+=|-=|[=<>(),;.*?\[\]{}:+\-])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # ident, qident, string, int, float, uuid, hex, named, op, eof
    value: str
    line: int
    col: int

    def is_kw(self, *words: str) -> bool:
        return self.kind == "ident" and self.value.lower() in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == "op" and self.value in ops


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1)
        if match is None:
            raise SyntaxException(f"line {line}:{col} token recognition error at: '{text[pos]}'")
        kind = match.lastgroup or ""
        raw = match.group()
        pos = match.end()
        if kind == "ws":
            continue
        value = raw
        if kind == "qident":
            value = raw[1:-1].replace('""', '"')
        elif kind == "string":
            value = raw[1:-1].replace("''", "'")
        elif kind == "pgstring":
            kind, value = "string", raw[2:-2]
        elif kind == "named":
            value = raw[2:-1].replace('""', '"') if raw.startswith(':"') else raw[1:].lower()
        tokens.append(Token(kind, value, line, col))
    line = text.count("\n") + 1
    tokens.append(Token("eof", "<EOF>", line, len(text) - (text.rfind("\n") + 1)))
    return tokens


class TokenCursor:
    """Token-level helpers shared by the DDL and DML parsers."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.markers = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tok
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return tok

    def fail(self, tok: Token | None = None) -> SyntaxException:
        tok = tok or self.tok
        if tok.kind == "eof":
            return SyntaxException(f"line {tok.line}:{tok.col} mismatched input '<EOF>'")
        return SyntaxException(f"line {tok.line}:{tok.col} no viable alternative at input '{tok.value}'")

    def accept_kw(self, *words: str) -> bool:
        if self.tok.is_kw(*words):
            self.advance()
            return True
        return False

    def expect_kw(self, *words: str) -> str:
        if not self.tok.is_kw(*words):
            raise self.fail()
        return self.advance().value.lower()

    def accept_op(self, *ops: str) -> bool:
        if self.tok.is_op(*ops):
            self.advance()
            return True
        return False

    def expect_op(self, *ops: str) -> str:
        if not self.tok.is_op(*ops):
            raise self.fail()
        return self.advance().value

    def ident(self, *, allow_reserved: bool = False) -> str:
        tok = self.tok
        if tok.kind == "qident":
            self.advance()
            return tok.value
        if tok.kind == "ident" and (allow_reserved or tok.value.lower() not in RESERVED):
            self.advance()
            return tok.value.lower()
        raise self.fail()

    def table_name(self) -> tuple[str | None, str]:
        first = self.ident()
        if self.accept_op("."):
            return first, self.ident()
        return None, first

    def if_not_exists(self) -> bool:
        if self.accept_kw("if"):
            self.expect_kw("not")
            self.expect_kw("exists")
            return True
        return False

    def if_exists(self) -> bool:
        if self.tok.is_kw("if") and self.peek().is_kw("exists"):
            self.advance()
            self.advance()
            return True
        return False

    def cql_type(self) -> CqlType:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            raise SyntaxException(f"Custom types are not supported by the emulator: {tok.value}")
        if tok.kind != "ident":
            raise self.fail()
        name = self.advance().value.lower()
        args: list[CqlType] = []
        if self.accept_op("<"):
            args.append(self.cql_type())
            while self.accept_op(","):
                args.append(self.cql_type())
            self.expect_op(">")
        try:
            return make_type(name, args)
        except ValueError as exc:
            raise SyntaxException(f"line {tok.line}:{tok.col} {exc}") from None
