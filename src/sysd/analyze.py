"""Where the boot's time went, as ``systemd-analyze`` shows it, as typed values.

Each function takes a connection (:func:`sysd.connect`) and asks the manager over D-Bus
what systemd-analyze 252 asks, then computes what it prints::

    import sysd
    import sysd.analyze

    with sysd.connect() as sd:
        print(sysd.analyze.startup_time(sd).userspace)
        for t in sysd.analyze.blame(sd)[:3]:
            print(t.unit, t.time)

* :func:`startup_time` -- ``systemd-analyze time``: each startup phase as a timedelta
  (None for a phase the manager has no timestamps for, as in a container), and when the
  default target was reached;
* :func:`blame` -- ``systemd-analyze blame``: the units that took time to start,
  longest first;
* :func:`critical_chain` -- ``systemd-analyze critical-chain``: the tree of units each
  unit waited for, as :class:`ChainNode` records;
* :func:`plot` -- ``systemd-analyze plot``: an SVG picture of the startup;
* :func:`security` -- ``systemd-analyze security``: each service's exposure score and
  the findings of every check;
* :func:`verify` -- ``systemd-analyze verify``, offline: unit files checked as systemd 252
  parses them, with no manager, bus or root (no connection argument), as a
  :class:`LintReport` of :class:`LintFinding` records.

The first four raise :class:`sysd.errors.BootNotFinishedError` while the manager is still starting
up.  The asyncio twins are in ``sysd.aio.analyze``, with the same names.
"""

from __future__ import annotations

from ._core.analyze import ChainNode, StartupTime, UnitTime
from ._core.analyze_security import Finding, SecurityReport
from ._core.lint import LintFinding, LintReport
from ._sync.analyze import blame, critical_chain, plot, security, startup_time, verify

__all__ = [
    "ChainNode",
    "Finding",
    "LintFinding",
    "LintReport",
    "SecurityReport",
    "StartupTime",
    "UnitTime",
    "blame",
    "critical_chain",
    "plot",
    "security",
    "startup_time",
    "verify",
]
