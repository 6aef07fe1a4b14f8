"""systemd's D-Bus property values as Python values (pure; no I/O).

Three things live here, all driven by a property's D-Bus name and signature:

* :func:`kind_for` -- the *rules*: which converter kind a property gets.  ``tools/gen_schema.py``
  calls it once per property and records the kind in ``sysd/_core/schema.py``; every rule below
  names the systemd 252 properties it applies to.
* the *converters* (:data:`CONVERTERS`, built per signature by :func:`converter`): raw value in,
  Python value out, never raising for a value of the right D-Bus type.
* :class:`Field` -- the lazy, cached, typed attribute the snapshot classes in
  :mod:`sysd._core.status` are made of -- and :func:`to_json` for ``--json`` output.

The kinds -- what each returns, and which raw values become ``None``:

* ``raw``: the value as sent (str, int, bool, float, bytes); ``freeze``: arrays become tuples
  and dicts read-only mappings, all the way down.
* ``timestamp``: µs since the epoch -> aware ``datetime`` in UTC; None for 0, for
  ``USEC_INFINITY`` and for values past year 9999.
* ``monotonic``: µs of ``CLOCK_MONOTONIC`` -> ``timedelta`` since boot; None for 0 and infinity.
  ``before_boot`` (Firmware/LoaderTimestampMonotonic): the same, negated -- µs before the kernel.
* ``usec`` / ``nsec`` / ``seconds``: a duration -> ``timedelta`` (ns are truncated to µs);
  None for 2^64-1 (``USEC_INFINITY``, ``NSEC_INFINITY``, ``RLIM_INFINITY``).
* ``bytes`` / ``count``: ``int``; None for 2^64-1 (unset, unknown, or "infinity" = no limit).
* ``unset32`` / ``unset16``: ``int``; None for 2^32-1 / 2^16-1.  ``unset_negative``: None for
  -1.  ``pid``: None for 0.
* ``uuid``: 16 bytes -> ``uuid.UUID``; None when empty or all zero.
* ``job_ref``: ``(id, path)``; None for ``(0, "/")``.  ``load_error``: ``(error name,
  message)``; None for ``("", "")``.
* ``cpu_set``: a CPU / NUMA node mask -> ``frozenset[int]``.
* ``ip_prefixes``: ``a(iayu)`` -> a tuple of ``IPv4Network`` / ``IPv6Network``.
* ``exec_commands``: ``ExecStart=``-style lists -> a tuple of :class:`ExecCommand`.
* ``device_usec``: ``a(st)`` of (device, µs) -> ``((device, timedelta | None), ...)``.
* ``timers_monotonic`` / ``timers_calendar``: a timer's ``On*Sec=`` / ``OnCalendar=`` lists ->
  tuples of :class:`MonotonicTimer` / :class:`CalendarTimer`.

Enumerations (``ActiveState``, ``Result``, ...) stay ``str``: a state this module has never heard
of passes through unchanged.  Scaled fractions (``ManagedOOMMemoryPressureLimit``:
UINT32_MAX = 100%) and bit masks (``CapabilityBoundingSet``, ``MountFlags``, ...) stay ``int``
exactly as systemd sends them; ``CPUQuota=`` arrives as ``CPUQuotaPerSecUSec``, CPU time per
second.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Generic, NamedTuple, Never, TypeVar, overload
from uuid import UUID

from .timespan import NSEC_INFINITY, USEC_INFINITY

__all__ = [
    "CONVERTERS",
    "KIND_TYPES",
    "CalendarTimer",
    "ExecCommand",
    "Field",
    "MonotonicTimer",
    "converter",
    "kind_for",
    "python_type",
    "to_json",
]

T = TypeVar("T")
Converter = Callable[[Any], Any]

UINT64_MAX: Final = 0xFFFFFFFFFFFFFFFF
UINT32_MAX: Final = 0xFFFFFFFF
UINT16_MAX: Final = 0xFFFF
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TIMESTAMP: Final = (datetime.max.replace(tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)


# ------------------------------------------------------------------------------- the records


class ExecCommand(NamedTuple):
    """One command line of ``ExecStart=`` and friends, with the status of its last run.

    ``ExecStart`` (``a(sasbttttuii)``) and ``ExecStartEx`` (``a(sasasttttuii)``) both become
    this; for the plain form ``flags`` is ``("ignore-failure",)`` for a ``-`` prefix, else
    ``()``.  ``code`` is the ``CLD_*`` code of the last exit (0: has not exited; 1 exited,
    2 killed, 3 dumped core) and ``status`` its exit status or signal number.
    """

    path: str
    argv: tuple[str, ...]
    flags: tuple[str, ...]
    start: datetime | None
    start_monotonic: timedelta | None
    exit: datetime | None
    exit_monotonic: timedelta | None
    pid: int | None
    code: int
    status: int

    @property
    def ignore_failure(self) -> bool:
        return "ignore-failure" in self.flags


class MonotonicTimer(NamedTuple):
    """One ``On*Sec=`` of a timer (``TimersMonotonic``); ``base`` e.g. ``"OnBootUSec"``."""

    base: str
    value: timedelta
    next_elapse: timedelta | None


class CalendarTimer(NamedTuple):
    """One ``OnCalendar=`` of a timer (``TimersCalendar``), normalised as systemd prints it."""

    base: str
    spec: str
    next_elapse: datetime | None


# ------------------------------------------------------------------------------ the converters


def raw(value: Any) -> Any:
    return value


def timestamp(value: int) -> datetime | None:
    """µs since the epoch -> aware UTC datetime; 0 and infinity -> None."""
    if value <= 0 or value > _MAX_TIMESTAMP:
        return None
    return EPOCH + timedelta(microseconds=value)


def monotonic(value: int) -> timedelta | None:
    """µs of CLOCK_MONOTONIC -> time since boot; 0 and infinity -> None."""
    if value <= 0 or value == USEC_INFINITY:
        return None
    return timedelta(microseconds=value)


def before_boot(value: int) -> timedelta | None:
    """µs *before* the kernel started (firmware, boot loader) -> negative time since boot."""
    if value <= 0 or value == USEC_INFINITY:
        return None
    return -timedelta(microseconds=value)


def usec(value: int) -> timedelta | None:
    """A duration in µs; ``USEC_INFINITY`` -> None."""
    if value == USEC_INFINITY:
        return None
    return timedelta(microseconds=value)


def nsec(value: int) -> timedelta | None:
    """A duration in ns (truncated to µs); ``NSEC_INFINITY`` -> None."""
    if value == NSEC_INFINITY:
        return None
    return timedelta(microseconds=value // 1000)


def seconds(value: int) -> timedelta | None:
    """A duration in seconds (``RLIMIT_CPU``); ``RLIM_INFINITY`` -> None."""
    if value == UINT64_MAX:
        return None
    return timedelta(seconds=value)


def unset64(value: int) -> int | None:
    return None if value == UINT64_MAX else value


def unset32(value: int) -> int | None:
    return None if value == UINT32_MAX else value


def unset16(value: int) -> int | None:
    return None if value == UINT16_MAX else value


def unset_negative(value: int) -> int | None:
    return None if value < 0 else value


def pid(value: int) -> int | None:
    return value or None


def uuid(value: bytes) -> UUID | None:
    if len(value) != 16 or not any(value):
        return None
    return UUID(bytes=bytes(value))


def job_ref(value: tuple[int, str]) -> tuple[int, str] | None:
    return None if value[0] == 0 else (value[0], value[1])


def load_error(value: tuple[str, str]) -> tuple[str, str] | None:
    return None if not value[0] else (value[0], value[1])


def cpu_set(value: bytes) -> frozenset[int]:
    """systemd's CPU/NUMA-node mask (bit ``i % 8`` of byte ``i // 8`` = CPU ``i``)."""
    return frozenset(
        index * 8 + bit
        for index, byte in enumerate(value)
        if byte
        for bit in range(8)
        if byte >> bit & 1
    )


def ip_prefixes(
    value: list[tuple[int, bytes, int]],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``a(iayu)`` (family, address bytes, prefix length) -> networks."""
    return tuple(
        ipaddress.ip_network((ipaddress.ip_address(bytes(address)), prefix), strict=False)
        for _family, address, prefix in value
    )


def _exec_command(item: tuple[Any, ...], flags: tuple[str, ...]) -> ExecCommand:
    return ExecCommand(
        item[0],
        tuple(item[1]),
        flags,
        timestamp(item[3]),
        monotonic(item[4]),
        timestamp(item[5]),
        monotonic(item[6]),
        item[7] or None,
        item[8],
        item[9],
    )


def exec_commands(value: list[tuple[Any, ...]]) -> tuple[ExecCommand, ...]:
    """``a(sasbttttuii)`` (ExecStart) or ``a(sasasttttuii)`` (ExecStartEx) -> ExecCommands."""
    out = []
    for item in value:
        flag = item[2]
        if isinstance(flag, bool):
            flags: tuple[str, ...] = ("ignore-failure",) if flag else ()
        else:
            flags = tuple(flag)
        out.append(_exec_command(item, flags))
    return tuple(out)


def device_usec(value: list[tuple[str, int]]) -> tuple[tuple[str, timedelta | None], ...]:
    """``a(st)`` of (device, µs) (``IODeviceLatencyTargetUSec``)."""
    return tuple((device, usec(us)) for device, us in value)


def timers_monotonic(value: list[tuple[str, int, int]]) -> tuple[MonotonicTimer, ...]:
    return tuple(
        MonotonicTimer(base, timedelta(microseconds=us), monotonic(next_elapse))
        for base, us, next_elapse in value
    )


def timers_calendar(value: list[tuple[str, str, int]]) -> tuple[CalendarTimer, ...]:
    return tuple(
        CalendarTimer(base, spec, timestamp(next_elapse)) for base, spec, next_elapse in value
    )


CONVERTERS: Final[Mapping[str, Converter]] = MappingProxyType(
    {
        "raw": raw,
        "timestamp": timestamp,
        "monotonic": monotonic,
        "before_boot": before_boot,
        "usec": usec,
        "nsec": nsec,
        "seconds": seconds,
        "bytes": unset64,
        "count": unset64,
        "unset32": unset32,
        "unset16": unset16,
        "unset_negative": unset_negative,
        "pid": pid,
        "uuid": uuid,
        "job_ref": job_ref,
        "load_error": load_error,
        "cpu_set": cpu_set,
        "ip_prefixes": ip_prefixes,
        "exec_commands": exec_commands,
        "device_usec": device_usec,
        "timers_monotonic": timers_monotonic,
        "timers_calendar": timers_calendar,
    }
)

# The Python type each kind returns (before "| None" for a missing property), as source text
# for the generated field declarations; "raw" and "freeze" depend on the signature.
KIND_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "timestamp": "datetime | None",
        "monotonic": "timedelta | None",
        "before_boot": "timedelta | None",
        "usec": "timedelta | None",
        "nsec": "timedelta | None",
        "seconds": "timedelta | None",
        "bytes": "int | None",
        "count": "int | None",
        "unset32": "int | None",
        "unset16": "int | None",
        "unset_negative": "int | None",
        "pid": "int | None",
        "uuid": "UUID | None",
        "job_ref": "tuple[int, str] | None",
        "load_error": "tuple[str, str] | None",
        "cpu_set": "frozenset[int]",
        "ip_prefixes": "tuple[IPv4Network | IPv6Network, ...]",
        "exec_commands": "tuple[ExecCommand, ...]",
        "device_usec": "tuple[tuple[str, timedelta | None], ...]",
        "timers_monotonic": "tuple[MonotonicTimer, ...]",
        "timers_calendar": "tuple[CalendarTimer, ...]",
    }
)


# ----------------------------------------------------------------------- signatures -> values

_BASIC_TYPES: Final = {
    **dict.fromkeys("ynqiuxth", "int"),
    "b": "bool",
    "d": "float",
    **dict.fromkeys("sog", "str"),
    "v": "Any",
}


def _split(signature: str) -> list[str]:
    """A signature -> its complete types (``"sa(ss)"`` -> ``["s", "a(ss)"]``)."""
    out: list[str] = []
    i = 0
    while i < len(signature):
        j = i
        while signature[j] == "a":
            j += 1
        if signature[j] in "({":
            close = {"(": ")", "{": "}"}[signature[j]]
            depth = 0
            while True:
                depth += {signature[j]: 0, "(": 1, "{": 1, ")": -1, "}": -1}.get(signature[j], 0)
                if signature[j] == close and depth == 0:
                    break
                j += 1
        out.append(signature[i : j + 1])
        i = j + 1
    return out


def python_type(kind: str, signature: str) -> str:
    """The type a property of this kind and signature has on a snapshot, as source text."""
    if kind in KIND_TYPES:
        return KIND_TYPES[kind]
    return _signature_type(signature)


def _signature_type(sig: str) -> str:
    if sig in _BASIC_TYPES:
        return _BASIC_TYPES[sig]
    if sig == "ay":
        return "bytes"
    if sig.startswith("a{"):
        key, value = _split(sig[2:-1])
        return f"Mapping[{_signature_type(key)}, {_signature_type(value)}]"
    if sig.startswith("a"):
        return f"tuple[{_signature_type(sig[1:])}, ...]"
    if sig.startswith("("):
        return "tuple[" + ", ".join(_signature_type(s) for s in _split(sig[1:-1])) + "]"
    raise ValueError(f"not a single complete D-Bus type: {sig!r}")


def _freezer(sig: str) -> Converter | None:
    """A function making a value of this signature immutable, or None if it already is.

    Arrays arrive as lists (-> tuples), structs as tuples, ``ay`` as bytes, dicts as dicts
    (-> read-only mappings).
    """
    if sig in _BASIC_TYPES or sig == "ay":
        return None
    if sig.startswith("a{"):
        _key, value = _split(sig[2:-1])
        inner = _freezer(value)
        if inner is None:
            return lambda v: MappingProxyType(dict(v))
        return lambda v: MappingProxyType({k: inner(x) for k, x in v.items()})
    if sig.startswith("a"):
        element = _freezer(sig[1:])
        if element is None:
            return tuple
        return lambda v: tuple([element(x) for x in v])
    members = [_freezer(s) for s in _split(sig[1:-1])]
    if all(m is None for m in members):
        return tuple
    return lambda v: tuple([x if m is None else m(x) for m, x in zip(members, v, strict=True)])


_CONVERTER_CACHE: dict[tuple[str, str], Converter] = {}


def converter(kind: str, signature: str) -> Converter:
    """The function converting a raw value of this kind and signature (cached).

    Unknown kinds (a schema newer than this module) convert like ``freeze``.
    """
    key = (kind, signature)
    func = _CONVERTER_CACHE.get(key)
    if func is None:
        func = CONVERTERS.get(kind) if kind not in ("raw", "freeze") else None
        if func is None:
            func = _freezer(signature) or raw
        _CONVERTER_CACHE[key] = func
    return func


# ----------------------------------------------------------------------------------- the rules

# Rule 1: these properties, by name (and signature: a property that changes its signature in
# another systemd version falls through to the generic rules instead).
BY_NAME: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        # Timer: realtime/monotonic timestamps although named *USec (docs: "µs")
        "LastTriggerUSec": ("t", "timestamp"),
        "NextElapseUSecRealtime": ("t", "timestamp"),
        "LastTriggerUSecMonotonic": ("t", "monotonic"),
        "NextElapseUSecMonotonic": ("t", "monotonic"),
        # Manager: firmware and loader start before the kernel, "to be read as negative values"
        # (docs); the kernel's own monotonic timestamp is 0 by definition, not "unset"
        "FirmwareTimestampMonotonic": ("t", "before_boot"),
        "LoaderTimestampMonotonic": ("t", "before_boot"),
        "KernelTimestampMonotonic": ("t", "usec"),
        # rlimits measured in time: RLIMIT_CPU in seconds, RLIMIT_RTTIME in µs
        **{
            f"{p}Limit{r}{s}": ("t", kind)
            for p in ("", "Default")
            for s in ("", "Soft")
            for r, kind in (("CPU", "seconds"), ("RTTIME", "usec"))
        },
        # bit masks and ids, where all bits set is a real value
        "CapabilityBoundingSet": ("t", "raw"),
        "AmbientCapabilities": ("t", "raw"),
        "RestrictNamespaces": ("t", "raw"),
        "MountFlags": ("t", "raw"),
        "CoredumpFilter": ("t", "raw"),
        "ControlGroupId": ("t", "raw"),
        # processes: 0 is "none"
        "MainPID": ("u", "pid"),
        "ControlPID": ("u", "pid"),
        "ExecMainPID": ("u", "pid"),
        # unset sentinels of narrower integers
        "UID": ("u", "unset32"),  # Service: the dynamic user's UID, UINT32_MAX when none
        "GID": ("u", "unset32"),
        "TTYRows": ("q", "unset16"),
        "TTYColumns": ("q", "unset16"),
        "LogLevelMax": ("i", "unset_negative"),
        "NUMAPolicy": ("i", "unset_negative"),
        # structured values
        "InvocationID": ("ay", "uuid"),
        "Job": ("(uo)", "job_ref"),
        "LoadError": ("(ss)", "load_error"),
        "IPAddressAllow": ("a(iayu)", "ip_prefixes"),
        "IPAddressDeny": ("a(iayu)", "ip_prefixes"),
        "IODeviceLatencyTargetUSec": ("a(st)", "device_usec"),
        "TimersMonotonic": ("a(stt)", "timers_monotonic"),
        "TimersCalendar": ("a(sst)", "timers_calendar"),
        **dict.fromkeys(
            (
                "CPUAffinity",
                "NUMAMask",
                "AllowedCPUs",
                "StartupAllowedCPUs",
                "AllowedMemoryNodes",
                "StartupAllowedMemoryNodes",
                "EffectiveCPUs",
                "EffectiveMemoryNodes",
            ),
            ("ay", "cpu_set"),
        ),
    }
)

# Rule 3: byte counts among the "t" properties (beyond names ending in "Bytes"): cgroup memory
# settings and readings (MemoryCurrent, MemoryAvailable, MemoryMin/Low/High/Max/SwapMax/Limit,
# DefaultMemoryMin/Low) by prefix, and these.
BYTES_NAMES: Final = frozenset(
    {
        *(
            f"{p}Limit{r}{s}"
            for p in ("", "Default")
            for s in ("", "Soft")
            for r in ("FSIZE", "DATA", "STACK", "CORE", "RSS", "AS", "MEMLOCK", "MSGQUEUE")
        ),
        "ReceiveBuffer",  # Socket: SO_RCVBUF, 0 = kernel default
        "SendBuffer",
        "PipeSize",
    }
)
BYTES_PREFIXES: Final = ("Memory", "DefaultMemory")

# Rule 4: counts, weights and the remaining rlimits among the "t" properties, where 2^64-1
# means unset/unknown/infinity: TasksCurrent, TasksMax, DefaultTasksMax, IP*Packets,
# IO*Operations, *Weight (CPU, IO, BlockIO, Startup*), *Shares, Limit{NOFILE,NPROC,LOCKS,
# SIGPENDING,NICE,RTPRIO}[Soft] and their Default* twins.
COUNT_NAMES: Final = frozenset(
    {
        "TasksCurrent",
        "TasksMax",
        "DefaultTasksMax",
        *(
            f"{p}Limit{r}{s}"
            for p in ("", "Default")
            for s in ("", "Soft")
            for r in ("NOFILE", "NPROC", "LOCKS", "SIGPENDING", "NICE", "RTPRIO")
        ),
    }
)
COUNT_SUFFIXES: Final = ("Packets", "Operations", "Weight", "Shares")


def kind_for(name: str, signature: str) -> str:
    """The converter kind of property ``name`` with D-Bus ``signature``.

    First rule that matches:

    1. :data:`BY_NAME` -- Timer's ``*USec`` timestamps, the Manager's boot-time monotonic
       timestamps before and at kernel start, the time rlimits, bit masks, PIDs,
       narrow unset sentinels, ``InvocationID``, ``Job``, ``LoadError``, IP prefixes, CPU sets,
       device latencies, timer lists;
    2. ``t`` named ``*TimestampMonotonic`` -> monotonic; ``*Timestamp`` -> timestamp;
       ``*USec`` -> usec; ``*NSec`` -> nsec (``CPUUsageNSec``, ``TimerSlackNSec``);
    3. ``t`` byte counts: ``*Bytes`` (IO/IP), ``Memory*``/``DefaultMemory*``, :data:`BYTES_NAMES`;
    4. ``t`` counts: :data:`COUNT_NAMES`, ``*Packets``, ``*Operations``, ``*Weight``, ``*Shares``;
    5. ``a(sasbttttuii)``/``a(sasasttttuii)`` -> exec_commands (ExecStart, ExecStartEx, ...);
    6. any other array or struct -> freeze; anything else -> raw (including ``t`` properties
       no rule names, which the generator lists for review).
    """
    rule = BY_NAME.get(name)
    if rule is not None and rule[0] == signature:
        return rule[1]
    if signature == "t":
        if name.endswith("TimestampMonotonic"):
            return "monotonic"
        if name.endswith("Timestamp"):
            return "timestamp"
        if name.endswith("USec"):
            return "usec"
        if name.endswith("NSec"):
            return "nsec"
        if name.endswith("Bytes") or name.startswith(BYTES_PREFIXES) or name in BYTES_NAMES:
            return "bytes"
        if name in COUNT_NAMES or name.endswith(COUNT_SUFFIXES):
            return "count"
        return "raw"
    if signature in ("a(sasbttttuii)", "a(sasasttttuii)"):
        return "exec_commands"
    if signature[0] in "a(" and signature != "ay":
        return "freeze"
    return "raw"


# ------------------------------------------------------------------------ the snapshot field


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class Field(Generic[T]):
    """One typed property of a snapshot: converted on first access, then cached.

    Declared in the generated ``sysd._core.status_generated`` as
    ``active_state: Field[str] = Field("ActiveState", "s", "raw", "")``.  A class attribute
    (``ServiceStatus.main_pid``) is this descriptor, with ``.dbus_name``, ``.signature`` and
    ``.kind``; on an instance it is the converted value.  The class that declares it says, in
    ``_SOURCE``, which of the snapshot's raw dicts it reads (``_props`` for the Unit, Manager
    and Job interfaces, ``_type_props`` for a unit type's own interface).

    The value is computed once and stored in the instance's ``__dict__``: being a non-data
    descriptor, later reads are plain attribute lookups.  A property the dict lacks (a unit
    type or systemd version without it) gives ``default`` (None unless declared otherwise);
    a value of a shape the converter does not expect gives ``default`` too, the raw value
    staying reachable through ``snapshot.raw(dbus_name)``.
    """

    __slots__ = ("convert", "dbus_name", "default", "kind", "name", "signature", "source")

    def __init__(self, dbus_name: str, signature: str, kind: str, default: Any = None) -> None:
        self.dbus_name = dbus_name
        self.signature = signature
        self.kind = kind
        self.default = default
        self.convert = converter(kind, signature)
        self.name = ""
        self.source = "_props"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.source = getattr(owner, "_SOURCE", "_props")

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Field[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Field[T] | T:
        if obj is None:
            return self
        state = obj.__dict__
        value = state[self.source].get(self.dbus_name, MISSING)
        if value is MISSING:
            value = self.default
        else:
            try:
                value = self.convert(value)
            except (TypeError, ValueError, IndexError, KeyError, AttributeError, OverflowError):
                value = self.default
        state[self.name] = value
        return value  # type: ignore[no-any-return]

    if TYPE_CHECKING:
        # Only for type checkers: makes ``snapshot.field = x`` an error (nothing is assignable
        # to Never).  At run time Field stays a non-data descriptor, so the value cached in
        # the instance's __dict__ wins over __get__ (the snapshot refuses assignment itself).
        def __set__(self, obj: object, value: Never) -> None: ...

    def __repr__(self) -> str:
        return f"<Field {self.name} = {self.dbus_name} ({self.signature}, {self.kind})>"


# -------------------------------------------------------------------------------------- JSON


def to_json(value: Any) -> Any:
    """A converted value as JSON-ready data (for ``json.dumps``), one fixed rule per type.

    ``datetime`` -> ISO 8601 string with ``+00:00``; ``timedelta`` -> seconds as a float
    (µs precision); ``UUID`` -> 32 hex digits as systemd prints invocation IDs; ``bytes`` ->
    base64 string; IP networks -> ``"10.0.0.0/8"``; sets -> sorted lists; named tuples
    (``ExecCommand``, ...) -> objects; other tuples -> lists; str, int, float, bool, None as
    they are.
    """
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: to_json(v) for k, v in value._asdict().items()}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, frozenset | set):
        return [to_json(v) for v in sorted(value)]
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    return str(value)
