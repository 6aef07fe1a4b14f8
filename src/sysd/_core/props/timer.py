"""Timers: ``bus_append_timer_property()``."""

from __future__ import annotations

from typing import Final

from ._c import dbus_str
from ._kit import Assignment, Handler, Out, boolean, parse_sec, sec_rename

__all__ = ["HANDLERS"]


def monotonic(out: Out, field: str, eq: str) -> None:
    """OnActiveSec= & co -> ``TimersMonotonic`` ``a(st)`` of (base, microseconds)."""
    value = [(field, parse_sec(eq))] if eq else []
    out.append(Assignment("TimersMonotonic", "a(st)", value))


def calendar(out: Out, field: str, eq: str) -> None:
    """OnCalendar= -> ``TimersCalendar`` ``a(ss)``; the server checks the expression."""
    value = [(field, dbus_str(eq))] if eq else []
    out.append(Assignment("TimersCalendar", "a(ss)", value))


HANDLERS: Final[dict[str, Handler]] = {
    **dict.fromkeys(
        ("WakeSystem", "RemainAfterElapse", "Persistent", "OnTimezoneChange", "OnClockChange",
         "FixedRandomDelay"),
        boolean,
    ),
    "AccuracySec": sec_rename,
    "RandomizedDelaySec": sec_rename,
    **dict.fromkeys(
        ("OnActiveSec", "OnBootSec", "OnStartupSec", "OnUnitActiveSec", "OnUnitInactiveSec"),
        monotonic,
    ),
    "OnCalendar": calendar,
}  # fmt: skip
