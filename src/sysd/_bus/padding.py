"""Padding and string terminators in a message body, checked as sd-bus checks them.

dbus-fast's unmarshaller skips alignment padding and the NUL after each string
without looking at them; sd-bus refuses a message whose padding is not zero
(``bus-message.c``: ``buffer_peek``) or whose string lacks its terminating NUL
(RELIABILITY.md 10 and 12).  :func:`check_body` walks a body's bytes by its
signature and raises :class:`~sysd.errors.ProtocolError` on either.

The walk is exact but costs a few Python operations per value; for the large
replies systemd sends over and over (ListUnits: an array of structs of strings
and integers) a proof by counting does the same at C speed: it runs after the
strictness checks, which have made sure no string holds a NUL byte, so in a
valid body every zero byte is either inside a length or an integer (whose bytes
the decoded values give) or is padding or a terminator.  If the zero bytes of
the body number exactly those of the values plus every byte the values do not
account for, all padding and terminators are zero.  When the count does not
come out (or the body is not of that shape), the walk decides and says why.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from ..errors import ProtocolError
from . import strict

__all__ = ["check_body"]

_Buf = bytes | bytearray
_Reader = Callable[[_Buf, int, int], int]  # (buffer, position, message start) -> position after

_FIXED = {"y": 1, "b": 4, "n": 2, "q": 2, "i": 4, "u": 4, "h": 4, "x": 8, "t": 8, "d": 8}
_ALIGN8 = frozenset("xtd({")
_ZERO = bytes(8)
_MAX_READERS = 4096
_U32 = struct.Struct("<I").unpack_from


def _pad_error() -> ProtocolError:
    return ProtocolError("malformed message from the bus (non-zero padding in the body)")


def _nul_error() -> ProtocolError:
    return ProtocolError(
        "malformed message from the bus (a string in the body lacks its terminating NUL)"
    )


def _length_error() -> ProtocolError:
    return ProtocolError(
        "malformed message from the bus (an array's length does not end at an element)"
    )


def _split(sig: str) -> list[str]:
    """The single complete types of a (valid) signature."""
    out = []
    i = 0
    while i < len(sig):
        j = _type_end(sig, i)
        out.append(sig[i:j])
        i = j
    return out


def _type_end(sig: str, i: int) -> int:
    c = sig[i]
    if c == "a":
        return _type_end(sig, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        j = i + 1
        while sig[j] != close:
            j = _type_end(sig, j)
        return j + 1
    return i + 1


_readers: dict[tuple[str, bool], _Reader] = {}


def _reader(t: str, little: bool) -> _Reader:
    """The walker of one value of the single complete type ``t``; cached."""
    key = (t, little)
    r = _readers.get(key)
    if r is None:
        r = _make(t, little)
        if len(_readers) >= _MAX_READERS:
            _readers.clear()
        _readers[key] = r
    return r


def _make(t: str, little: bool) -> _Reader:
    u32 = struct.Struct("<I" if little else ">I").unpack_from
    c = t[0]
    if c in _FIXED:
        size = _FIXED[c]
        mask = size - 1
        if size == 1:
            return lambda buf, p, base: p + 1

        def fixed(buf: _Buf, p: int, base: int) -> int:
            q = p + (-(p - base) & mask)
            if q != p and buf[p:q] != _ZERO[: q - p]:
                raise _pad_error()
            return q + size

        return fixed
    if c in "so":

        def string(buf: _Buf, p: int, base: int) -> int:
            q = p + (-(p - base) & 3)
            if q != p and buf[p:q] != _ZERO[: q - p]:
                raise _pad_error()
            e: int = q + 4 + u32(buf, q)[0]
            if buf[e]:
                raise _nul_error()
            return e + 1

        return string
    if c == "g":

        def signature(buf: _Buf, p: int, base: int) -> int:
            e = p + 1 + buf[p]
            if buf[e]:
                raise _nul_error()
            return e + 1

        return signature
    if c == "v":

        def variant(buf: _Buf, p: int, base: int) -> int:
            e = p + 1 + buf[p]
            if buf[e]:
                raise _nul_error()
            inner = _reader(bytes(buf[p + 1 : e]).decode("ascii"), little)
            return inner(buf, e + 1, base)

        return variant
    if c == "a":
        child = t[1:]
        if child in ("{sv}", "{ov}"):
            return _dict_of_variants(little)
        first8 = child[0] in _ALIGN8
        # elements of a fixed size are their own alignment: no padding between them
        element = None if child in _FIXED else _reader(child, little)

        def array(buf: _Buf, p: int, base: int) -> int:
            q = p + (-(p - base) & 3)
            if q != p and buf[p:q] != _ZERO[: q - p]:
                raise _pad_error()
            length: int = u32(buf, q)[0]
            p = q + 4
            if first8:  # the padding to the first element is there even when it is empty
                q = p + (-(p - base) & 7)
                if q != p and buf[p:q] != _ZERO[: q - p]:
                    raise _pad_error()
                p = q
            end = p + length
            if element is None:
                return end
            while p < end:
                p = element(buf, p, base)
            if p != end:
                raise _length_error()
            return p

        return array
    fields = [_reader(f, little) for f in _split(t[1:-1])]

    def struct_(buf: _Buf, p: int, base: int) -> int:
        q = p + (-(p - base) & 7)
        if q != p and buf[p:q] != _ZERO[: q - p]:
            raise _pad_error()
        p = q
        for f in fields:
            p = f(buf, p, base)
        return p

    return struct_


# single-character variant signature (its byte) -> (alignment mask, size); 0 size: a string
_VARIANT_BASIC = {ord(k): (v - 1, v) for k, v in _FIXED.items()}
_VARIANT_BASIC.update({ord("s"): (3, 0), ord("o"): (3, 0)})


def _dict_of_variants(little: bool) -> _Reader:
    """``a{sv}`` (GetAll, PropertiesChanged): one loop, the common variants inline."""
    u32 = struct.Struct("<I" if little else ">I").unpack_from
    basic = _VARIANT_BASIC
    zero = _ZERO

    def dict_(buf: _Buf, p: int, base: int) -> int:
        q = p + (-(p - base) & 3)
        if q != p and buf[p:q] != zero[: q - p]:
            raise _pad_error()
        length = u32(buf, q)[0]
        p = q + 4
        q = p + (-(p - base) & 7)
        if q != p and buf[p:q] != zero[: q - p]:
            raise _pad_error()
        p = q
        end = p + length
        while p < end:
            q = p + (-(p - base) & 7)  # the entry
            if q != p and buf[p:q] != zero[: q - p]:
                raise _pad_error()
            p = q + 4 + u32(buf, q)[0]  # the key's terminator
            if buf[p] or buf[p + 1] != 1 or buf[p + 3]:
                if buf[p]:
                    raise _nul_error()
                e = p + 2 + buf[p + 1]  # the variant's signature's terminator
                if buf[e]:
                    raise _nul_error()
                inner = _reader(bytes(buf[p + 2 : e]).decode("ascii"), little)
                p = inner(buf, e + 1, base)
                continue
            mask, size = basic.get(buf[p + 2], (-1, 0))
            p += 4
            if mask < 0:  # a single-character container: g or v
                p = _reader(chr(buf[p - 2]), little)(buf, p, base)
                continue
            q = p + (-(p - base) & mask)
            if q != p and buf[p:q] != zero[: q - p]:
                raise _pad_error()
            if size:
                p = q + size
            else:
                p = q + 4 + u32(buf, q)[0]
                if buf[p]:
                    raise _nul_error()
                p += 1
        if p != end:
            raise _length_error()
        return p

    return dict_


_bodies: dict[tuple[str, bool], list[_Reader]] = {}


def walk_body(buf: _Buf, base: int, start: int, end: int, sig: str, little: bool) -> None:
    """Walk the body ``buf[start:end]`` of the message starting at ``buf[base]``."""
    p = start
    readers = _bodies.get((sig, little))
    if readers is None:
        if len(_bodies) >= _MAX_READERS:
            _bodies.clear()
        readers = _bodies[sig, little] = [_reader(t, little) for t in _split(sig)]
    try:
        for read in readers:
            p = read(buf, p, base)
    except (IndexError, struct.error):
        raise ProtocolError(
            "malformed message from the bus (body shorter than its values)"
        ) from None
    if p > end:
        raise ProtocolError("malformed message from the bus (body shorter than its values)")
    if p < end and buf[p:end].count(0) != end - p:
        raise _pad_error()


# ------------------------------------------------- the proof by counting

_ROW_FIXED = {"u": "I", "i": "i", "b": "I", "h": "I"}
# body signature -> (string columns, object path columns, (pack format, column) of 4-byte
# integers), or None when the body is not one array of structs of those
_shapes: dict[str, Any] = {}


def _shape(sig: str) -> Any:
    shape = None
    fields = sig[2:-1]
    if (
        sig.startswith("a(")
        and sig.endswith(")")
        and fields
        and all(f in "so" or f in _ROW_FIXED for f in fields)
    ):
        shape = (
            [itemgetter(i) for i, f in enumerate(fields) if f == "s"],
            [itemgetter(i) for i, f in enumerate(fields) if f == "o"],
            [(_ROW_FIXED[f], itemgetter(i)) for i, f in enumerate(fields) if f in _ROW_FIXED],
        )
    if len(_shapes) >= _MAX_READERS:
        _shapes.clear()
    _shapes[sig] = shape
    return shape


def _rows(buf: _Buf, start: int, end: int, rows: Any, shape: Any) -> bool:
    """Check an array of structs of strings, paths and 4-byte integers (ListUnits): its
    values as :func:`strict.check_values` would (refusing a NUL or a bad path), then
    whether counting proves every padding and terminator byte zero (False: it does not,
    let the walk decide).

    The body ``buf[start:end]`` (little-endian) holds the array's length, the values'
    bytes (a string's length and its characters, the integers) and the rest: padding and
    terminators, which must all be zero.  The characters hold no zero (checked here
    first); every non-empty string's length has at most 3 zero bytes (exactly 3 below
    256 bytes), an empty one's 4, the integers' and the array length's zeros are counted.
    So if the zeros of the body number those of the values plus all of the rest, the rest
    is all zeros; counting too many for the values (a string of 256 bytes or more) can
    only make the proof fail, never pass wrongly.
    """
    strings, paths, numbers = shape
    n = len(rows)
    value_bytes = 4 * n * len(numbers) + 4
    value_zeros = 0
    for column in strings:
        values = list(map(column, rows))
        chars = "".join(values)
        if "\0" in chars:
            raise strict.nul_error()
        value_bytes += 4 * n + (len(chars) if chars.isascii() else len(chars.encode()))
        value_zeros += 3 * n + values.count("")
    for column in paths:
        values = list(map(column, rows))
        if not strict.paths_seen.issuperset(values):
            strict.check_values("ao", [values])
        value_bytes += 4 * n + len("".join(values))  # valid paths are ASCII
        value_zeros += 3 * n  # and never empty
    if end - start < 8 or _U32(buf, start)[0] != (end - start - 8 if n else 0):
        return False  # the walk says what is wrong
    value_zeros += buf.count(0, start, start + 4)
    for fmt, column in numbers:
        value_zeros += struct.pack(f"<{n}{fmt}", *map(column, rows)).count(0)
    return buf.count(0, start, end) - value_zeros == end - start - value_bytes


_STRING_CODES = frozenset(b"so")
_U32_CODES = frozenset(b"bui")


def check_body(buf: _Buf, base: int, start: int, end: int, sig: str, body: list[Any]) -> None:
    """Check the values of the body ``buf[start:end]`` of the message at ``buf[base]`` (as
    :func:`strict.check_values`), then its padding and string terminators."""
    little = buf[base] == 0x6C
    if sig == "v":  # Get: a variant of a string or a number, without a walk
        strict.check_values(sig, body)
        if buf[start] == 1 and not buf[start + 2] and not buf[start + 3]:
            c = buf[start + 1]  # one byte of padding (just checked), then the value
            if c in _STRING_CODES:
                if not buf[end - 1] and little and _U32(buf, start + 4)[0] == end - start - 9:
                    return
            elif c in _U32_CODES and end - start == 8:
                return
    else:
        shape = _shapes[sig] if sig in _shapes else _shape(sig)
        if shape is None:
            strict.check_values(sig, body)
        elif _rows(buf, start, end, body[0], shape) and little:
            return
    walk_body(buf, base, start, end, sig, little)
