"""Time spans as systemd 252 parses and prints them (``TimeoutSec=``, ``systemctl show``).

``parse`` / ``format`` use :class:`~datetime.timedelta`, with None for
"infinity"; the ``*_usec`` primitives use integer microseconds with
:data:`USEC_INFINITY`, as D-Bus does::

    >>> from datetime import timedelta
    >>> from sysd import timespan
    >>> timespan.parse("1h 30min")
    datetime.timedelta(seconds=5400)
    >>> timespan.format(timedelta(seconds=90)), timespan.format(None)
    ('1min 30s', 'infinity')
    >>> timespan.parse_usec("infinity") == timespan.USEC_INFINITY
    True

Text that does not parse raises :class:`sysd.errors.InvalidTimespanError` (a ``ValueError``).
"""

from __future__ import annotations

from ._core.timespan import (
    NSEC_INFINITY,
    NSEC_PER_DAY,
    NSEC_PER_HOUR,
    NSEC_PER_MINUTE,
    NSEC_PER_MONTH,
    NSEC_PER_MSEC,
    NSEC_PER_SEC,
    NSEC_PER_USEC,
    NSEC_PER_WEEK,
    NSEC_PER_YEAR,
    USEC_INFINITY,
    USEC_PER_DAY,
    USEC_PER_HOUR,
    USEC_PER_MINUTE,
    USEC_PER_MONTH,
    USEC_PER_MSEC,
    USEC_PER_SEC,
    USEC_PER_WEEK,
    USEC_PER_YEAR,
    USEC_TIMESTAMP_FORMATTABLE_MAX,
    format,
    format_timestamp_utc,
    format_usec,
    parse,
    parse_nsec,
    parse_sec_def_infinity,
    parse_sec_fix_0,
    parse_usec,
    to_timedelta,
    to_usec,
    usec_add,
    usec_sub_signed,
    usec_sub_unsigned,
)

__all__ = [
    "NSEC_INFINITY",
    "NSEC_PER_DAY",
    "NSEC_PER_HOUR",
    "NSEC_PER_MINUTE",
    "NSEC_PER_MONTH",
    "NSEC_PER_MSEC",
    "NSEC_PER_SEC",
    "NSEC_PER_USEC",
    "NSEC_PER_WEEK",
    "NSEC_PER_YEAR",
    "USEC_INFINITY",
    "USEC_PER_DAY",
    "USEC_PER_HOUR",
    "USEC_PER_MINUTE",
    "USEC_PER_MONTH",
    "USEC_PER_MSEC",
    "USEC_PER_SEC",
    "USEC_PER_WEEK",
    "USEC_PER_YEAR",
    "USEC_TIMESTAMP_FORMATTABLE_MAX",
    "format",
    "format_timestamp_utc",
    "format_usec",
    "parse",
    "parse_nsec",
    "parse_sec_def_infinity",
    "parse_sec_fix_0",
    "parse_usec",
    "to_timedelta",
    "to_usec",
    "usec_add",
    "usec_sub_signed",
    "usec_sub_unsigned",
]
