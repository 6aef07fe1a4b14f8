"""Boot and unit start-up analysis over D-Bus: ``systemd-analyze time``, ``blame``,
``critical-chain`` and ``plot`` as typed Python (the source of both flavours).

Each function reads what systemd-analyze 252 reads (the manager's boot timestamps,
every loaded unit's activation timestamps, ``After=`` along the chain, the host's
description) and computes the same thing with :mod:`sysd._core.analyze`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._bus.wire import PROPERTIES_INTERFACE, check_properties, check_property
from .._core import unitname
from .._core.analyze import (
    UNIT_PROPERTIES,
    BootTimes,
    ChainNode,
    StartupTime,
    UnitTime,
    UnitTimes,
    blame_order,
    boot_times,
    chain_children,
    chain_node_times,
    startup_from,
    unit_time,
    unit_times,
)
from .._core.analyze_history import MESSAGE_STATES as _HISTORY_MESSAGES
from .._core.analyze_history import Transition, history_spans, history_svg, state_of
from .._core.analyze_plot import HostInfo, plot_svg
from .._core.analyze_security import SecurityReport, assess, security_info
from .._core.systemd1 import MANAGER_INTERFACE, MANAGER_PATH, SERVICE_INTERFACE, UNIT_INTERFACE
from .._core.timespan import USEC_INFINITY
from .._core.timespan import to_usec as _to_usec
from ..errors import (
    DBusError,
    InvalidCallError,
    InvalidTimestampError,
    InvalidUnitNameError,
    NoSuchUnitError,
    UnitMaskedError,
)
from .lint import verify

if TYPE_CHECKING:
    from .systemd import AsyncSystemd

__all__ = [
    "ChainNode",
    "SecurityReport",
    "StartupTime",
    "UnitTime",
    "blame",
    "boot_timestamps",
    "critical_chain",
    "plot",
    "security",
    "startup_time",
    "unit_timestamps",
    "verify",
]

DEFAULT_TARGET = "default.target"
HOSTNAME_BUS_NAME = "org.freedesktop.hostname1"
HOSTNAME_PATH = "/org/freedesktop/hostname1"


def _is_system(sd: AsyncSystemd) -> bool:
    return sd.target.scope != "user"


async def boot_timestamps(sd: AsyncSystemd) -> BootTimes:
    """The manager's boot timestamps as systemd-analyze uses them (µs; see
    :class:`sysd._core.analyze.BootTimes`).  Raises BootNotFinishedError while the
    manager is still starting up."""
    props = await sd.get_all(MANAGER_PATH, MANAGER_INTERFACE)
    return boot_times(props, system=_is_system(sd))


async def unit_timestamps(sd: AsyncSystemd, boot: BootTimes) -> list[UnitTimes]:
    """Every loaded unit that started activating, in the manager's ListUnits order."""
    rows = await sd.manager_call("ListUnits")
    (_field, first), *rest = UNIT_PROPERTIES
    others = [prop for _field, prop in rest]
    # four Gets cost less than one GetAll of the Unit interface (about a hundred
    # properties to decode), and a unit that never started activating needs one; each
    # round is one batch (pipelined), not a round trip per property
    starts = await sd.get_property_many([(row[6], UNIT_INTERFACE, first) for row in rows])
    started = [(row[0], row[6], start) for row, start in zip(rows, starts, strict=True) if start]
    values = await sd.get_property_many(
        [(path, UNIT_INTERFACE, prop) for _name, path, _start in started for prop in others]
    )
    out = []
    for i, (name, _path, start) in enumerate(started):
        props = {first: start}
        props.update(zip(others, values[i * len(others) : (i + 1) * len(others)], strict=True))
        t = unit_times(name, props, boot.reverse_offset)
        if t is not None:
            out.append(t)
    return out


async def _startup(sd: AsyncSystemd, boot: BootTimes) -> StartupTime:
    path = unitname.to_dbus_path(DEFAULT_TARGET)
    target: str | None
    try:
        target = await sd.get_property(path, UNIT_INTERFACE, "Id")
    except DBusError:
        target = None
    try:
        activated: int = await sd.get_property(
            path, UNIT_INTERFACE, "ActiveEnterTimestampMonotonic"
        )
    except DBusError:
        activated = USEC_INFINITY
    return startup_from(boot, target, activated)


async def startup_time(sd: AsyncSystemd) -> StartupTime:
    """How long startup took, phase by phase (``systemd-analyze time``)."""
    return await _startup(sd, await boot_timestamps(sd))


async def blame(sd: AsyncSystemd) -> list[UnitTime]:
    """The units that took time to start, longest first (``systemd-analyze blame``).

    Raises BootNotFinishedError while the manager is still starting up."""
    boot = await boot_timestamps(sd)
    return [unit_time(t) for t in blame_order(await unit_timestamps(sd, boot))]


def _check_names(units: Iterable[str]) -> list[str]:
    names = [units] if isinstance(units, str) else list(units)
    for name in names:
        if not isinstance(name, str) or not unitname.is_valid(name, unitname.NameKind.ANY):
            raise InvalidUnitNameError(
                f"Unit name {name!r} is neither a valid invocation ID nor unit name",
                hint="critical_chain() takes full unit names such as 'foo.service'",
            )
    return names


async def critical_chain(
    sd: AsyncSystemd,
    units: str | Iterable[str] | None = None,
    *,
    fuzz: timedelta = timedelta(0),
) -> list[ChainNode]:
    """The chain of units each unit waited for (``systemd-analyze critical-chain``).

    One tree per unit in ``units`` (default: ``default.target``): its root is the unit,
    its children the units among its ``After=`` that became active last, and so on down.
    ``fuzz``: also follow units that became active up to that much earlier than the last
    one (``--fuzz=``).  Unit names are taken as they are (no ``.service`` added, as
    systemd-analyze does); an invalid one raises InvalidUnitNameError before anything is
    sent.  Raises BootNotFinishedError while the manager is still starting up."""
    names = _check_names([DEFAULT_TARGET] if units is None else units)
    fuzz_usec = _to_usec(fuzz)
    boot = await boot_timestamps(sd)
    times = {t.name: t for t in await unit_timestamps(sd, boot)}
    out = []
    for name in names:
        path = unitname.to_dbus_path(name)
        unit_id: str = await sd.get_property(path, UNIT_INTERFACE, "Id")
        root = times.get(unit_id)
        at, took = chain_node_times(root, boot)
        children = await _chain(sd, name, times, boot, fuzz_usec, [])
        out.append(
            ChainNode(
                unit_id,
                None if at is None else timedelta(microseconds=at),
                None if took is None else timedelta(microseconds=took),
                children,
                False,
                root is not None,
            )
        )
    return out


async def _chain(
    sd: AsyncSystemd,
    name: str,
    times: dict[str, UnitTimes],
    boot: BootTimes,
    fuzz: int,
    visited: list[str],
) -> tuple[ChainNode, ...]:
    """list_dependencies_one(): ``name``'s children, asking for ``After=`` as it goes."""
    visited.append(name)
    after: list[str] = await sd.get_property(unitname.to_dbus_path(name), UNIT_INTERFACE, "After")
    out = []
    for child in chain_children(after, times, boot, fuzz):
        at, took = chain_node_times(times.get(child), boot)
        node_at = None if at is None else timedelta(microseconds=at)
        node_took = None if took is None else timedelta(microseconds=took)
        if child in visited:
            out.append(ChainNode(child, node_at, node_took, (), True))
            continue
        kids = await _chain(sd, child, times, boot, fuzz, visited)
        out.append(ChainNode(child, node_at, node_took, kids))
    return tuple(out)


async def _host_info(sd: AsyncSystemd) -> HostInfo | None:
    """acquire_host_info(): hostnamed's description when the connection is a bus that
    can reach it (not systemd's private socket), and the manager's."""
    manager: dict[str, Any] = await sd.get_all(MANAGER_PATH, MANAGER_INTERFACE)
    host: dict[str, Any] = {}
    if sd.target.hello and _is_system(sd):
        try:
            host = await sd.get_all(HOSTNAME_PATH, HOSTNAME_BUS_NAME, destination=HOSTNAME_BUS_NAME)
        except DBusError:
            host = {}
    return HostInfo(
        hostname=host.get("Hostname"),
        kernel_name=host.get("KernelName"),
        kernel_release=host.get("KernelRelease"),
        kernel_version=host.get("KernelVersion"),
        os_pretty_name=host.get("OperatingSystemPrettyName"),
        virtualization=str(manager.get("Virtualization", "")),
        architecture=str(manager.get("Architecture", "")),
    )


async def plot(
    sd: AsyncSystemd,
    units: str | Iterable[str] | None = None,
    since: datetime | str | None = None,
) -> str:
    """An SVG picture of the startup: one bar per unit, coloured by state
    (``systemd-analyze plot``).  Raises BootNotFinishedError while the manager is still
    starting up.

    With ``units`` (a name or several; ``.service`` added to a bare name) it is instead
    the units' state history, which systemd-analyze cannot draw: one row per unit, a bar
    per span in one state, from ``since`` (a datetime, or text as journalctl takes it:
    ``"-1h"``, ``"today"``...; default: this boot, from the units' first transition)
    to now, read from the manager's messages about the units in the journal (local
    host only); before a unit's first message in that range nothing is drawn.
    Bad input raises before anything is read: InvalidUnitNameError, InvalidCallError
    (no units, ``since`` without ``units``), InvalidTimestampError (``since`` that does
    not parse or lies in the future)."""
    if units is None:
        if since is not None:
            raise InvalidCallError(
                "plot(since=...) needs units=...", hint="the boot plot has no since"
            )
        return await _boot_plot(sd)
    names = _history_names(units)
    start = _history_since(since)
    return await _history_plot(sd, names, start)


async def _boot_plot(sd: AsyncSystemd) -> str:
    boot = await boot_timestamps(sd)
    startup = await _startup(sd, boot)
    host = await _host_info(sd) if sd.target.hello or not _is_system(sd) else None
    times = await unit_timestamps(sd, boot)
    version: str = await sd.manager_property("Version")
    return plot_svg(boot, times, startup.text, version, host)


def _history_names(units: str | Iterable[str]) -> list[str]:
    wanted = [units] if isinstance(units, str) else list(units)
    if not wanted:
        raise InvalidCallError(
            "plot(units=...) needs at least one unit", hint="e.g. units=['nginx.service']"
        )
    names: list[str] = []
    for given in wanted:
        mangled = given
        if isinstance(given, str) and not unitname.is_valid(given) and "." not in given:
            mangled = given + ".service"
        if not isinstance(mangled, str) or not unitname.is_valid(mangled):
            raise InvalidUnitNameError(
                f"Unit name {given!r} is not valid",
                hint="plot(units=...) takes unit names such as 'nginx.service' or 'nginx'",
            )
        if mangled not in names:
            names.append(mangled)
    return names


def _history_since(since: datetime | str | None) -> datetime | None:
    from ..journal._time import to_usec

    if since is None:
        return None
    if not isinstance(since, (str, datetime)):
        raise InvalidTimestampError(
            f"since must be a datetime or a timestamp string, not {type(since).__name__}",
            hint='e.g. "-1h"',
        )
    usec = to_usec(since)
    start = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=usec)
    if start > datetime.now(UTC):
        raise InvalidTimestampError(
            f"since {since!s} lies in the future", value=str(since), hint='e.g. "-1h"'
        )
    return start


def _when(entry: Any) -> datetime:
    """When the manager logged the entry (``_SOURCE_REALTIME_TIMESTAMP``), else when
    journald received it."""
    source = entry.get("_SOURCE_REALTIME_TIMESTAMP")
    if isinstance(source, str) and source.isdigit():
        return datetime.fromtimestamp(0, UTC) + timedelta(microseconds=int(source))
    stamp: datetime = entry.timestamp
    return stamp


async def _history_plot(sd: AsyncSystemd, names: list[str], since: datetime | None) -> str:
    from ..journal import AsyncEntries, JournalError

    scope = sd.target.scope
    if scope == "remote":
        raise JournalError(
            "the state history is read from the journal, which is on another machine",
            hint="plot(units=...) reads the local journal",
        )
    field = "USER_UNIT" if scope == "user" else "UNIT"
    matches = [f"{field}={n}" for n in names]
    matches += [f"MESSAGE_ID={m}" for m in _HISTORY_MESSAGES]
    # the manager's own word, not a process that logs the same fields
    matches.append("_SYSTEMD_USER_UNIT=init.scope" if scope == "user" else "_PID=1")
    transitions: list[Transition] = []
    reader = AsyncEntries(
        matches=matches,
        since=since,
        boot=True if since is None else None,
        fields=("MESSAGE_ID", field, "JOB_RESULT", "_SOURCE_REALTIME_TIMESTAMP"),
    )
    async with reader:
        async for entry in reader:
            state = state_of(str(entry.get("MESSAGE_ID", "")), entry.get("JOB_RESULT"))
            unit = entry.get(field)
            if state is not None and unit in names:
                transitions.append(Transition(str(unit), _when(entry), state))
    states = await sd.get_property_many(
        [(unitname.to_dbus_path(name), UNIT_INTERFACE, "ActiveState") for name in names]
    )
    current: dict[str, str] = dict(zip(names, states, strict=True))
    now = datetime.now(UTC)
    if since is None:
        since = min((t.time for t in transitions), default=now)
    version: str = await sd.manager_property("Version")
    return history_svg(history_spans(names, transitions, current, since, now), since, now, version)


def _syscall_resolver() -> Any:
    """Whether this machine has a system call, as systemd-analyze asks libseccomp
    (``seccomp_syscall_resolve_name() >= 0``); every name counts as known where
    libseccomp cannot be loaded."""
    import ctypes

    try:
        lib = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        return lambda _name: True
    resolve = lib.seccomp_syscall_resolve_name
    resolve.argtypes = [ctypes.c_char_p]
    resolve.restype = ctypes.c_int
    cache: dict[str, bool] = {}

    def known(name: str) -> bool:
        if name not in cache:
            cache[name] = resolve(name.encode()) >= 0
        return cache[name]

    return known


def _service_name(name: str) -> str:
    """What systemd-analyze security analyzes for ``name``: ``.service`` added, a
    template's instance ``test-instance``; anything but a service is refused."""
    mangled = unitname.mangle(name, ".service")
    if not mangled.endswith(".service"):
        raise InvalidUnitNameError(
            f"Unit {name} is not a service unit, refusing.",
            hint="security() analyzes services only",
        )
    if unitname.is_valid(mangled, unitname.NameKind.TEMPLATE):
        prefix, _, suffix = mangled.partition("@")
        mangled = f"{prefix}@test-instance{suffix}"
    return mangled


_SECURITY_UNIT_PROPS = ("Id", "FragmentPath", "DefaultDependencies")


async def _security_props(sd: AsyncSystemd, names: list[str]) -> list[dict[str, Any]]:
    """Each loaded service's properties the checks read: a GetAll of its Service
    interface and three of Unit (cheaper than a GetAll of about a hundred), for every
    service in one pipelined batch; checked against systemd's schema as ``get_all`` and
    ``get_property`` check them."""
    step = 1 + len(_SECURITY_UNIT_PROPS)
    calls: list[tuple[str, str | None, str, str, tuple[str, ...]]] = []
    for name in names:
        path = unitname.to_dbus_path(name)
        calls.append((path, PROPERTIES_INTERFACE, "GetAll", "s", (SERVICE_INTERFACE,)))
        calls += [
            (path, PROPERTIES_INTERFACE, "Get", "ss", (UNIT_INTERFACE, prop))
            for prop in _SECURITY_UNIT_PROPS
        ]
    values = await sd.call_many(calls)
    out = []
    for i in range(len(names)):
        props = dict(values[i * step])
        check_properties(SERVICE_INTERFACE, props)
        unit_values = values[i * step + 1 : (i + 1) * step]
        for prop, value in zip(_SECURITY_UNIT_PROPS, unit_values, strict=True):
            check_property(UNIT_INTERFACE, prop, value)
            props[prop] = value
        props["LoadState"] = "loaded"
        out.append(props)
    return out


async def _security_one(sd: AsyncSystemd, name: str, known: Any) -> SecurityReport:
    """One named service's report (its load state first: one not loaded is an error)."""
    path = unitname.to_dbus_path(name)
    load = await sd.get_property(path, UNIT_INTERFACE, "LoadState")
    if load == "not-found":
        raise NoSuchUnitError(f"Unit {name} not found, cannot analyze.")
    if load == "masked":
        raise UnitMaskedError(f"Unit {name} is masked, cannot analyze.")
    if load != "loaded":
        raise DBusError(
            f"Unit {name} not loaded properly, cannot analyze.",
            name="org.freedesktop.systemd1.LoadFailed",
        )
    (props,) = await _security_props(sd, [name])
    return assess(security_info(props), known)


async def security(
    sd: AsyncSystemd, units: str | Iterable[str] | None = None
) -> list[SecurityReport]:
    """The exposure of services to attack, check by check (``systemd-analyze
    security``).

    ``units``: a service name (``.service`` is added) or several, one report each; None:
    every loaded service that is not ``Type=oneshot``, in name order.  A unit that is not
    a service raises InvalidUnitNameError, one that is not loaded NoSuchUnitError (or
    UnitMaskedError)."""
    known = _syscall_resolver()
    if units is None:
        rows = await sd.manager_call("ListUnits")
        loaded = sorted(r[0] for r in rows if r[0].endswith(".service") and r[2] == "loaded")
        every = await _security_props(sd, loaded)  # one batch: not a round trip per service
        return [
            assess(security_info(props), known)
            for props in every
            if props.get("Type") != "oneshot"  # the overview is of long-running services
        ]
    wanted = [units] if isinstance(units, str) else list(units)
    names = [_service_name(n) for n in wanted]
    return [await _security_one(sd, name, known) for name in names]
