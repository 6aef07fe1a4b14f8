"""What ``systemd-analyze time``, ``blame`` and ``critical-chain`` compute, without I/O.

A port of systemd 252's ``src/analyze/analyze-time-data.c`` (``acquire_boot_times()``,
``pretty_boot_time()``, ``acquire_time_data()``), ``analyze-blame.c`` and
``analyze-critical-chain.c``: the functions here take the property values the manager
reported (``GetAll`` replies as dicts) and return typed records and the text
systemd-analyze prints.  The SVG of ``plot`` is :mod:`sysd._core.analyze_plot`.

Timestamps are the manager's monotonic microseconds (0: never).  For a user manager, and
for a system manager in a container (no ``SecurityStartTimestamp``), systemd-analyze
counts from the manager's own start instead (its ``reverse_offset``): so does sysd.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Final, NamedTuple

from ..errors import BootNotFinishedError
from .table import column_widths
from .timespan import USEC_PER_MSEC, format_usec

__all__ = [
    "BOOT_PROPERTIES",
    "UNIT_PROPERTIES",
    "CHAIN_HEADER",
    "BootTimes",
    "ChainNode",
    "StartupTime",
    "UnitTime",
    "UnitTimes",
    "blame_lines",
    "build_chain",
    "blame_order",
    "boot_times",
    "chain_children",
    "chain_header",
    "chain_lines",
    "chain_node_times",
    "fit_widths",
    "format_msec",
    "startup_from",
    "unit_time",
    "unit_times",
]

_WRAP: Final = 1 << 64
_US: Final = timedelta(microseconds=1)

# acquire_boot_times(): the manager's properties (a GetAll of ...systemd1.Manager)
BOOT_PROPERTIES: Final = (
    ("firmware", "FirmwareTimestampMonotonic"),
    ("loader", "LoaderTimestampMonotonic"),
    ("kernel", "KernelTimestamp"),
    ("initrd", "InitRDTimestampMonotonic"),
    ("userspace", "UserspaceTimestampMonotonic"),
    ("finish", "FinishTimestampMonotonic"),
    ("security_start", "SecurityStartTimestampMonotonic"),
    ("security_finish", "SecurityFinishTimestampMonotonic"),
    ("generators_start", "GeneratorsStartTimestampMonotonic"),
    ("generators_finish", "GeneratorsFinishTimestampMonotonic"),
    ("unitsload_start", "UnitsLoadStartTimestampMonotonic"),
    ("unitsload_finish", "UnitsLoadFinishTimestampMonotonic"),
    ("initrd_security_start", "InitRDSecurityStartTimestampMonotonic"),
    ("initrd_security_finish", "InitRDSecurityFinishTimestampMonotonic"),
    ("initrd_generators_start", "InitRDGeneratorsStartTimestampMonotonic"),
    ("initrd_generators_finish", "InitRDGeneratorsFinishTimestampMonotonic"),
    ("initrd_unitsload_start", "InitRDUnitsLoadStartTimestampMonotonic"),
    ("initrd_unitsload_finish", "InitRDUnitsLoadFinishTimestampMonotonic"),
)

# acquire_time_data(): each unit's (org.freedesktop.systemd1.Unit)
UNIT_PROPERTIES: Final = (
    ("activating", "InactiveExitTimestampMonotonic"),
    ("activated", "ActiveEnterTimestampMonotonic"),
    ("deactivating", "ActiveExitTimestampMonotonic"),
    ("deactivated", "InactiveEnterTimestampMonotonic"),
)


def format_msec(usec: int) -> str:
    """``FORMAT_TIMESPAN(usec, USEC_PER_MSEC)``, with C's unsigned wrap-around for a
    difference that went below zero."""
    return format_usec(usec % _WRAP, USEC_PER_MSEC)


def _td(usec: int) -> timedelta:
    return timedelta(microseconds=usec)


# --------------------------------------------------------------------------- boot


class BootTimes(NamedTuple):
    """The manager's boot timestamps as systemd-analyze holds them (µs, 0: unset).

    For a user manager or a container, the firmware/loader/kernel/initrd/userspace stamps
    are 0 and the rest count from the manager's start (``reverse_offset``, subtracted
    from every unit timestamp too)."""

    firmware: int = 0
    loader: int = 0
    kernel: int = 0
    kernel_done: int = 0
    initrd: int = 0
    userspace: int = 0
    finish: int = 0
    security_start: int = 0
    security_finish: int = 0
    generators_start: int = 0
    generators_finish: int = 0
    unitsload_start: int = 0
    unitsload_finish: int = 0
    initrd_security_start: int = 0
    initrd_security_finish: int = 0
    initrd_generators_start: int = 0
    initrd_generators_finish: int = 0
    initrd_unitsload_start: int = 0
    initrd_unitsload_finish: int = 0
    reverse_offset: int = 0


def _sub(value: int, offset: int) -> int:
    """subtract_timestamp(): 0 stays 0 (unset)."""
    return value - offset if value > 0 else value


def boot_times(props: Mapping[str, Any], *, system: bool = True) -> BootTimes:
    """``acquire_boot_times()`` from the manager's properties.

    ``system``: the system manager (else a user manager).  Raises
    :class:`~sysd.errors.BootNotFinishedError` while the manager has not finished
    starting up (``FinishTimestampMonotonic`` is 0)."""
    raw = {field: int(props.get(name) or 0) for field, name in BOOT_PROPERTIES}
    if raw["finish"] <= 0:
        raise BootNotFinishedError(
            "Bootup is not yet finished (org.freedesktop.systemd1.Manager."
            f"FinishTimestampMonotonic={raw['finish']})",
            finish_timestamp=raw["finish"],
            user=not system,
        )
    if system and raw["security_start"] > 0:
        # a real boot: the security module's setup is only timed outside a container
        raw["kernel_done"] = raw["initrd"] if raw["initrd"] > 0 else raw["userspace"]
        return BootTimes(**raw)
    offset = raw["userspace"]
    for field in (
        "firmware",
        "loader",
        "kernel",
        "initrd",
        "userspace",
        "security_start",
        "security_finish",
    ):
        raw[field] = 0
    for field in (
        "finish",
        "generators_start",
        "generators_finish",
        "unitsload_start",
        "unitsload_finish",
    ):
        raw[field] = _sub(raw[field], offset)
    return BootTimes(**raw, reverse_offset=offset)


class StartupTime(NamedTuple):
    """What ``systemd-analyze time`` reports: how long each startup phase took.

    A phase the manager reports no timestamps for is None (a container or a user
    manager has no firmware, loader, kernel or initrd phase, and then no total either).
    ``target`` is the default target's name (None when it does not exist),
    ``target_reached`` when it became active, counted from the start of userspace (None:
    never reached).  ``text`` is systemd-analyze's output, line for line."""

    firmware: timedelta | None
    loader: timedelta | None
    kernel: timedelta | None
    initrd: timedelta | None
    userspace: timedelta
    total: timedelta | None
    target: str | None
    target_reached: timedelta | None
    text: str


def startup_from(boot: BootTimes, target: str | None, target_activated: int) -> StartupTime:
    """``pretty_boot_time()``: ``target`` is the default target's Id (None when reading it
    failed), ``target_activated`` its ActiveEnterTimestampMonotonic (USEC_INFINITY when
    reading it failed)."""
    t = boot
    parts = ["Startup finished in "]
    firmware = loader = kernel = initrd = total = None
    if t.firmware > 0:
        firmware = t.firmware - t.loader
        parts.append(f"{format_msec(firmware)} (firmware) + ")
    if t.loader > 0:
        loader = t.loader
        parts.append(f"{format_msec(loader)} (loader) + ")
    if t.kernel_done > 0:
        kernel = t.kernel_done
        parts.append(f"{format_msec(kernel)} (kernel) + ")
    if t.initrd > 0:
        initrd = t.userspace - t.initrd
        parts.append(f"{format_msec(initrd)} (initrd) + ")
    userspace = t.finish - t.userspace
    parts.append(f"{format_msec(userspace)} (userspace) ")
    if t.kernel_done > 0:
        total = t.firmware + t.finish
        parts.append(f"= {format_msec(total)} ")
    reached = None
    if target is not None and 0 < target_activated < _WRAP - 1:
        base = t.userspace if t.userspace > 0 else t.reverse_offset
        reached = target_activated - base
        parts.append(f"\n{target} reached after {format_msec(reached)} in userspace.")
    elif target is not None and target_activated == 0:
        parts.append(f"\n{target} was never reached.")
    elif target is not None:
        parts.append(f"\nCould not get time to reach {target}.")
    else:
        parts.append("\ncould not find default.target.")
    return StartupTime(
        firmware=None if firmware is None else _td(firmware),
        loader=None if loader is None else _td(loader),
        kernel=None if kernel is None else _td(kernel),
        initrd=None if initrd is None else _td(initrd),
        userspace=_td(userspace),
        total=None if total is None else _td(total),
        target=target,
        target_reached=None if reached is None else _td(reached),
        text="".join(parts),
    )


# --------------------------------------------------------------------------- units


class UnitTimes(NamedTuple):
    """One unit's timestamps as systemd-analyze holds them (µs, reverse offset taken off,
    0: never) and ``time``, how long it took to start."""

    name: str
    activating: int
    activated: int
    deactivating: int
    deactivated: int
    time: int


def unit_times(name: str, props: Mapping[str, Any], reverse_offset: int = 0) -> UnitTimes | None:
    """``acquire_time_data()`` for one unit; None for a unit that never started
    activating (systemd-analyze leaves those out)."""
    v = {field: _sub(int(props.get(prop) or 0), reverse_offset) for field, prop in UNIT_PROPERTIES}
    if v["activated"] >= v["activating"]:
        took = v["activated"] - v["activating"]
    elif v["deactivated"] >= v["activating"]:
        took = v["deactivated"] - v["activating"]
    else:
        took = 0
    if v["activating"] == 0:
        return None
    return UnitTimes(
        name, v["activating"], v["activated"], v["deactivating"], v["deactivated"], took
    )


class UnitTime(NamedTuple):
    """A unit's start: ``time`` it took to start (what ``blame`` lists), and when it began
    activating, became active, began and finished deactivating (None: not since boot),
    counted from the start of the manager's clock (a container's or user manager's: its
    own start)."""

    unit: str
    time: timedelta
    activating: timedelta
    activated: timedelta | None
    deactivating: timedelta | None
    deactivated: timedelta | None


def unit_time(t: UnitTimes) -> UnitTime:
    """The typed record for one unit's timestamps."""

    def opt(usec: int) -> timedelta | None:
        return _td(usec) if usec else None

    return UnitTime(
        t.name,
        _td(t.time),
        _td(t.activating),
        opt(t.activated),
        opt(t.deactivating),
        opt(t.deactivated),
    )


# --------------------------------------------------------------------------- blame


def blame_order(times: Iterable[UnitTimes]) -> list[UnitTimes]:
    """The units ``blame`` lists: those that took time, longest first, ties in the order
    the manager listed them (format-table's sort by the time column, reversed)."""
    return sorted((t for t in times if t.time > 0), key=lambda t: -t.time)


def fit_widths(requested: Sequence[int], available: int) -> list[int]:
    """format-table's column widths when the table is wider than ``available`` columns
    (a terminal without a pager): see :func:`sysd._core.table.column_widths`."""
    return column_widths(list(requested), available)


def _ellipsize_end(text: str, width: int, ellipsis: str) -> str:
    """systemd's ``ellipsize(text, width, 100)``: cut at the end, an ellipsis last."""
    if len(text) <= width:
        return text
    if width <= len(ellipsis):
        return ellipsis[:width]
    return text[: width - len(ellipsis)] + ellipsis


def blame_lines(
    times: Iterable[UnitTimes], *, width: int | None = None, ellipsis: str = "\u2026"
) -> list[str]:
    """``systemd-analyze blame``'s table: the time right-aligned, the unit; ``width``: a
    terminal's columns to fit (None: a pipe or a pager, nothing cut)."""
    rows = [(format_msec(t.time), t.name) for t in blame_order(times)]
    if not rows:
        return []
    requested = [max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)]
    widths = requested if width is None else fit_widths(requested, width)
    lines = []
    for took, name in rows:
        cell0 = _ellipsize_end(took, widths[0], ellipsis).rjust(widths[0])
        cell1 = _ellipsize_end(name, widths[1], ellipsis)
        lines.append(f"{cell0} {cell1}")
    return lines


# --------------------------------------------------------------------------- critical chain


class ChainNode(NamedTuple):
    """One unit of a critical chain (``systemd-analyze critical-chain``).

    ``at``: when the unit became active, or for a unit that took time to start, when
    it began starting (the ``@`` time), counted from the start of userspace; ``took``:
    how long it took to start (the ``+`` time), None when it took none.  ``timed``: the
    manager recorded the unit's start (every unit below a root is; a root that never
    started prints no line of its own).  ``repeated``: the unit was shown higher up,
    so its chain is not repeated (systemd-analyze prints ``...`` below it).
    ``children``: the units it waited for last, within the fuzz."""

    unit: str
    at: timedelta | None
    took: timedelta | None
    children: tuple[ChainNode, ...] = ()
    repeated: bool = False
    timed: bool = True


def chain_node_times(t: UnitTimes | None, boot: BootTimes) -> tuple[int | None, int | None]:
    """The ``@`` and ``+`` times (µs, None: not printed) of ``list_dependencies_print()``."""
    if t is None:
        return None, None
    if t.time > 0:
        return t.activating - boot.userspace, t.time
    if t.activated > boot.userspace:
        return t.activated - boot.userspace, None
    return None, None


def _in_range(t: UnitTimes | None, boot: BootTimes) -> bool:
    return t is not None and 0 < t.activated <= boot.finish


def chain_children(
    after: Sequence[str], times: Mapping[str, UnitTimes], boot: BootTimes, fuzz: int = 0
) -> list[str]:
    """``list_dependencies_one()``'s choice among a unit's ``After=`` units: those that
    became active last (within ``fuzz`` µs of the last one, before startup finished),
    latest first."""

    def activated(name: str) -> int:
        t = times.get(name)
        return t.activated if t is not None else 0

    ordered = sorted(after, key=lambda name: -activated(name))  # glibc's qsort: stable
    longest = 0
    for name in ordered:
        t = times.get(name)
        if _in_range(t, boot) and t is not None and t.activated >= longest:
            longest = t.activated
    if longest == 0:
        return []
    out = []
    for name in ordered:
        t = times.get(name)
        if _in_range(t, boot) and t is not None and longest - t.activated <= fuzz:
            out.append(name)
    return out


CHAIN_HEADER: Final = (
    'The time when unit became active or started is printed after the "@" character.\n'
    'The time the unit took to start is printed after the "+" character.\n'
)


def chain_header() -> list[str]:
    """The two lines (and a blank one) critical-chain prints first."""
    return CHAIN_HEADER.split("\n")


def _usec(value: timedelta | None) -> int | None:
    return None if value is None else value // _US


def chain_lines(
    roots: Iterable[ChainNode],
    *,
    tree: tuple[str, str, str, str] = ("\u251c\u2500", "\u2514\u2500", "\u2502 ", "  "),
    red: str = "",
    normal: str = "",
) -> list[str]:
    """The tree lines of ``critical-chain`` (without the header): ``tree`` is the branch,
    last-branch, vertical and space glyphs; ``red``/``normal`` the colour of a unit that
    took time to start (empty: no colour)."""
    branch, right, vertical, space = tree
    lines: list[str] = []

    def text(node: ChainNode) -> str:
        at, took = _usec(node.at), _usec(node.took)
        if took is not None:
            return f"{red}{node.unit} @{format_msec(at or 0)} +{format_msec(took)}{normal}"
        if at is not None:
            return f"{node.unit} @{format_msec(at)}"
        return node.unit

    def walk(children: Sequence[ChainNode], level: int, branches: int) -> None:
        for i, child in enumerate(children):
            last = i == len(children) - 1
            prefix = "".join(
                vertical if branches & (1 << (k - 1)) else space for k in range(level, 0, -1)
            )
            lines.append(prefix + (right if last else branch) + text(child))
            more = (branches << 1) | (0 if last else 1)
            if child.repeated:
                sub = "".join(
                    vertical if more & (1 << (k - 1)) else space for k in range(level + 1, 0, -1)
                )
                lines.append(sub + right + "...")
            else:
                walk(child.children, level + 1, more)

    for root in roots:
        if root.timed:
            took = _usec(root.took)
            at = _usec(root.at)
            if took is not None:
                lines.append(f"{red}{root.unit} +{format_msec(took)}{normal}")
            elif at is not None:
                lines.append(f"{root.unit} @{format_msec(at)}")
            else:
                lines.append(root.unit)
        walk(root.children, 0, 0)
    return lines


def build_chain(
    name: str,
    times: Mapping[str, UnitTimes],
    boot: BootTimes,
    after: Callable[[str], Sequence[str]],
    fuzz: int = 0,
    visited: list[str] | None = None,
) -> tuple[ChainNode, ...]:
    """The children of ``name`` in its critical chain, ``after(unit)`` giving a unit's
    ``After=`` list (for tests and callers that have every list at hand; the bus-based
    code walks the same way, asking for each list as it goes)."""
    seen = [] if visited is None else visited
    seen.append(name)
    out = []
    for child in chain_children(after(name), times, boot, fuzz):
        at, took = chain_node_times(times.get(child), boot)
        node_at = None if at is None else _td(at)
        node_took = None if took is None else _td(took)
        if child in seen:
            out.append(ChainNode(child, node_at, node_took, (), True))
            continue
        kids = build_chain(child, times, boot, after, fuzz, seen)
        out.append(ChainNode(child, node_at, node_took, kids))
    return tuple(out)
