"""Bookkeeping of logind inhibitor lock fds, shared by both flavours of sysd.login.

An inhibitor lives as long as some process holds the write end of its FIFO
(``/run/systemd/inhibit/N.ref``); logind hands it over in the reply to ``Inhibit()``.
If a Ctrl-C or a cancellation lands after the reply was read but before sysd stored the
fd, that fd would keep the lock until the process exits.  So each acquisition notes the
inhibitor fds open before it; when one fails, the fds that appeared since and that no
``Inhibitor`` claims are lost, and closed once no acquisition is in flight (so that an fd
on its way to another acquisition is never taken for lost).

The sets are changed with single C-level calls (``set.add``/``discard``/``pop``): a
KeyboardInterrupt is raised between bytecodes, never halfway through one of those.
"""

from __future__ import annotations

import os

__all__ = ["CLAIMED", "IN_FLIGHT", "failed", "inhibitor_fds", "sweep"]

INHIBIT_DIR = "/run/systemd/inhibit/"

IN_FLIGHT: set[object] = set()  # one token per acquisition under way
CLAIMED: set[int] = set()  # fds owned by a held Inhibitor
_LOST: set[int] = set()  # fds found orphaned, to close when nothing is in flight


def _is_lock(fd: int) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}").startswith(INHIBIT_DIR)
    except OSError:
        return False


def inhibitor_fds() -> frozenset[int]:
    """This process's fds on an inhibitor FIFO (empty where /proc is not readable)."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return frozenset()
    return frozenset(int(n) for n in names if n.isdigit() and _is_lock(int(n)))


def failed(before: frozenset[int]) -> None:
    """An acquisition failed: inhibitor fds that appeared since and nobody claims are lost."""
    _LOST.update(inhibitor_fds() - before - CLAIMED)


def sweep() -> None:
    """Close the lost fds (still unclaimed, still on an inhibitor FIFO) when no acquisition
    is in flight; an interrupted sweep leaves the rest to the next one."""
    while _LOST and not IN_FLIGHT:
        fd = _LOST.pop()
        if fd not in CLAIMED and _is_lock(fd):
            try:
                os.close(fd)
            except OSError:
                pass
