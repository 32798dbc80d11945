"""A minimal borsh reader: enough to decode the transactions clients sign.

Every read checks bounds, so truncated or garbage input raises :class:`BorshError` instead of
producing a half-decoded transaction.
"""

from __future__ import annotations

import struct


class BorshError(ValueError):
    """The bytes are not a valid borsh encoding of the expected type."""


_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class Reader:
    """Sequential little-endian reader over a bytes buffer."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise BorshError(f"unexpected end of data: wanted {n} bytes at offset {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return _U32.unpack(self.take(4))[0]

    def u64(self) -> int:
        return _U64.unpack(self.take(8))[0]

    def u128(self) -> int:
        return int.from_bytes(self.take(16), "little")

    def bytes_vec(self) -> bytes:
        return self.take(self.u32())

    def string(self) -> str:
        raw = self.bytes_vec()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BorshError("string is not valid utf-8") from exc

    def option(self) -> bool:
        flag = self.u8()
        if flag > 1:
            raise BorshError(f"invalid option tag {flag}")
        return flag == 1

    def done(self) -> bool:
        return self.pos == len(self.data)


def u64(value: int) -> bytes:
    return _U64.pack(value)


def string(value: str) -> bytes:
    raw = value.encode()
    return _U32.pack(len(raw)) + raw
