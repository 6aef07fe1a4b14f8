"""Padding and string terminators in a message body, checked as sd-bus checks them.

dbus-fast's unmarshaller skips alignment padding and the NUL after each string
without looking at them; sd-bus refuses a message whose padding is not zero
(``bus-message.c``: ``buffer_peek``) or whose string lacks its terminating NUL
(RELIABILITY.md 10 and 12).  :func:`check_body` walks a body's bytes by its
signature and raises :class:`~sysd.errors.ProtocolError` on either.

The walk is exact but costs a few Python operations per value.  Long bodies
(GetAll, ListUnits, PropertiesChanged) are proved by counting instead, at C speed:
the strictness checks have made sure no string holds a NUL byte, so every zero
byte of a valid body is inside a number or a length (whose bytes the decoded
values give) or is padding or a terminator.  If the zero bytes of the body number
those of the values plus every byte the values do not account for, all padding
and terminators are zero.  When the count does not come out (or the values are
of a shape it does not take), the walk decides and says why.  A Get's variant
and a body of one string are checked in place; short bodies are walked.

Array lengths are read as dbus-fast reads them (whole elements while the length
is not reached), so that the walk looks at the bytes dbus-fast skipped; a length
that ends inside an element is not refused here (sd-bus refuses it).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
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
        # elements of a fixed size are their own alignment: no padding between them (dbus-fast
        # reads whole elements while the length is not reached: so do we, to stay in step)
        element = None if child in _FIXED else _reader(child, little)
        whole = _FIXED.get(child, 1) - 1

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
                return end + (-length & whole)
            while p < end:
                p = element(buf, p, base)
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
            [i for i, f in enumerate(fields) if f == "s"],
            [i for i, f in enumerate(fields) if f == "o"],
            [(_ROW_FIXED[f], i) for i, f in enumerate(fields) if f in _ROW_FIXED],
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
    if not n:
        return end - start == 8 and buf.count(0, start, end) == 8
    # one tuple per field (each is joined, counted, looked up); rows are all of one length
    columns = list(zip(*rows, strict=True))
    value_bytes = 4 * n * len(numbers) + 4
    value_zeros = 0
    for i in strings:
        values = columns[i]
        chars = "".join(values)
        if "\0" in chars:
            raise strict.nul_error()
        value_bytes += 4 * n + (len(chars) if chars.isascii() else len(chars.encode()))
        value_zeros += 3 * n + values.count("")
    for i in paths:
        values = columns[i]
        if not strict.paths_seen.issuperset(values):
            strict.check_values("ao", [list(values)])
        value_bytes += 4 * n + len("".join(values))  # valid paths are ASCII
        value_zeros += 3 * n  # and never empty
    if end - start < 8 or _U32(buf, start)[0] != end - start - 8:
        return False  # the walk says what is wrong
    value_zeros += buf.count(0, start, start + 4)
    for fmt, i in numbers:
        value_zeros += struct.pack(f"<{n}{fmt}", *columns[i]).count(0)
    return buf.count(0, start, end) - value_zeros == end - start - value_bytes


# ------------------------------------- the proof by counting, for any body

# What a value contributes: (its bytes, at least as many zeros as those bytes hold).  Its
# bytes are those of its numbers, lengths, characters and signatures: not its padding, not
# its terminators (which must all be zero).  Every count of bytes is exact; every count of
# zeros exact or too high (a non-empty array's or string's length: 3 zeros of 4, exact
# below 256 bytes), and too high can only make the proof fail, never pass wrongly.
_Account = Callable[[Any], tuple[int, int]]
_NUMBERS = {"y": "B", "n": "h", "q": "H", "i": "i", "u": "I", "h": "I", "x": "q", "t": "Q"}
_accounts: dict[str, _Account] = {}


def _account(t: str) -> _Account:
    a = _accounts.get(t)
    if a is None:
        a = _make_account(t)
        if len(_accounts) >= _MAX_READERS:
            _accounts.clear()
        _accounts[t] = a
    return a


def _text(value: str) -> int:
    return len(value) if value.isascii() else len(value.encode())


def _number(fmt: str) -> _Account:
    pack = struct.Struct("<" + fmt).pack
    size = struct.calcsize(fmt)
    return lambda v: (size, pack(v).count(0))


def _double(v: float) -> tuple[int, int]:
    # a NaN's payload may not survive a round trip through a Python float: count 8 zeros
    return (8, 8 if math.isnan(v) else struct.pack("<d", v).count(0))


def _make_account(t: str) -> _Account:
    c = t[0]
    if t in _NUMBERS:
        return _number(_NUMBERS[t])
    if c == "d":
        return _double
    if c == "b":
        return lambda v: (4, 3 if v else 4)
    if c in "so":
        return lambda v: (4 + _text(v), 3 if v else 4)
    if c == "g":
        return lambda v: (1 + len(v), 0 if v else 1)
    if c == "v":
        return _variant
    if c == "a":
        child = t[1:]
        if child == "y":
            return lambda v: (4 + len(v), (3 if v else 4) + v.count(0))
        if child in ("s", "o"):

            def strings(v: Any) -> tuple[int, int]:
                n = len(v)
                return (4 + 4 * n + _text("".join(v)), (3 if n else 4) + 3 * n + v.count(""))

            return strings
        if child in _NUMBERS:
            fmt = _NUMBERS[child]
            size = struct.calcsize(fmt)

            def numbers(v: Any) -> tuple[int, int]:
                n = len(v)
                return (4 + size * n, (3 if n else 4) + struct.pack(f"<{n}{fmt}", *v).count(0))

            return numbers
        if child == "{sv}":
            return _dict_of_variants_account
        if child[0] == "{":
            key, item = (_account(k) for k in _split(child[1:-1]))

            def dict_(v: Any) -> tuple[int, int]:
                size = 4
                zeros = 3 if v else 4
                for k, x in v.items():
                    b, z = key(k)
                    size += b
                    zeros += z
                    b, z = item(x)
                    size += b
                    zeros += z
                return size, zeros

            return dict_
        element = _account(child)

        def array(v: Any) -> tuple[int, int]:
            size = 4
            zeros = 3 if v else 4
            for x in v:
                b, z = element(x)
                size += b
                zeros += z
            return size, zeros

        return array
    fields = [_account(f) for f in _split(t[1:-1])]

    def struct_(v: Any) -> tuple[int, int]:
        size = zeros = 0
        for f, x in zip(fields, v, strict=True):
            b, z = f(x)
            size += b
            zeros += z
        return size, zeros

    return struct_


def _variant(var: Any) -> tuple[int, int]:
    sig = var.signature
    b, z = _account(sig)(var.value)
    return 1 + len(sig) + b, z  # the signature's length and characters: never zero


def _dict_of_variants_account(d: Any, check: bool = False) -> tuple[int, int]:
    """``a{sv}`` (GetAll): numbers, strings and booleans gathered by type, counted at once.

    With ``check``, also what :func:`strict.check_values` checks of an ``a{sv}`` (no NUL
    in a key or a string, valid object paths, the other variants by strict itself): a
    GetAll body is then looked at in one loop instead of two.
    """
    keys = list(d)
    n = len(keys)
    joined = "".join(keys)
    if check and "\0" in joined:
        raise strict.nul_error()
    size = 4 + 4 * n + _text(joined)
    zeros = (3 if n else 4) + 3 * n + keys.count("")
    numbers: dict[str, list[Any]] = {k: [] for k in _NUMBERS}
    strings: list[str] = []
    paths: list[str] = []
    true = false = 0
    for var in d.values():
        sig = var.signature
        size += 1 + len(sig)
        same = numbers.get(sig)
        if same is not None:
            same.append(var.value)
        elif sig == "s":
            strings.append(var.value)
        elif sig == "b":
            if var.value:
                true += 1
            else:
                false += 1
        elif sig == "o":
            paths.append(var.value)
        elif sig == "as":  # checked and counted with one join
            value = var.value
            joined = "".join(value)
            if check and "\0" in joined:
                raise strict.nul_error()
            k = len(value)
            size += 4 + 4 * k + _text(joined)
            zeros += (3 if k else 4) + 3 * k + value.count("")
        elif sig == "ay":  # nothing to check
            value = var.value
            size += 4 + len(value)
            zeros += (3 if value else 4) + value.count(0)
        else:
            if check:
                strict.check_variant(var)
            b, z = _account(sig)(var.value)
            size += b
            zeros += z
    for sig, values in numbers.items():
        if values:
            data = struct.pack(f"<{len(values)}{_NUMBERS[sig]}", *values)
            size += len(data)
            zeros += data.count(0)
    joined = "".join(strings)
    if check:
        if "\0" in joined:
            raise strict.nul_error()
        if paths and not strict.paths_seen.issuperset(paths):
            strict.check_values("ao", [paths])
    strings += paths
    n = len(strings)
    size += 4 * n + _text(joined) + len("".join(paths)) + 4 * (true + false)
    zeros += 3 * n + strings.count("") + 3 * true + 4 * false
    return size, zeros


_body_accounts: dict[str, list[tuple[str, _Account]]] = {}


def _proved(buf: _Buf, start: int, end: int, sig: str, body: list[Any]) -> bool:
    """Whether counting proves every padding and terminator byte of the body zero.

    The lengths of the arrays at the top of the body are read where they lie (as long as
    the values before them are strings or numbers, their places are known): their zeros
    are then exact, however long the array.
    """
    accounts = _body_accounts.get(sig)
    if accounts is None:
        if len(_body_accounts) >= _MAX_READERS:
            _body_accounts.clear()
        accounts = _body_accounts[sig] = [(t[0], _account(t)) for t in _split(sig)]
    size = zeros = 0
    pos: int | None = start  # where the next value starts, while it is known
    for (c, account), value in zip(accounts, body, strict=True):
        b, z = account(value)
        size += b
        zeros += z
        if pos is None:
            continue
        if c == "a":
            q = pos + (-(pos - start) & 3)
            if q + 4 > end:
                return False
            zeros += buf.count(0, q, q + 4) - (3 if value else 4)
            pos = None
        elif c in "so":
            pos += (-(pos - start) & 3) + b + 1
        elif c == "g":
            pos += b + 1
        elif c in _FIXED:
            pos += (-(pos - start) & (b - 1)) + b
        else:
            pos = None
    return buf.count(0, start, end) - zeros == end - start - size


_U32_CODES = frozenset(b"bui")


# A body shorter than this is walked at once (a signal, a small reply: a few values, fewer
# Python calls than counting them); longer ones are counted first.
_WALK_BELOW = 512


def check_body(buf: _Buf, base: int, start: int, end: int, sig: str, body: list[Any]) -> None:
    """Check the values of the body ``buf[start:end]`` of the message at ``buf[base]`` (as
    :func:`strict.check_values`), then its padding and string terminators."""
    little = buf[base] == 0x6C
    if sig == "v":  # Get: a variant of a string or a 32-bit number, checked in place
        if buf[start] == 1 and not buf[start + 2] and not buf[start + 3]:
            c = buf[start + 1]  # one byte of padding (just checked), then the value
            if c == 0x73:  # s: no NUL in it, its length up to the body's last byte, a NUL
                value = body[0].value
                if "\0" in value:
                    raise strict.nul_error()
                if (
                    little
                    and not buf[end - 1]
                    and buf[start + 4]
                    | buf[start + 5] << 8
                    | buf[start + 6] << 16
                    | buf[start + 7] << 24
                    == end - start - 9
                ):
                    return
            elif c in _U32_CODES and end - start == 8:
                return
        strict.check_values(sig, body)
    elif sig in ("s", "o"):  # an error's text, GetUnit's path: its length, its NUL
        value = body[0]
        if "\0" in value if sig == "s" else value not in strict.paths_seen:
            strict.check_values(sig, body)  # raises, or remembers a new valid path
        if (
            little
            and not buf[end - 1]
            and buf[start] | buf[start + 1] << 8 | buf[start + 2] << 16 | buf[start + 3] << 24
            == end - start - 5
        ):
            return
    else:
        shape = _shapes[sig] if sig in _shapes else _shape(sig)
        if shape is not None:
            if _rows(buf, start, end, body[0], shape) and little:
                return
        elif sig == "a{sv}":  # GetAll: the values checked and counted in one loop
            try:
                size, zeros = _dict_of_variants_account(body[0], check=True)
            except (TypeError, ValueError, struct.error):
                # values of a shape the count does not expect (the check was cut short)
                strict.check_values(sig, body)
            else:
                if end - start >= 4:  # the array's length: its zeros, exactly
                    zeros += buf.count(0, start, start + 4) - (3 if body[0] else 4)
                    if buf.count(0, start, end) - zeros == end - start - size:
                        return
        else:
            strict.check_values(sig, body)
            if end - start < _WALK_BELOW:
                walk_body(buf, base, start, end, sig, little)
                return
            try:
                if _proved(buf, start, end, sig, body):
                    return
            except (TypeError, ValueError, struct.error):
                pass  # values of a shape the count does not expect: the walk decides
    walk_body(buf, base, start, end, sig, little)
