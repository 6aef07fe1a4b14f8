"""systemd calendar specifications (``OnCalendar=``), exactly as systemd 252.

Parse, normalise and compute elapses without talking to systemd::

    >>> from datetime import datetime, timezone
    >>> from sysd.calendar import CalendarSpec
    >>> spec = CalendarSpec.parse("Mon..Fri 9:00 UTC")
    >>> str(spec)
    'Mon..Fri *-*-* 09:00:00 UTC'
    >>> spec.next_elapse(datetime(2024, 1, 5, 12, 0, tzinfo=timezone.utc))
    datetime.datetime(2024, 1, 8, 9, 0, tzinfo=datetime.timezone.utc)

Specs without a time zone are evaluated in the local zone ($TZ, else
/etc/localtime), including systemd's handling of daylight-saving
transitions.  Invalid input raises :class:`sysd.errors.InvalidCalendarSpecError`.
"""

from __future__ import annotations

from ._core.calendar import (
    USEC_PER_SEC,
    CalendarComponent,
    CalendarSpec,
    format_timestamp,
    format_timestamp_relative,
    in_utc_timezone,
    local_timezone_names,
)

__all__ = [
    "USEC_PER_SEC",
    "CalendarComponent",
    "CalendarSpec",
    "format_timestamp",
    "format_timestamp_relative",
    "in_utc_timezone",
    "local_timezone_names",
]
