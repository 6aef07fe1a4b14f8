"""What dbus-fast's unmarshaller leaves unchecked, checked as sd-bus checks it.

dbus-fast parses a message by its lengths and signatures and bounds the size
and the nesting of what it builds, but it does not look at padding bytes, at
NUL bytes inside strings, at object paths and names, at which header fields a
message type requires, or at signatures nested deeper than the specification's
32 arrays and 32 structs (it allows 64 of either).  sd-bus refuses all of these
(``bus-message.c``: ``buffer_peek`` checks padding, ``message_peek_field_*``
validates every header field, ``bus_message_parse_fields`` requires the fields
of each type; ``bus-signature.c`` counts arrays and structs separately), and so
do we, raising :class:`~sysd.errors.ProtocolError`.

Everything here is a function of bytes and values; the decoder calls
:func:`check_header` with a message's raw header and :func:`check_message` with
what dbus-fast made of it, or :func:`check_known` when the message's header fields
are byte for byte those of the last message that passed (the decoder compares them in
place: only the serials and the body are left to check).  The per-message cost
is kept to a few lookups in sets of values already seen valid (paths, names,
signatures) and, for a body that holds strings, object paths, signatures or
variants, a validator compiled once per signature.  Measured on a loaded 2-core
machine: 0.6 us per small message (Get, a signal), 20-40 us for a GetAll of 300
properties, ~0.2 us per unit of a ListUnits (every string is looked at for a NUL
byte, as sd-bus does; on the bus, in the benchmark, 210 us per 1150 units: see
bench/bus_analysis.md).
Padding and string terminators inside the body are padding.py's (it calls
:func:`check_values` first, so that a NUL in a string is named as such).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from ..errors import ProtocolError
from .codec import MessageType, Variant

__all__ = ["check_header", "check_known", "check_message", "check_values", "signature_valid"]

_Check = Callable[[Any], None]

_MAX_SEEN = 16384  # values remembered as valid, per kind (cleared when full)

# ----------------------------------------------------------------- signatures

_BASIC = frozenset("ybnqiuxtdhsog")
_ALL = _BASIC | {"v"}


def _element_end(sig: str, i: int, arrays: int, structs: int, dict_ok: bool) -> int:
    """The index after the single complete type starting at ``sig[i]``; -1 if invalid.

    The rules of sd-bus's ``signature_element_length_internal``: at most 32
    nested arrays and 32 nested structs (dict entries count as structs), no
    empty struct, a dict entry only as an array's element with a basic key.
    """
    if i >= len(sig):
        return -1
    c = sig[i]
    if c in _ALL:
        return i + 1
    if c == "a":
        if arrays >= 32:
            return -1
        return _element_end(sig, i + 1, arrays + 1, structs, True)
    if c == "(":
        if structs >= 32:
            return -1
        j = i + 1
        while j < len(sig) and sig[j] != ")":
            j = _element_end(sig, j, arrays, structs + 1, False)
            if j < 0:
                return -1
        if j >= len(sig) or j == i + 1:
            return -1
        return j + 1
    if c == "{" and dict_ok:
        if structs >= 32 or i + 1 >= len(sig) or sig[i + 1] not in _BASIC:
            return -1
        j = _element_end(sig, i + 2, arrays, structs + 1, False)
        if j < 0 or j >= len(sig) or sig[j] != "}":
            return -1
        return j + 1
    return -1


def signature_valid(sig: str) -> bool:
    """Whether ``sig`` is a valid D-Bus signature (any number of complete types)."""
    if len(sig) > 255:
        return False
    i = 0
    while i < len(sig):
        i = _element_end(sig, i, 0, 0, False)
        if i < 0:
            return False
    return True


def _signature_error(sig: str, where: str) -> ProtocolError:
    return ProtocolError(
        f"malformed message from the bus (invalid signature {sig[:80]!r} in {where}: "
        "more than 32 nested arrays or structs, or not a D-Bus signature)"
    )


# ------------------------------------------------------- paths and names

_PATH = re.compile(r"/|(?:/[A-Za-z0-9_]+)+")
_MEMBER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTERFACE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_BUS_NAME = re.compile(
    r":[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+|[A-Za-z_-][A-Za-z0-9_-]*(?:\.[A-Za-z_-][A-Za-z0-9_-]*)+"
)

_paths: set[str] = {"/"}
paths_seen = _paths  # object paths seen valid (padding.py's row check looks them up)
_bus_names: set[str] = set()
_interfaces: set[str] = set()  # interface and error names share a grammar
_members: set[str] = set()


def _remember(seen: set[Any], value: Any) -> None:
    if len(seen) >= _MAX_SEEN:
        seen.clear()
    seen.add(value)


def _check_path(value: str, where: str = "an object path value") -> None:
    if value in _paths:
        return
    if type(value) is not str or not _PATH.fullmatch(value):
        raise ProtocolError(
            f"malformed message from the bus (invalid object path {str(value)[:120]!r} in {where})"
        )
    _remember(_paths, value)


def _check_paths(values: Any) -> None:
    """Check a list of object paths (or a dict's keys)."""
    if not _paths.issuperset(values):
        for value in values:
            _check_path(value)


def _check_name(seen: set[str], grammar: re.Pattern[str], what: str, value: Any) -> None:
    if type(value) is not str or len(value) > 255 or not grammar.fullmatch(value):
        raise ProtocolError(
            f"malformed message from the bus (invalid {what} {str(value)[:120]!r} in the header)"
        )
    _remember(seen, value)


# ---------------------------------------------------------------- the header

_U32 = {0x6C: struct.Struct("<I").unpack_from, 0x42: struct.Struct(">I").unpack_from}
_S, _O, _G, _U = ord("s"), ord("o"), ord("g"), ord("u")


# header field code -> the type its value must have (spec: "Header Fields")
_FIELD_TYPE = (
    0,
    ord("o"),
    ord("s"),
    ord("s"),
    ord("s"),
    ord("u"),
    ord("s"),
    ord("s"),
    ord("g"),
    ord("u"),
)


def _padded(pad_of: Callable[[int], int]) -> bytes:
    """Regex: a NUL-free string, its NUL, then exactly the padding to the next 8 bytes."""
    return (
        b"(?:[^\\x00]{8})*(?:"
        + b"|".join(b"[^\\x00]{%d}\\x00{%d}" % (k, 1 + pad_of(k)) for k in range(8))
        + b")"
    )


# The usual header in one regex: fields of the known codes with their types, strings without
# NUL, zero padding.  The regex reads a string up to its NUL, not by its length prefix; where
# the two agree (check_message refuses a NUL inside every header string) it parses exactly
# what dbus-fast parsed, so a match means the layout is right.  A header that does not match
# is walked field by field to say why, or to accept what the regex does not know (fields of
# unknown codes).
_USUAL_HEADER = re.compile(
    b"(?:"
    + b"(?:\\x01\\x01o|[\\x02\\x03\\x04\\x06\\x07]\\x01s)\\x00[\\s\\S]{4}"
    + _padded(lambda k: (7 - k) % 8)
    + b"|\\x08\\x01g\\x00[\\s\\S]"
    + _padded(lambda k: (2 - k) % 8)
    + b"|[\\x05\\x09]\\x01u\\x00[\\s\\S]{4}"
    + b")*"
)


_headers: set[bytes] = set()  # header fields (after a leading reply serial) seen valid
_last_header = b"\xff"  # the last of them (never matches before the first is seen)


def check_header(buf: bytes | bytearray, pos: int, fields_len: int) -> None:
    """Check the layout of a message's header fields and the padding before its body.

    ``buf[pos:]`` holds the message's first ``16 + fields_len`` bytes rounded
    up to 8.  The values themselves are checked by :func:`check_message`
    after dbus-fast has parsed them; this walks the layout (every field
    starts on an 8-byte boundary, its value aligned to its type), insists
    that the bytes in between are zero and that each known field has its type.
    """
    global _last_header
    body = 16 + ((fields_len + 7) & ~7)
    end = pos + body
    # Headers repeat: a signal's are the same bytes every time, a reply's differ only in
    # the reply serial, which sd-bus puts first.  Remember the layouts seen valid; the last
    # one is compared in place (no copy), the others looked up.
    start = pos + 16
    if fields_len >= 8 and buf.startswith(b"\x05\x01u\x00", start):
        start += 8
    last = _last_header
    if end - start == len(last) and buf.startswith(last, start):
        return
    key = bytes(buf[start:end])
    if key in _headers:
        _last_header = key
        return
    if _USUAL_HEADER.fullmatch(buf, pos + 16, end) is not None:
        if len(_headers) >= 4096:
            _headers.clear()
        _headers.add(key)
        _last_header = key
        return
    try:
        _walk_header(buf, pos, fields_len, body)
    except (IndexError, struct.error):
        pass  # a length that runs past the header: the unmarshaller refuses the message


def _walk_header(buf: bytes | bytearray, pos: int, fields_len: int, body: int) -> None:
    """Field by field, what :data:`_USUAL_HEADER` decides at once: say why, or accept."""
    unpack = _U32[buf[pos]]
    r = 16  # offsets from the start of the message, where alignment counts
    end = 16 + fields_len
    while r < end:
        p = pos + r
        code = buf[p]
        if r + 4 > end or buf[p + 1] != 1 or buf[p + 3] != 0:
            if code < 10:
                raise ProtocolError(
                    f"malformed message from the bus (header field {code} has the wrong type)"
                )
            return  # an unknown field with a container type: dbus-fast parses (or refuses) it
        kind = buf[p + 2]
        if code < 10 and _FIELD_TYPE[code] != kind:
            raise ProtocolError(
                f"malformed message from the bus (header field {code} has the wrong type)"
            )
        if kind in (_S, _O):
            nxt = r + 8 + unpack(buf, p + 4)[0] + 1
        elif kind == _G:
            nxt = r + 5 + buf[p + 4] + 1
        elif kind == _U:
            nxt = r + 8
        else:
            return  # an unknown field of another basic type: skip checking the rest
        r = min((nxt + 7) & ~7, body)
        if nxt < r and buf[pos + nxt : pos + r].count(0) != r - nxt:
            raise ProtocolError("malformed message from the bus (non-zero padding in the header)")
    if r < body and buf[pos + r : pos + body].count(0) != body - r:
        raise ProtocolError("malformed message from the bus (non-zero padding before the body)")


# ----------------------------------------------------------------- the body

_compiled: dict[str, _Check | None] = {}  # signature -> validator of one value of it
_bodies: dict[str, _Check | None] = {}  # signature -> validator of a body (a list of values)


def _no_nul(value: str) -> None:
    if "\0" in value:
        raise nul_error()


def nul_error() -> ProtocolError:
    return ProtocolError("malformed message from the bus (a string contains a NUL byte)")


_signatures: set[str] = set()  # signature values seen valid


def _check_signature_value(value: str) -> None:
    if value not in _signatures:
        if not signature_valid(value):
            raise _signature_error(value, "a signature value")
        _remember(_signatures, value)


def _check_variant(value: Variant) -> None:
    sig = value.signature
    check = _compiled[sig] if sig in _compiled else _compile(sig, "a variant")
    if check is not None:
        check(value.value)


check_variant = _check_variant  # padding.py's GetAll check calls it for the rarer variants


def _compile(sig: str, where: str) -> _Check | None:
    """The validator of one value of the single complete type ``sig``; cached.

    None when nothing in it needs checking (numbers, booleans, byte arrays).
    """
    if not signature_valid(sig) or _element_end(sig, 0, 0, 0, False) != len(sig):
        raise _signature_error(sig, where)
    check = _of(sig)
    if len(_compiled) >= _MAX_SEEN:
        _compiled.clear()
    _compiled[sig] = check
    return check


def _compile_body(sig: str) -> _Check | None:
    """The validator of a body (a list of values) of signature ``sig``; cached."""
    if not signature_valid(sig):
        raise _signature_error(sig, "the body")
    wanted = [(i, c) for i, c in enumerate(map(_of, _split(sig))) if c is not None]
    check: _Check | None
    if not wanted:
        check = None
    elif sig == "v":  # Get: one call less on the commonest reply

        def check(body: Any) -> None:
            var = body[0]
            vsig = var.signature
            c = _compiled[vsig] if vsig in _compiled else _compile(vsig, "a variant")
            if c is not None:
                c(var.value)

    elif len(wanted) == 1 and wanted[0][0] == 0:
        only = wanted[0][1]

        def check(body: Any) -> None:
            only(body[0])

    else:

        def check(body: Any) -> None:
            for i, c in wanted:
                c(body[i])

    if len(_bodies) >= _MAX_SEEN:
        _bodies.clear()
    _bodies[sig] = check
    return check


def _split(sig: str) -> list[str]:
    types = []
    i = 0
    while i < len(sig):
        j = _element_end(sig, i, 0, 0, False)
        types.append(sig[i:j])
        i = j
    return types


def _of(t: str) -> _Check | None:
    """The validator of one value of the single complete type ``t``."""
    if not any(c in t for c in "sogv"):
        return None
    c = t[0]
    if c == "s":
        return _no_nul
    if c == "o":
        return _check_path
    if c == "g":
        return _check_signature_value
    if c == "v":
        return _check_variant
    if c == "a":
        return _of_array(t[1:])
    return _of_struct(_split(t[1:-1]))


def _of_array(child: str) -> _Check:
    if child == "s":

        def strings(value: Any) -> None:
            if "\0" in "".join(value):
                raise nul_error()

        return strings
    if child == "o":
        return _check_paths
    if child == "g":

        def signatures(value: Any) -> None:
            for v in value:
                _check_signature_value(v)

        return signatures
    if child[0] == "{":
        key, item = _split(child[1:-1])
        key_check = _of_array(key) if key in ("s", "o", "g") else None
        if item == "v":

            def dict_of_variants(value: Any) -> None:
                if key_check is not None:
                    key_check(value)
                compiled = _compiled
                no_nul = _no_nul
                for var in value.values():
                    try:
                        check = compiled[var.signature]
                    except KeyError:
                        check = _compile(var.signature, "a variant")
                    if check is None:
                        continue
                    if check is no_nul:  # the commonest check, without a call
                        if "\0" in var.value:
                            raise nul_error()
                    else:
                        check(var.value)

            return dict_of_variants
        item_check = _of(item)

        def dict_(value: Any) -> None:
            if key_check is not None:
                key_check(value)
            if item_check is not None:
                for v in value.values():
                    item_check(v)

        return dict_
    if child[0] == "(":
        fields = _split(child[1:-1])
        strs = [i for i, f in enumerate(fields) if f == "s"]
        paths = [i for i, f in enumerate(fields) if f == "o"]
        rest = [(i, _of(f)) for i, f in enumerate(fields) if f not in ("s", "o")]
        others = [(i, c) for i, c in rest if c is not None]
        str_columns = [itemgetter(i) for i in strs]
        path_columns = [itemgetter(i) for i in paths]

        def structs(value: Any) -> None:
            # column by column: one C-level join per column, no tuple per row
            for column in str_columns:
                if "\0" in "".join(map(column, value)):
                    raise nul_error()
            for column in path_columns:
                if not _paths.issuperset(map(column, value)):
                    for path in map(column, value):
                        _check_path(path)
            if others:
                for item in value:
                    for i, c in others:
                        c(item[i])

        return structs
    element = _of(child)
    assert element is not None

    def array(value: Any) -> None:
        for v in value:
            element(v)

    return array


def _of_struct(fields: list[str]) -> _Check:
    checks = [(i, c) for i, c in ((i, _of(f)) for i, f in enumerate(fields)) if c is not None]

    def struct_(value: Any) -> None:
        for i, c in checks:
            c(value[i])

    return struct_


# --------------------------------------------------------------- the message

_METHOD_CALL = MessageType.METHOD_CALL
_METHOD_RETURN = MessageType.METHOD_RETURN
_ERROR = MessageType.ERROR
_SIGNAL = MessageType.SIGNAL


def check_message(msg: Any) -> None:
    """Refuse a parsed message whose header values sd-bus would refuse (the body's
    values: :func:`check_values`)."""
    mtype = msg.message_type
    if mtype is _METHOD_RETURN:
        if not msg.reply_serial:
            raise ProtocolError(
                "malformed message from the bus (method return without a reply serial)"
            )
    elif mtype is _SIGNAL:
        if msg.path is None or msg.interface is None or msg.member is None:
            raise ProtocolError(
                "malformed message from the bus (signal without a path, interface or member)"
            )
    elif mtype is _ERROR:
        if not msg.reply_serial:
            raise ProtocolError("malformed message from the bus (error without a reply serial)")
        name = msg.error_name
        if name is None:
            raise ProtocolError("malformed message from the bus (error without a name)")
        if name not in _interfaces:
            _check_name(_interfaces, _INTERFACE, "error name", name)
    elif mtype is _METHOD_CALL and (msg.path is None or msg.member is None):
        raise ProtocolError("malformed message from the bus (method call without path or member)")
    if not msg.serial:
        raise ProtocolError("malformed message from the bus (serial 0)")
    value = msg.sender
    if value is not None and value not in _bus_names:
        _check_name(_bus_names, _BUS_NAME, "sender", value)
    value = msg.destination
    if value is not None and value not in _bus_names:
        _check_name(_bus_names, _BUS_NAME, "destination", value)
    value = msg.path
    if value is not None and value not in _paths:
        _check_path(value, "the header")
    value = msg.interface
    if value is not None and value not in _interfaces:
        _check_name(_interfaces, _INTERFACE, "interface", value)
    value = msg.member
    if value is not None and value not in _members:
        _check_name(_members, _MEMBER, "member", value)


def check_known(msg: Any) -> None:
    """:func:`check_message` for a message whose header fields are byte for byte those
    of a message that passed it (the decoder compares them, reply serial aside): its
    names, paths, signature and required fields were checked then; what is left is what
    lies outside those bytes (the serials); the body is :func:`check_values`'s."""
    if not msg.serial:
        raise ProtocolError("malformed message from the bus (serial 0)")
    mtype = msg.message_type
    if (mtype is _METHOD_RETURN or mtype is _ERROR) and not msg.reply_serial:
        raise ProtocolError(
            "malformed message from the bus (method return without a reply serial)"
            if mtype is _METHOD_RETURN
            else "malformed message from the bus (error without a reply serial)"
        )


def check_values(sig: str, body: Any) -> None:
    """Refuse a body (the values dbus-fast made of it) that sd-bus would refuse: a NUL byte
    in a string, an invalid object path or signature, a signature nested too deep."""
    check = _bodies[sig] if sig in _bodies else _compile_body(sig)
    if check is not None:
        check(body)


# The validators are pure functions of values; warm the cache with what systemd sends most.
for _sig in ("v", "a{sv}", "sa{sv}as", "uoss", "so", "o", "s", "a(ssssssouso)"):
    _compile_body(_sig)
del _sig
