"""The timers view: what ``systemctl list-timers`` shows, as typed records."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from .._core.systemd1 import MANAGER_INTERFACE, MANAGER_PATH, TIMER_INTERFACE, UNIT_INTERFACE
from .._core.timespan import USEC_INFINITY
from .._core.unitname import mangle, to_dbus_path

if TYPE_CHECKING:
    from .systemd import AsyncSystemd


__all__ = ["TimerInfo", "clock_pair", "list_timers"]


class TimerInfo(NamedTuple):
    """One timer: what it activates, when it fires next and when it last did."""

    timer: str
    activates: tuple[str, ...]
    next_elapse: datetime | None  # None: no next elapse (e.g. a fired OnActiveSec= timer)
    last_trigger: datetime | None  # None: never triggered
    left: timedelta | None  # until next_elapse, from when the list was made
    passed: timedelta | None  # since last_trigger
    next_elapse_usec: int  # what systemctl sorts by (0 when unset, USEC_INFINITY: never)
    last_trigger_usec: int


def next_elapse_usec(realtime: int, monotonic: int, now_realtime: int, now_monotonic: int) -> int:
    """systemctl's calc_next_elapse(): the monotonic deadline in wall-clock time, or the
    calendar one, whichever comes first."""
    if monotonic and monotonic != USEC_INFINITY:
        if monotonic > now_monotonic:
            converted = now_realtime + (monotonic - now_monotonic)
        else:
            converted = now_realtime - (now_monotonic - monotonic)
        if realtime and realtime != USEC_INFINITY:
            return min(converted, realtime)
        return converted
    return realtime


def clock_pair(properties: Iterable[dict[str, Any]]) -> tuple[int, int] | None:
    """The freshest (realtime, monotonic) µs pair among the dual timestamps in
    ``properties`` (``FooTimestamp`` with ``FooTimestampMonotonic``, ``LastTriggerUSec``
    with ``LastTriggerUSecMonotonic``): the peer's wall clock at one of its monotonic
    instants.  None when there is none."""
    best: tuple[int, int] | None = None
    for props in properties:
        for name, value in props.items():
            if not name.endswith("Monotonic") or not isinstance(value, int):
                continue
            realtime = props.get(name[: -len("Monotonic")])
            if not isinstance(realtime, int) or not 0 < realtime < USEC_INFINITY:
                continue
            if 0 < value < USEC_INFINITY and (best is None or value > best[1]):
                best = (realtime, value)
    return best


async def _clocks(sd: AsyncSystemd, timer_props: list[dict[str, Any]]) -> tuple[int, int]:
    """(realtime, monotonic) "now" to put monotonic elapses on the wall clock with.

    systemctl reads this machine's clocks, right for the local manager only: another
    machine's monotonic clock counts from its own boot.  For a manager reached over
    ssh, in a container or at an address, the manager's own clocks are taken: the
    freshest pair of timestamps it recorded (its dual timestamps, reload times and the
    timers' last triggers), realtime and monotonic read together on that machine.
    """
    if sd.target.scope not in ("system", "user"):
        manager = await sd.get_all(MANAGER_PATH, MANAGER_INTERFACE)
        pair = clock_pair([manager, *timer_props])
        if pair is not None:
            return pair
    return (
        time.clock_gettime_ns(time.CLOCK_REALTIME) // 1000,
        time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000,
    )


def _dt(usec: int) -> datetime | None:
    if not usec or usec == USEC_INFINITY:
        return None
    return datetime.fromtimestamp(usec / 1e6, UTC)


async def list_timers(
    sd: AsyncSystemd, *, all: bool = False, patterns: Sequence[str] = ()
) -> list[TimerInfo]:
    """Timer units in next-elapse order, as ``systemctl list-timers [--all] [PATTERN...]``.

    ``patterns``: unit names or globs, a bare name meaning ``NAME.timer`` (as systemctl
    mangles them); none: every timer.  Without ``all``, inactive timers without a
    pending job and timers that follow another unit are left out.
    """
    globs = [mangle(p, ".timer", glob=True) for p in patterns] or ["*.timer"]
    rows = await sd.manager_call("ListUnitsByPatterns", "asas", ([], globs))
    found: list[tuple[str, dict[str, Any], list[str]]] = []
    for name, _desc, _load, active, _sub, following, unit_path, job_id, *_job in rows:
        if not name.endswith(".timer"):
            continue
        if not all and (following or (active == "inactive" and not job_id)):
            continue
        path = unit_path or to_dbus_path(name)
        props = await sd.get_all(path, TIMER_INTERFACE)
        triggers = await sd.get_property(path, UNIT_INTERFACE, "Triggers")
        found.append((name, props, triggers))
    clock_realtime, clock_monotonic = await _clocks(sd, [props for _, props, _ in found])
    now_realtime = time.clock_gettime_ns(time.CLOCK_REALTIME) // 1000  # LEFT, PASSED
    out = []
    for name, props, triggers in found:
        nxt = next_elapse_usec(
            props.get("NextElapseUSecRealtime", 0),
            props.get("NextElapseUSecMonotonic", 0),
            clock_realtime,
            clock_monotonic,
        )
        last = props.get("LastTriggerUSec", 0)
        if last == USEC_INFINITY:
            last = 0
        out.append(
            TimerInfo(
                timer=name,
                activates=tuple(triggers),
                next_elapse=_dt(nxt),
                last_trigger=_dt(last),
                left=timedelta(microseconds=nxt - now_realtime) if _dt(nxt) else None,
                passed=timedelta(microseconds=now_realtime - last) if last else None,
                next_elapse_usec=nxt,
                last_trigger_usec=last,
            )
        )
    out.sort(key=lambda t: (t.next_elapse_usec, t.timer))
    return out
