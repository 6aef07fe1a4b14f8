"""systemd's signals as typed, immutable events; filters; the bounded coalescing queue.

Pure (no I/O): ``sd.events()`` (``_async/events.py``) feeds what the
connection's one subscription hears through these.

* the event types (frozen dataclasses) a stream yields;
* :class:`EventFilter`: units, patterns (systemctl's fnmatch rules: ``*``,
  ``?``, ``[...]`` with ``!``/``^``, no backslash escapes), unit types and
  event kinds, checked before anything is sent to the bus (typed ValueError);
* :class:`UnitStates`: the state last reported per unit, which decides
  whether a PropertiesChanged signal is a change worth a :class:`UnitChanged`;
* :class:`EventQueue`: at most ``maxsize`` undelivered events; when full, a
  unit's older states are coalesced into its newest one (keeping the oldest
  ``previous``), then the oldest other events are dropped, and an
  :class:`Overflow` says how many were lost.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, TypeAlias

from ..errors import InvalidEventFilterError, InvalidUnitNameError
from . import convert, unitname

__all__ = [
    "ACTIVE_STATES",
    "EVENT_KINDS",
    "STATE_FIELDS",
    "Event",
    "EventFilter",
    "EventQueue",
    "GONE_KEEP",
    "INACTIVE",
    "JobNew",
    "JobRemoved",
    "Overflow",
    "Reexecuted",
    "Reloading",
    "Resynced",
    "StartupFinished",
    "UnitChanged",
    "UnitFilesChanged",
    "UnitNew",
    "UnitRemoved",
    "UnitStates",
    "glob_regex",
    "startup_finished",
]

State: TypeAlias = tuple[str, str, str]  # (active_state, sub_state, load_state)

# -------------------------------------------------------------------- the events


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event a stream yields."""


@dataclass(frozen=True, slots=True)
class UnitChanged(Event):
    """A unit's state changed (only real changes: ``changed`` is never empty).

    ``previous`` is ``(active_state, sub_state, load_state)`` as last reported,
    None for the first event about a unit the stream had not seen.
    ``timestamp`` is systemd's StateChangeTimestamp (aware UTC).  ``result``
    is the unit type's Result (``success``, ``exit-code``...; None for types
    without one), ``invocation_id`` the run's InvocationID (hex, None if none).
    """

    unit: str
    active_state: str
    sub_state: str
    load_state: str
    previous: State | None = None
    result: str | None = None
    invocation_id: str | None = None
    timestamp: datetime | None = None
    changed: frozenset[str] = field(default_factory=frozenset)

    @property
    def state(self) -> State:
        """``(active_state, sub_state, load_state)`` now."""
        return (self.active_state, self.sub_state, self.load_state)


@dataclass(frozen=True, slots=True)
class UnitNew(Event):
    """systemd loaded a unit (Manager.UnitNew)."""

    unit: str


@dataclass(frozen=True, slots=True)
class UnitRemoved(Event):
    """systemd unloaded a unit.  Never for the remove-and-re-add of a daemon-reload:
    during a reload it is held back and reported only if the unit is still gone
    once the reload is over."""

    unit: str


@dataclass(frozen=True, slots=True)
class JobNew(Event):
    """A job was queued (Manager.JobNew)."""

    job_id: int
    unit: str


@dataclass(frozen=True, slots=True)
class JobRemoved(Event):
    """A job ended: ``result`` is done, canceled, timeout, failed, dependency, skipped..."""

    job_id: int
    unit: str
    result: str


@dataclass(frozen=True, slots=True)
class UnitFilesChanged(Event):
    """Unit files were enabled, disabled, masked, linked... (Manager.UnitFilesChanged)."""


@dataclass(frozen=True, slots=True)
class Reloading(Event):
    """A daemon-reload (or the first half of a daemon-reexec) began (True) or ended (False)."""

    active: bool


@dataclass(frozen=True, slots=True)
class Reexecuted(Event):
    """systemd re-executed itself (daemon-reexec); a :class:`Resynced` follows."""


@dataclass(frozen=True, slots=True)
class StartupFinished(Event):
    """The manager finished starting up; the phases as durations (None: not measured)."""

    firmware: timedelta | None
    loader: timedelta | None
    kernel: timedelta | None
    initrd: timedelta | None
    userspace: timedelta | None
    total: timedelta | None


@dataclass(frozen=True, slots=True)
class Resynced(Event):
    """The stream lost systemd for a while (reexec, dbus restart, a dropped link), came
    back and read every unit it tracks again: the units whose state differed got a
    :class:`UnitChanged` just before this event."""

    changed_units: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Overflow(Event):
    """The consumer fell behind: ``dropped`` events were coalesced or dropped.

    The newest state of every unit is still delivered (coalesced states keep the
    oldest ``previous``); intermediate transitions and the oldest job and manager
    events are what was lost.
    """

    dropped: int


EVENT_KINDS: Final[tuple[type[Event], ...]] = (
    UnitChanged,
    UnitNew,
    UnitRemoved,
    JobNew,
    JobRemoved,
    UnitFilesChanged,
    Reloading,
    Reexecuted,
    StartupFinished,
    Resynced,
    Overflow,
)
_KINDS_BY_NAME: Final = {k.__name__: k for k in EVENT_KINDS}
# Events about the stream itself: delivered whatever ``kinds`` says.
ALWAYS: Final[frozenset[type[Event]]] = frozenset({Resynced, Overflow})

# ActiveState values of systemd 252 (unit_active_state_table).
ACTIVE_STATES: Final = (
    "active",
    "reloading",
    "inactive",
    "failed",
    "activating",
    "deactivating",
    "maintenance",
)

# The fields of UnitChanged that a change is counted in, and their D-Bus names.
STATE_FIELDS: Final = {
    "active_state": "ActiveState",
    "sub_state": "SubState",
    "load_state": "LoadState",
    "result": "Result",
    "invocation_id": "InvocationID",
}


def startup_finished(body: Iterable[int]) -> StartupFinished:
    """The event for Manager.StartupFinished's six µs values."""
    return StartupFinished(*(convert.usec(v) if v else None for v in body))


# --------------------------------------------------------------------- filtering

_GLOB_CHARS: Final = frozenset("*?[")
_PATTERN_CHARS: Final = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:-_.\\@[]!^*?"
)


def _bracket(body: str, negate: bool) -> str:
    """A regex for the set ``body`` of a ``[...]`` (ranges kept; a reversed one is empty)."""
    parts: list[str] = []
    k = 0
    while k < len(body):
        c = body[k]
        if k + 2 < len(body) and body[k + 1] == "-":
            lo, hi = c, body[k + 2]
            if lo <= hi:
                parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
            k += 3
        else:
            parts.append(re.escape(c))
            k += 1
    if not parts:
        return "." if negate else "(?!)"
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def glob_regex(pattern: str) -> re.Pattern[str]:
    """fnmatch(3) with FNM_NOESCAPE, as systemctl matches unit patterns.

    ``*`` and ``?`` match any character ("/" included: no FNM_PATHNAME), ``[...]``
    a set (``!`` or ``^`` first negates, ``]`` first is literal, ranges), a ``[``
    without its ``]`` is itself; a backslash is an ordinary character.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = i
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal "["
                out.append(re.escape(c))
                continue
            body = pattern[i:j]
            i = j + 1
            negate = body[:1] in ("!", "^")
            out.append(_bracket(body[1:] if negate else body, negate))
        else:
            out.append(re.escape(c))
    return re.compile("".join(out), re.DOTALL)


def _bracket_problem(pattern: str) -> str | None:
    """What fnmatch(3) would not take as a plain set: an unclosed ``[``, or ``[:``
    ``[.`` ``[=`` inside a set (character classes, collating symbols)."""
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "[" and j + 1 < n and pattern[j + 1] in ".:=":
                    return (
                        "character classes and collating symbols ([:alpha:]...) are not supported"
                    )
                j += 1
            if j >= n:
                return "a '[' without its ']' (no unit name has a '[')"
            i = j
        i += 1
    return None


def _check_pattern(pattern: object) -> str:
    if not isinstance(pattern, str):
        raise InvalidUnitNameError(f"invalid unit pattern {pattern!r}: not a string")
    if not pattern:
        raise InvalidUnitNameError("invalid unit pattern '': it is empty")
    if len(pattern) > 255:
        raise InvalidUnitNameError(f"invalid unit pattern {pattern!r}: longer than 255 characters")
    bad = sorted(set(pattern) - _PATTERN_CHARS)
    if bad:
        raise InvalidUnitNameError(
            f"invalid unit pattern {pattern!r}: {''.join(bad)!r} cannot occur in a unit name",
            hint="patterns use * ? [...] over unit names, as `systemctl list-units` takes them",
        )
    problem = _bracket_problem(pattern)
    if problem is not None:
        raise InvalidUnitNameError(f"invalid unit pattern {pattern!r}: {problem}")
    return pattern


def _names(value: object, what: str) -> tuple[Any, ...]:
    """A tuple of the items of ``value`` (a single string is one item)."""
    if isinstance(value, str | type):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    raise InvalidEventFilterError(f"{what} must be a list, not {type(value).__name__}")


class EventFilter:
    """Which events a stream wants; every argument checked at construction.

    ``units``: exact unit names; ``patterns``: systemctl globs over unit names;
    both None (or empty) means every unit, both given means either.
    ``types``: unit types (``"service"``...); ``kinds``: event classes (or their
    names).  Manager events (Reloading, UnitFilesChanged...) are about no unit:
    ``units``/``patterns``/``types`` do not filter them, ``kinds`` does.
    """

    __slots__ = ("_paths", "_regex", "_suffixes", "kinds", "patterns", "types", "units")

    def __init__(
        self,
        units: Iterable[str] | str | None = None,
        patterns: Iterable[str] | str | None = None,
        types: Iterable[str] | str | None = None,
        kinds: Iterable[type[Event] | str] | type[Event] | str | None = None,
    ) -> None:
        self.units: frozenset[str] | None = None
        if units is not None:
            names = _names(units, "units")
            for name in names:
                if not isinstance(name, str) or not unitname.is_valid(name, unitname.NameKind.ANY):
                    hint = "give full unit names (foo.service), or patterns= for globs"
                    raise InvalidUnitNameError(f"invalid unit name {name!r}", hint=hint)
            self.units = frozenset(names) or None
        self.patterns: tuple[str, ...] | None = None
        self._regex: re.Pattern[str] | None = None
        if patterns is not None:
            pats = tuple(_check_pattern(p) for p in _names(patterns, "patterns"))
            if pats:
                self.patterns = pats
                self._regex = re.compile(
                    "|".join(f"(?:{glob_regex(p).pattern})" for p in pats), re.DOTALL
                )
        self.types: frozenset[str] | None = None
        self._suffixes: tuple[str, ...] = ()
        if types is not None:
            kinds_of_units = _names(types, "types")
            for t in kinds_of_units:
                if t not in unitname.UNIT_TYPES:
                    raise InvalidEventFilterError(
                        f"unknown unit type {t!r}",
                        hint="one of " + ", ".join(unitname.UNIT_TYPES),
                    )
            self.types = frozenset(str(t) for t in kinds_of_units) or None
            if self.types:
                self._suffixes = tuple("." + t for t in self.types)
        self.kinds: frozenset[type[Event]] | None = None
        if kinds is not None:
            wanted: set[type[Event]] = set()
            for k in _names(kinds, "kinds"):
                cls = _KINDS_BY_NAME.get(k) if isinstance(k, str) else k
                if cls not in EVENT_KINDS:
                    raise InvalidEventFilterError(
                        f"unknown event kind {k!r}",
                        hint="one of " + ", ".join(_KINDS_BY_NAME),
                    )
                wanted.add(cls)
            self.kinds = frozenset(wanted) or None
        self._paths: frozenset[str] | None = None
        if self.units is not None and self._regex is None:
            self._paths = frozenset(unitname.to_dbus_path(u) for u in self.units)

    def __repr__(self) -> str:
        parts = [
            f"{k}={v!r}"
            for k in ("units", "patterns", "types", "kinds")
            if (v := getattr(self, k)) is not None
        ]
        return f"EventFilter({', '.join(parts)})"

    @property
    def all_units(self) -> bool:
        """True when no unit filter is set (every unit is of interest)."""
        return self.units is None and self._regex is None and self.types is None

    def wants(self, kind: type[Event]) -> bool:
        """Whether events of this kind are wanted at all."""
        return self.kinds is None or kind in self.kinds or kind in ALWAYS

    def wants_path(self, path: str) -> bool | None:
        """A quick answer from the unit's object path alone (None: ask :meth:`wants_unit`)."""
        if self._paths is not None and self.types is None:
            return path in self._paths
        return None

    def wants_unit(self, name: str) -> bool:
        """Whether events about the unit ``name`` pass the unit filters."""
        if self._suffixes and not name.endswith(self._suffixes):
            return False
        if self.units is None and self._regex is None:
            return True
        if self.units is not None and name in self.units:
            return True
        return self._regex is not None and self._regex.fullmatch(name) is not None

    def wants_event(self, event: Event) -> bool:
        """The whole filter applied to one event."""
        if not self.wants(type(event)):
            return False
        unit = getattr(event, "unit", None)
        return unit is None or self.wants_unit(unit)


# ---------------------------------------------------------------- unit states


def _state_of(props: Mapping[str, Any]) -> dict[str, Any]:
    """The UnitChanged fields found in a property mapping (D-Bus names)."""
    out: dict[str, Any] = {}
    for name, dbus in STATE_FIELDS.items():
        if dbus in props:
            value = props[dbus]
            if name == "invocation_id":
                value = bytes(value).hex() if value else None
            elif name == "result":
                value = value or None
            out[name] = value
    return out


GONE_KEEP: Final = 4096  # units removed whose last state is remembered (oldest forgotten)
INACTIVE: Final = ("inactive", "dead")


class UnitStates:
    """The state last reported for each unit, and the UnitChanged a new reading makes.

    A unit systemd unloaded keeps its last state for a while (``gone``, bounded):
    loading it again in the same state (a listing, ``systemctl status``) is no
    change, and a change is reported from where it was.
    """

    __slots__ = ("gone", "last", "results")

    def __init__(self) -> None:
        # unit -> the UnitChanged fields last reported (active_state... invocation_id)
        self.last: dict[str, dict[str, Any]] = {}
        # units unloaded since: their last fields (at most GONE_KEEP, oldest dropped)
        self.gone: OrderedDict[str, dict[str, Any]] = OrderedDict()
        # unit -> Result seen on the type interface since (it comes just before the Unit one)
        self.results: dict[str, str | None] = {}

    def note_result(self, unit: str, props: Mapping[str, Any]) -> None:
        """Keep the type interface's Result (its PropertiesChanged precedes the Unit's)."""
        if "Result" in props:
            self.results[unit] = props["Result"] or None

    def known(self, unit: str) -> dict[str, Any] | None:
        """The fields last reported for ``unit`` (loaded or gone), None if never seen."""
        return self.last.get(unit) or self.gone.get(unit)

    def update(self, unit: str, props: Mapping[str, Any]) -> UnitChanged | None:
        """The event for a new reading of ``unit`` (Unit interface properties), or None
        when none of the watched fields changed since the last one reported."""
        new = _state_of(props)
        if unit in self.results:
            new["result"] = self.results.pop(unit)
        old = self.last.get(unit)
        back = old is None and unit in self.gone
        if back:
            old = self.gone.pop(unit)
        if old is None:
            if "active_state" not in new:
                return None  # nothing to report a state from (a signal without it)
            merged = {"load_state": "loaded", "sub_state": "", "result": None} | new
            merged.setdefault("invocation_id", None)
            changed = frozenset(new)
            previous = None
        else:
            # a field never read before (a seed from ListUnits has no Result) is learnt,
            # not counted as a change; nor is a unit loaded again as it was left
            changed = frozenset(k for k, v in new.items() if k in old and old[k] != v)
            if back and (new.get("active_state"), new.get("sub_state")) == (
                old["active_state"],
                old["sub_state"],
            ):
                changed = frozenset()
            merged = old | new
            if not changed:
                self.last[unit] = merged
                return None
            previous = (old["active_state"], old["sub_state"], old["load_state"])
        self.last[unit] = merged
        stamp = props.get("StateChangeTimestamp")
        return UnitChanged(
            unit,
            merged["active_state"],
            merged["sub_state"],
            merged["load_state"],
            previous,
            merged.get("result"),
            merged.get("invocation_id"),
            convert.timestamp(stamp) if isinstance(stamp, int) else None,
            changed,
        )

    def seed(self, unit: str, active_state: str, sub_state: str, load_state: str) -> None:
        """What a listing says of a unit not seen yet (nothing reported for it)."""
        if unit not in self.last and unit not in self.gone:
            self.last[unit] = {
                "active_state": active_state,
                "sub_state": sub_state,
                "load_state": load_state,
            }

    def snapshot(self, unit: str) -> UnitChanged | None:
        """The unit's state as last known, as an event with no ``changed`` (None if unknown)."""
        old = self.known(unit)
        if old is None:
            return None
        return UnitChanged(
            unit,
            old["active_state"],
            old["sub_state"],
            old["load_state"],
            None,
            old.get("result"),
            old.get("invocation_id"),
        )

    def remove(self, unit: str) -> None:
        """systemd unloaded the unit: its last state moves to ``gone``."""
        self.results.pop(unit, None)
        old = self.last.pop(unit, None)
        if old is not None:
            self.gone[unit] = old
            self.gone.move_to_end(unit)
            while len(self.gone) > GONE_KEEP:
                self.gone.popitem(last=False)


# ------------------------------------------------------------------- the queue


class EventQueue:
    """At most ``maxsize`` undelivered events, coalescing per unit when full.

    ``put`` never blocks and never fails (the connection's reader calls it).
    When the queue is full: a unit with an older queued UnitChanged has it merged
    into the new one (the merged event keeps the oldest ``previous`` and the union
    of ``changed``); otherwise the oldest unit with two states queued is
    coalesced; otherwise the oldest event that is not a unit's newest state is
    dropped (or the new one, if it is not a unit's state).  Only when every queued
    event is the newest state of a distinct unit does the queue hold more (one per
    unit: the newest state of every unit is never lost).  ``get`` returns an
    :class:`Overflow` first when anything was lost since the last one.
    """

    __slots__ = ("_by_unit", "_dups", "_items", "_others", "_seq", "dropped", "maxsize", "peak")

    def __init__(self, maxsize: int = 1024) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise InvalidEventFilterError(f"queue must be a positive int, not {maxsize!r}")
        self.maxsize = maxsize
        self._items: OrderedDict[int, Event] = OrderedDict()
        self._by_unit: dict[str, deque[int]] = {}  # unit -> seqs of its queued UnitChanged
        self._dups: OrderedDict[str, None] = OrderedDict()  # units with two or more queued
        self._others: OrderedDict[int, None] = OrderedDict()  # seqs of other events
        self._seq = 0
        self.dropped = 0  # lost since the last Overflow handed out
        self.peak = 0  # the most events ever held at once (for tests and benchmarks)

    def __len__(self) -> int:
        return len(self._items) + (1 if self.dropped else 0)

    def __bool__(self) -> bool:
        return bool(self._items) or self.dropped > 0

    def put(self, event: Event) -> None:
        if len(self._items) >= self.maxsize:
            room = self._make_room(event)
            if room is None:  # no room, and nothing in it is worth less: this one goes
                self.dropped += 1
                return
            event = room
        self._seq += 1
        seq = self._seq
        self._items[seq] = event
        if isinstance(event, UnitChanged):
            seqs = self._by_unit.setdefault(event.unit, deque())
            seqs.append(seq)
            if len(seqs) == 2:
                self._dups[event.unit] = None
        else:
            self._others[seq] = None
        self.peak = max(self.peak, len(self._items))

    def _make_room(self, event: Event) -> Event | None:
        """Free a place for ``event``; returns it (merged with what it replaces), or None
        when it is to be dropped itself (not a unit's state, and nothing else to drop)."""
        if isinstance(event, UnitChanged) and event.unit in self._by_unit:
            # the unit's queued states fold into the new one: it keeps the oldest previous
            seqs = self._by_unit.pop(event.unit)
            self._dups.pop(event.unit, None)
            first = self._items[seqs[0]]
            assert isinstance(first, UnitChanged)
            changed = event.changed
            for seq in seqs:
                old = self._items.pop(seq)
                assert isinstance(old, UnitChanged)
                changed |= old.changed
                self.dropped += 1
            return replace(event, previous=first.previous, changed=changed)
        if self._dups:
            unit = next(iter(self._dups))
            seqs = self._by_unit[unit]
            oldest, second = seqs.popleft(), seqs[0]
            a = self._items.pop(oldest)
            b = self._items[second]
            assert isinstance(a, UnitChanged) and isinstance(b, UnitChanged)
            self._items[second] = replace(b, previous=a.previous, changed=a.changed | b.changed)
            self.dropped += 1
            if len(seqs) < 2:
                del self._dups[unit]
        elif self._others:
            seq, _ = self._others.popitem(last=False)
            del self._items[seq]
            self.dropped += 1
        elif not isinstance(event, UnitChanged):
            return None
        # else: every queued event is a distinct unit's newest state, and so is this one
        return event

    def get(self) -> Event:
        """The next event (an Overflow first when events were lost); IndexError if none."""
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            return Overflow(dropped)
        seq, event = self._items.popitem(last=False)
        if isinstance(event, UnitChanged):
            seqs = self._by_unit[event.unit]
            seqs.popleft()
            if not seqs:
                del self._by_unit[event.unit]
            elif len(seqs) < 2:
                self._dups.pop(event.unit, None)
        else:
            del self._others[seq]
        return event

    def clear(self) -> None:
        self._items.clear()
        self._by_unit.clear()
        self._dups.clear()
        self._others.clear()
        self.dropped = 0
