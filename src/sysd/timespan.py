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

from ._core.timespan import *  # noqa: F403  (the public names, listed once in ._core.timespan)
from ._core.timespan import __all__ as __all__  # noqa: PLC0414  (re-exported)
