"""systemd's unit property language: ``"CPUQuota=20%"`` -> what goes on the bus (no I/O).

A port of ``bus_append_unit_property_assignment()`` from systemd 252's
``src/shared/bus-unit-util.c`` -- the parser behind ``systemctl set-property`` and
``systemd-run -p``.  For every name systemd 252 accepts for a unit type, :func:`parse` gives the
same ``(name, signature, value)`` entries systemd-run would send, including the renames
(``CPUQuota`` -> ``CPUQuotaPerSecUSec``), the splits (``TimeoutSec`` -> ``TimeoutStartUSec`` and
``TimeoutStopUSec``; ``LimitNOFILE=1024:4096`` -> ``LimitNOFILE`` and ``LimitNOFILESoft``) and the
upgrades (``ExecStart=!cmd`` -> ``ExecStartEx``).

Which groups apply follows systemd's dispatcher: every type gets the unit group (dependencies,
conditions, ...); service, socket and mount add cgroup, execute and kill; scope adds cgroup and
kill; slice adds cgroup; timer, path and automount have their own; target, device and swap get
only the unit group.  :func:`names` lists them.

One thing is not a function of the text: ``NUMAMask=all`` means every NUMA node of the local
machine, read from /sys as systemd-run does (replace
``sysd._core.props.execute.numa_max_node`` to decide it otherwise).

Values the C code refuses raise :class:`~sysd.errors.InvalidPropertyError` (a ``ValueError``)
naming the property, the value and what was expected, before anything is sent.  Where systemd
252 misbehaves (an assertion abort for ``ExecStart=@/bin/true``, garbage sent for an empty
``IODeviceLatencyTargetSec=``), sysd refuses or sends what was meant; see the group modules.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Final

from ..errors import InvalidPropertyError
from .props import cgroup, execute, kill, mount, path, scope, service, socket, timer, unit
from .props._c import Bad
from .props._kit import Assignment, Handler, Out

__all__ = ["UNIT_TYPES", "Assignment", "names", "parse"]

#: The unit types, in systemd's order.
UNIT_TYPES: Final = (
    "service", "mount", "swap", "socket", "target", "device", "automount", "timer", "path",
    "slice", "scope",
)  # fmt: skip

_GROUPS: Final[dict[str, tuple[Mapping[str, Handler], ...]]] = {
    "service": (cgroup.HANDLERS, execute.HANDLERS, kill.HANDLERS, service.HANDLERS),
    "socket": (cgroup.HANDLERS, execute.HANDLERS, kill.HANDLERS, socket.HANDLERS),
    "timer": (timer.HANDLERS,),
    "path": (path.HANDLERS,),
    "slice": (cgroup.HANDLERS,),
    "scope": (cgroup.HANDLERS, kill.HANDLERS, scope.HANDLERS),
    "mount": (cgroup.HANDLERS, execute.HANDLERS, kill.HANDLERS, mount.HANDLERS),
    "automount": (mount.AUTOMOUNT_HANDLERS,),
    "target": (),
    "device": (),
    "swap": (),
}


def _build(groups: tuple[Mapping[str, Handler], ...]) -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for group in (*groups, unit.HANDLERS):  # the first group that knows a name wins
        for name, handler in group.items():
            table.setdefault(name, handler)
    return table


_DISPATCH: Final = {t: _build(_GROUPS[t]) for t in UNIT_TYPES}
_NAMES: Final = {t: frozenset(table) for t, table in _DISPATCH.items()}

#: Mapping-form lists: joined into one value, each item quoted (Environment=["A=1 2"]) ...
_LIST_WORDS: Final = (
    cgroup.LIST_WORDS | execute.LIST_WORDS | service.LIST_WORDS | socket.LIST_WORDS
    | unit.LIST_WORDS
)  # fmt: skip
#: ... joined with spaces as they are (the grammar has no quoting) ...
_LIST_JOIN: Final = cgroup.LIST_JOIN | execute.LIST_JOIN
#: ... or an argv (Exec*=).  Any other name: one assignment per item (DeviceAllow=[...]).
_EXEC_NAMES: Final = frozenset(n for n in service.HANDLERS if n.startswith("Exec"))
_WORD_SPECIALS: Final = frozenset(" \t\n\r\"'\\")


def names(unit_type: str) -> frozenset[str]:
    """Every property name systemd 252 accepts in an assignment for ``unit_type``.

    These are the names of the *language* (``CPUQuota``, ``TimeoutSec``, ``LimitNOFILE``), not
    the D-Bus property names they turn into.

    >>> "CPUQuota" in names("service"), "CPUQuota" in names("timer")
    (True, False)
    """
    return _NAMES[_check_type(unit_type)]


def parse(
    unit_type: str, assignment: str | Mapping[str, object] | Iterable[str]
) -> list[Assignment]:
    """Parse property assignments for a unit of ``unit_type`` into D-Bus ``(name, sig, value)``.

    ``assignment`` is one ``"Name=value"`` string, an iterable of them, or a mapping of names
    to values.  Mapping values may be:

    * ``str`` -- systemd's syntax, exactly as after ``-p Name=``;
    * ``bool`` -- ``yes``/``no``;
    * ``int`` -- written out, so it means what a bare number means for that name: bytes for
      sizes (``MemoryMax``), seconds for ``*Sec`` spans, nanoseconds for ``TimerSlackNSec``;
    * :class:`~datetime.timedelta` -- a time span (microsecond precision);
    * ``None`` -- the empty assignment, which resets most properties;
    * a list or tuple -- for word lists (``Environment``, ``Wants``, ``ReadWritePaths``,
      ``SystemCallFilter`` ...) one value whose words are the items, quoted as needed so each
      stays whole; for ``Exec*`` an argv (argv[0] is never read as a ``-@:+!`` prefix), or a
      list of argvs/command lines for several commands; for anything else one assignment per
      item (``DeviceAllow``, ``IOReadBandwidthMax`` ...).  An empty list is the empty
      assignment.

    >>> parse("service", "CPUQuota=20%")
    [Assignment(name='CPUQuotaPerSecUSec', signature='t', value=200000)]
    >>> [a.name for a in parse("service", {"TimeoutSec": 5, "Environment": ["A=1", "B=x y"]})]
    ['TimeoutStartUSec', 'TimeoutStopUSec', 'Environment']
    """
    table = _DISPATCH.get(unit_type)
    if table is None:
        table = _DISPATCH[_check_type(unit_type)]
    out: Out = []
    if isinstance(assignment, str):
        _parse_text(table, unit_type, assignment, out)
    elif isinstance(assignment, Mapping):
        for field, value in assignment.items():
            if not isinstance(field, str):
                raise InvalidPropertyError(
                    f"property names must be str, not {type(field).__name__} ({field!r})"
                )
            for text in _texts(field, value):
                _dispatch(table, unit_type, field, text, out)
    elif isinstance(assignment, bytes | bytearray):
        raise InvalidPropertyError("property assignments must be str, not bytes")
    else:
        for item in assignment:
            if not isinstance(item, str):
                raise InvalidPropertyError(
                    f"property assignments must be 'Name=value' strings, not {item!r}"
                )
            _parse_text(table, unit_type, item, out)
    return out


# ----------------------------------------------------------------------- internals


def _check_type(unit_type: str) -> str:
    if unit_type not in _DISPATCH:
        raise InvalidPropertyError(
            f"unknown unit type {unit_type!r}: expected one of {', '.join(UNIT_TYPES)}"
        )
    return unit_type


def _parse_text(table: dict[str, Handler], unit_type: str, text: str, out: Out) -> None:
    field, sep, eq = text.partition("=")
    if not sep:
        raise InvalidPropertyError(
            f"not an assignment: {text!r} (expected Name=value, e.g. CPUQuota=20%)"
        )
    _dispatch(table, unit_type, field, eq, out)


def _dispatch(table: dict[str, Handler], unit_type: str, field: str, eq: str, out: Out) -> None:
    handler = table.get(field)
    if handler is None:
        raise _unknown(unit_type, field)
    if "\0" in eq:
        raise InvalidPropertyError(
            f"invalid {field}={eq!r}: expected no NUL character",
            property_name=field,
            value=eq,
            unit_type=unit_type,
        )
    mark = len(out)
    try:
        handler(out, field, eq)
    except Bad as exc:
        del out[mark:]
        raise InvalidPropertyError(
            f"invalid {field}={eq!r}: expected {exc.args[0]}",
            property_name=field,
            value=eq,
            unit_type=unit_type,
        ) from None


def _unknown(unit_type: str, field: str) -> InvalidPropertyError:
    hint: str | None = None
    elsewhere = [t for t in UNIT_TYPES if field in _NAMES[t]]
    if elsewhere:
        hint = f"{field}= applies to {', '.join(elsewhere)} units"
    else:
        close = difflib.get_close_matches(field, _NAMES[unit_type], n=3, cutoff=0.75)
        if close:
            hint = "did you mean " + " or ".join(f"{c}=" for c in close) + "?"
    return InvalidPropertyError(
        f"unknown property {field}= for {unit_type} units",
        property_name=field,
        unit_type=unit_type,
        hint=hint,
    )


def _scalar_text(field: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, timedelta):
        usec = value // timedelta(microseconds=1)
        if usec < 0:
            raise InvalidPropertyError(
                f"invalid {field}={value!r}: expected a time span that is not negative"
            )
        return f"{usec}us"
    raise InvalidPropertyError(
        f"invalid {field}={value!r}: expected str, int, bool, timedelta, None or a list, "
        f"not {type(value).__name__}"
    )


def _quote_word(word: str, force: bool = False) -> str:
    """Quote a word so extract_first_word(UNQUOTE[|CUNESCAPE]) gives it back unchanged."""
    if word and not force and _WORD_SPECIALS.isdisjoint(word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _argv_text(field: str, argv: Iterable[object]) -> str:
    words = [_scalar_text(field, w) for w in argv]
    if not words:
        return ""
    # A quoted argv[0] cannot be read as "-", "@", ":", "+" or "!" prefixes.
    head = _quote_word(words[0], force=words[0][:1] in service.EXEC_PREFIX_CHARS)
    return " ".join([head, *(_quote_word(w) for w in words[1:])])


def _texts(field: str, value: object) -> list[str]:
    """The systemd-syntax text(s) for one mapping entry."""
    if not isinstance(value, list | tuple | set | frozenset):
        return [_scalar_text(field, value)]
    items = list(value)
    if not items:
        return [""]
    if field in _EXEC_NAMES:
        if all(isinstance(i, str) for i in items):
            return [_argv_text(field, items)]
        return [
            _argv_text(field, i) if isinstance(i, list | tuple) else _scalar_text(field, i)
            for i in items
        ]
    if field in _LIST_WORDS:
        return [" ".join(_quote_word(_scalar_text(field, i)) for i in items)]
    if field in _LIST_JOIN:
        return [" ".join(_scalar_text(field, i) for i in items)]
    return [_scalar_text(field, i) for i in items]
