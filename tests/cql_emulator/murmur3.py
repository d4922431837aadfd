"""Cassandra's Murmur3Partitioner token: MurmurHash3 x64 128-bit, first 64 bits, signed.

Cassandra's ``MurmurHash.hash3_x64_128`` reads the 16-byte blocks as unsigned little-endian
longs, but reads the tail bytes through ``ByteBuffer.get``, which yields *signed* Java bytes
that are sign-extended before shifting.  That quirk changes the hash of any key whose tail
holds a byte >= 0x80, so it is reproduced here.
"""

from __future__ import annotations

import struct

MASK64 = 0xFFFFFFFFFFFFFFFF
C1 = 0x87C37B91114253D5
C2 = 0x4CF5AD432745937F
MIN_TOKEN = -(2**63)
MAX_TOKEN = 2**63 - 1


def _rotl64(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & MASK64


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & MASK64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & MASK64
    k ^= k >> 33
    return k


def _signed_byte(value: int) -> int:
    """A byte as Java's ``(long) byteBuffer.get(i)`` sees it: sign-extended to 64 bits."""
    return (value - 256 if value > 127 else value) & MASK64


def hash3_x64_128(data: bytes, seed: int = 0) -> tuple[int, int]:
    """Return (h1, h2) as unsigned 64-bit ints, with Cassandra's signed-tail quirk."""
    length = len(data)
    nblocks = length // 16
    h1 = seed & MASK64
    h2 = seed & MASK64
    for i in range(nblocks):
        k1, k2 = struct.unpack_from("<QQ", data, i * 16)
        k1 = (k1 * C1) & MASK64
        k1 = _rotl64(k1, 31)
        k1 = (k1 * C2) & MASK64
        h1 ^= k1
        h1 = _rotl64(h1, 27)
        h1 = (h1 + h2) & MASK64
        h1 = (h1 * 5 + 0x52DCE729) & MASK64
        k2 = (k2 * C2) & MASK64
        k2 = _rotl64(k2, 33)
        k2 = (k2 * C1) & MASK64
        h2 ^= k2
        h2 = _rotl64(h2, 31)
        h2 = (h2 + h1) & MASK64
        h2 = (h2 * 5 + 0x38495AB5) & MASK64
    tail = data[nblocks * 16 :]
    k1 = 0
    k2 = 0
    for i in range(len(tail) - 1, 7, -1):
        k2 ^= (_signed_byte(tail[i]) << ((i - 8) * 8)) & MASK64
    if len(tail) > 8:
        k2 = (k2 * C2) & MASK64
        k2 = _rotl64(k2, 33)
        k2 = (k2 * C1) & MASK64
        h2 ^= k2
    for i in range(min(len(tail), 8) - 1, -1, -1):
        k1 ^= (_signed_byte(tail[i]) << (i * 8)) & MASK64
    if tail:
        k1 = (k1 * C1) & MASK64
        k1 = _rotl64(k1, 31)
        k1 = (k1 * C2) & MASK64
        h1 ^= k1
    h1 ^= length
    h2 ^= length
    h1 = (h1 + h2) & MASK64
    h2 = (h2 + h1) & MASK64
    h1 = _fmix(h1)
    h2 = _fmix(h2)
    h1 = (h1 + h2) & MASK64
    h2 = (h2 + h1) & MASK64
    return h1, h2


def _to_signed(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def murmur3_token(key: bytes) -> int:
    """Murmur3Partitioner.getToken: signed first half; Long.MIN_VALUE maps to Long.MAX_VALUE."""
    token = _to_signed(hash3_x64_128(key)[0])
    return MAX_TOKEN if token == MIN_TOKEN else token


def compose_partition_key(components: list[bytes]) -> bytes:
    """Serialize a partition key as Cassandra does: one component raw, several as CompositeType."""
    if len(components) == 1:
        return components[0]
    out = bytearray()
    for part in components:
        out += struct.pack(">H", len(part)) + part + b"\x00"
    return bytes(out)
