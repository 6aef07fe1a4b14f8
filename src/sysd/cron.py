"""Translate crontab schedules into systemd timers.

    >>> from sysd.cron import to_calendar, explain
    >>> to_calendar("*/15 9-17 * * 1-5")
    ['Mon..Fri *-*-* 09..17:00/15:00']
    >>> to_calendar("0 0 1 * 1")      # cron: the 1st OR a Monday -> two lines
    ['Mon *-*-* 00:00:00', '*-*-01 00:00:00']
    >>> explain("30 4 * * 1-5")
    'At 04:30 on Monday through Friday.'

5-field expressions, or 6 fields with seconds first; ``@daily`` and friends.
``@reboot`` raises :class:`sysd.errors.InvalidCronExpressionError` pointing
at ``OnBootSec=``.  :func:`timer_unit` writes the ``.timer`` (and
``.service``) that replaces a crontab line.
"""

from __future__ import annotations

from ._core.cron import CronExpression, calendar_next_fires, explain, timer_unit, to_calendar

__all__ = [
    "CronExpression",
    "calendar_next_fires",
    "explain",
    "timer_unit",
    "to_calendar",
]
