"""Cassandra's Murmur3Partitioner token, against fixed vectors and the driver's implementation."""

from __future__ import annotations

import random

import pytest
from cassandra.murmur3 import murmur3 as driver_murmur3

from tests.cql_emulator.murmur3 import MAX_TOKEN, compose_partition_key, murmur3_token

# Vectors from Cassandra's partitioner as cassandra-driver's test-suite records them.
VECTORS = [
    (b"123", -7468325962851647638),
    (b"\x00\xff\x10\xfa\x99" * 10, 5837342703291459765),
    (b"\xfe" * 8, -8927430733708461935),
    (b"\x10" * 8, 1446172840243228796),
    (b"9223372036854775807", 7162290910810015547),
    (b"", 0),
]


@pytest.mark.parametrize(("key", "token"), VECTORS)
def test_murmur3_token_matches_known_vectors(key: bytes, token: int) -> None:
    assert murmur3_token(key) == token


def test_murmur3_token_matches_driver_on_random_keys_with_high_bytes() -> None:
    rng = random.Random(7)
    for length in range(0, 70):
        key = bytes(rng.randrange(256) for _ in range(length))
        assert murmur3_token(key) == driver_murmur3(key)


def test_murmur3_token_stays_in_signed_long_range() -> None:
    assert all(-(2**63) < murmur3_token(bytes([i]) * i) <= MAX_TOKEN for i in range(64))


def test_compose_partition_key_single_and_composite() -> None:
    assert compose_partition_key([b"abc"]) == b"abc"
    assert compose_partition_key([b"a", b"bc"]) == b"\x00\x01a\x00\x00\x02bc\x00"
