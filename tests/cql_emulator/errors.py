"""CQL protocol errors, with the codes of native_protocol_v4.spec section 9."""

from __future__ import annotations

import struct

SERVER_ERROR = 0x0000
PROTOCOL_ERROR = 0x000A
UNAUTHORIZED = 0x2100
SYNTAX_ERROR = 0x2000
INVALID = 0x2200
CONFIG_ERROR = 0x2300
ALREADY_EXISTS = 0x2400
UNPREPARED = 0x2500


def _string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


class CqlError(Exception):
    """An error the server reports to the client in an ERROR frame."""

    code = SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extra(self) -> bytes:
        return b""

    def encode(self) -> bytes:
        return struct.pack(">i", self.code) + _string(self.message) + self.extra()


class ServerError(CqlError):
    code = SERVER_ERROR


class ProtocolError(CqlError):
    code = PROTOCOL_ERROR


class SyntaxException(CqlError):
    code = SYNTAX_ERROR


class Unauthorized(CqlError):
    code = UNAUTHORIZED


class InvalidRequest(CqlError):
    code = INVALID


class ConfigurationException(CqlError):
    code = CONFIG_ERROR


class AlreadyExists(CqlError):
    code = ALREADY_EXISTS

    def __init__(self, keyspace: str, table: str = "") -> None:
        if table:
            message = f'Cannot add already existing table "{table}" to keyspace "{keyspace}"'
        else:
            message = f'Cannot add existing keyspace "{keyspace}"'
        super().__init__(message)
        self.keyspace = keyspace
        self.table = table

    def extra(self) -> bytes:
        return _string(self.keyspace) + _string(self.table)


class Unprepared(CqlError):
    code = UNPREPARED

    def __init__(self, query_id: bytes) -> None:
        super().__init__(f"Prepared query with ID {query_id.hex()} not found")
        self.query_id = query_id

    def extra(self) -> bytes:
        return struct.pack(">H", len(self.query_id)) + self.query_id
