r"""Unit names as systemd 252 makes and reads them: escaping, templates, slices, paths.

Pure string functions, no bus needed::

    >>> from sysd import unitname
    >>> unitname.escape("My Container 1")
    'My\\x20Container\\x201'
    >>> unitname.replace_instance("systemd-nspawn@.service", unitname.escape("My Container 1"))
    'systemd-nspawn@My\\x20Container\\x201.service'
    >>> unitname.from_path("/home/lennart", ".mount")
    'home-lennart.mount'
    >>> unitname.mangle("sshd"), unitname.instance("getty@tty1.service")
    ('sshd.service', 'tty1')

Invalid input raises :class:`sysd.errors.InvalidUnitNameError` (a ``ValueError``).
"""

from __future__ import annotations

from ._core.unitname import *  # noqa: F403  (the public names, listed once in ._core.unitname)
from ._core.unitname import __all__ as __all__  # noqa: PLC0414  (re-exported)
