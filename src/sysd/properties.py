"""systemd's unit property language, as ``systemctl set-property`` and ``systemd-run -p`` speak it.

:func:`parse` turns ``Name=value`` assignments into the ``(name, signature, value)`` entries
systemd 252 puts on the bus for them -- the same renames, splits and checks, so a value that
systemd-run would refuse is refused here, before anything is sent::

    >>> from sysd.properties import parse, names
    >>> parse("service", "CPUQuota=20%")
    [Assignment(name='CPUQuotaPerSecUSec', signature='t', value=200000)]
    >>> [(a.name, a.value) for a in parse("service", "LimitNOFILE=1024:4096")]
    [('LimitNOFILE', 4096), ('LimitNOFILESoft', 1024)]
    >>> for a in parse("service", {"MemoryMax": 512 * 1024**2, "PrivateTmp": True}):
    ...     print(a)
    Assignment(name='MemoryMax', signature='t', value=536870912)
    Assignment(name='PrivateTmp', signature='b', value=True)
    >>> "CPUQuota" in names("timer")
    False

To send them, wrap each value: ``[(a.name, Variant(a.signature, a.value)) for a in ...]`` is the
``a(sv)`` argument of ``StartTransientUnit`` and ``SetUnitProperties``.

Errors are :class:`~sysd.errors.InvalidPropertyError` (a ``ValueError``) naming the property,
the value and what was expected.
"""

from __future__ import annotations

from ._core.properties import UNIT_TYPES, Assignment, names, parse

__all__ = ["UNIT_TYPES", "Assignment", "names", "parse"]
