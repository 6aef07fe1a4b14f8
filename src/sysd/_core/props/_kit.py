"""What every property group is built from: the Assignment record and the common value kinds.

A handler is ``handler(out, field, eq)``: it parses the text ``eq`` given for the property
``field`` and appends the resulting :class:`Assignment` records to ``out`` (one input may give
none, one or several), or raises :class:`Bad` saying what was expected.  The kinds here are the
``bus_append_*`` helpers at the top of systemd's ``src/shared/bus-unit-util.c``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from .. import timespan
from . import _tables as T
from ._c import (
    UINT64_MAX,
    Bad,
    dbus_str,
    dbus_strv,
    parse_boolean,
    parse_mode,
    parse_size,
    safe_atoi,
    safe_atoi64,
    safe_atou,
    safe_atou8,
    safe_atou64,
    split_words,
)

__all__ = [
    "USEC_INFINITY",
    "Assignment",
    "Handler",
    "Out",
    "boolean",
    "errno_or_action",
    "exit_status_from_string",
    "i32",
    "i64",
    "mode",
    "parse_errno",
    "parse_ip_protocol",
    "parse_nsec",
    "parse_sec",
    "parse_time_usec",
    "sec_rename",
    "signal",
    "signal_from_string",
    "size1024",
    "string",
    "strv",
    "u32",
    "u64",
]

USEC_INFINITY: Final = timespan.USEC_INFINITY


class Assignment(NamedTuple):
    """One ``(name, signature, value)`` entry of the ``a(sv)`` systemd receives.

    ``value`` is what dbus-fast marshals for ``signature``: ``int`` for ``t``/``u``/``i``/``x``,
    ``bool`` for ``b``, ``str`` for ``s``, ``bytes`` for ``ay``, ``list`` for arrays and
    ``tuple``/``list`` for structs.  Wrap it as ``Variant(a.signature, a.value)`` to send it.
    """

    name: str
    signature: str
    value: Any


Out = list[Assignment]
Handler = Callable[[Out, str, str], None]

_BOOLEAN: Final = "a boolean (yes/no, true/false, on/off, 1/0)"
_TIMESPAN: Final = "a time span such as 30s, 5min 20s, 1.5h or infinity"


# ----------------------------------------------------------------------- time spans (shared)


def parse_sec(text: str) -> int:
    """``parse_sec()``: microseconds, a bare number counting seconds."""
    try:
        return timespan.parse_usec(text)
    except ValueError:
        raise Bad(_TIMESPAN) from None


def parse_time_usec(text: str) -> int:
    """``parse_time(text, &t, 1)``: microseconds, a bare number counting microseconds."""
    try:
        return timespan.parse_usec(text, default_unit=1)
    except ValueError:
        raise Bad(_TIMESPAN) from None


def parse_nsec(text: str) -> int:
    """``parse_nsec()``: nanoseconds (2^64-1 for infinity), a bare number counting them."""
    try:
        value = timespan.parse_nsec(text)
    except ValueError:
        raise Bad("a time span such as 50us, 1ms or 200ns") from None
    return UINT64_MAX if value is None else value


# ----------------------------------------------------------------------- name lookups


def signal_from_string(s: str) -> int | None:
    """``signal_from_string()``: 15, TERM, SIGTERM, RTMIN+3, SIGRTMAX-1."""
    n = safe_atoi(s)
    if n is not None:
        return n if 0 < n < T.NSIG else None
    if s.startswith("SIG"):
        s = s[3:]
    n = T.SIGNAL_BY_NAME.get(s)
    if n:
        return n
    span = T.SIGRTMAX - T.SIGRTMIN
    if s.startswith("RTMIN"):
        rest = s[5:]
        if not rest:
            return T.SIGRTMIN
        if rest[0] != "+":
            return None
        n = safe_atoi(rest)
        return None if n is None or n < 0 or n > span else T.SIGRTMIN + n
    if s.startswith("RTMAX"):
        rest = s[5:]
        if not rest:
            return T.SIGRTMAX
        if rest[0] != "-":
            return None
        n = safe_atoi(rest)
        return None if n is None or n > 0 or n < -span else T.SIGRTMAX + n
    return None


def exit_status_from_string(s: str) -> int | None:
    """``exit_status_from_string()``: a name such as ``NOTINSTALLED`` or 0..255."""
    n = T.EXIT_STATUS_BY_NAME.get(s)
    return n if n is not None else safe_atou8(s)


def parse_errno(s: str) -> int | None:
    """``parse_errno()``: an errno name (any case) or number 0..4095."""
    if s.isascii():
        n = T.ERRNO_BY_NAME.get(s.upper())
        if n is not None:
            return n
    n = safe_atoi(s)
    if n is None or not 0 <= n <= T.ERRNO_MAX:
        return None
    return n


SECCOMP_ERROR_NUMBER_KILL: Final = 2**31 - 2


def parse_ip_protocol(s: str) -> int | None:
    """``parse_ip_protocol()``: a name such as ``udp`` (any case), a number, or empty (0)."""
    if not s:
        return 0
    lowered = s.lower() if s.isascii() else s
    n = T.IP_PROTOCOL_BY_NAME.get(lowered)
    if n is not None:
        return n
    n = safe_atoi(lowered)
    return n if n in T.IP_PROTOCOL_NUMBERS else None


def table_or_number(table: Mapping[str, int], maximum: int, s: str) -> int | None:
    """``DEFINE_STRING_TABLE_LOOKUP_WITH_FALLBACK``: an exact name, else a number <= maximum."""
    n: int | None = table.get(s)
    if n is not None:
        return n
    n = safe_atou(s)
    return n if n is not None and n <= maximum else None


# ----------------------------------------------------------------------- handlers


def string(out: Out, field: str, eq: str) -> None:
    """``bus_append_string``."""
    out.append(Assignment(field, "s", dbus_str(eq)))


def boolean(out: Out, field: str, eq: str) -> None:
    """``bus_append_parse_boolean``."""
    b = parse_boolean(eq)
    if b is None:
        raise Bad(_BOOLEAN)
    out.append(Assignment(field, "b", b))


def strv(flags: int) -> Handler:
    """``bus_append_strv(m, field, eq, flags)``: whitespace-separated words -> ``as``."""

    def handler(out: Out, field: str, eq: str) -> None:
        out.append(Assignment(field, "as", dbus_strv(split_words(eq, flags))))

    return handler


def sec_rename(out: Out, field: str, eq: str) -> None:
    """``bus_append_parse_sec_rename``: ``FooSec=`` -> ``FooUSec`` (t, microseconds)."""
    out.append(Assignment(field[:-3] + "USec", "t", parse_sec(eq)))


def nsec(out: Out, field: str, eq: str) -> None:
    """``bus_append_parse_nsec``."""
    out.append(Assignment(field, "t", parse_nsec(eq)))


def size1024(out: Out, field: str, eq: str) -> None:
    """``bus_append_parse_size(m, field, eq, 1024)``."""
    out.append(Assignment(field, "t", parse_size(eq, 1024)))


def u32(out: Out, field: str, eq: str) -> None:
    """``bus_append_safe_atou``."""
    n = safe_atou(eq)
    if n is None:
        raise Bad("an unsigned 32-bit integer")
    out.append(Assignment(field, "u", n))


def u64(out: Out, field: str, eq: str) -> None:
    """``bus_append_safe_atou64``."""
    n = safe_atou64(eq)
    if n is None:
        raise Bad("an unsigned 64-bit integer")
    out.append(Assignment(field, "t", n))


def i32(out: Out, field: str, eq: str) -> None:
    """``bus_append_safe_atoi``."""
    n = safe_atoi(eq)
    if n is None:
        raise Bad("a signed 32-bit integer")
    out.append(Assignment(field, "i", n))


def i64(out: Out, field: str, eq: str) -> None:
    """``bus_append_safe_atoi64``."""
    n = safe_atoi64(eq)
    if n is None:
        raise Bad("a signed 64-bit integer")
    out.append(Assignment(field, "x", n))


def mode(out: Out, field: str, eq: str) -> None:
    """``bus_append_parse_mode``: an octal access mode such as 0755."""
    n = parse_mode(eq)
    if n is None:
        raise Bad("an octal file mode between 0 and 07777, such as 0755")
    out.append(Assignment(field, "u", n))


def signal(out: Out, field: str, eq: str) -> None:
    """``bus_append_signal_from_string``."""
    n = signal_from_string(eq)
    if n is None:
        raise Bad("a signal name or number such as SIGTERM, TERM, 15 or SIGRTMIN+2")
    out.append(Assignment(field, "i", n))


def errno_or_action(out: Out, field: str, eq: str) -> None:
    """``bus_append_seccomp_parse_errno_or_action``: ``kill``, an errno name or number."""
    n = SECCOMP_ERROR_NUMBER_KILL if eq == "kill" else parse_errno(eq)
    if n is None:
        raise Bad("an errno name or number such as EPERM or 1, or kill")
    out.append(Assignment(field, "i", n))
