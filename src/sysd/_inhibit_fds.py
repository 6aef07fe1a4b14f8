"""Bookkeeping of logind inhibitor lock fds, shared by both flavours of sysd.login.

An inhibitor lives as long as some process holds the write end of its FIFO
(``/run/systemd/inhibit/N.ref``); logind hands it over in the reply to ``Inhibit()``.
If a Ctrl-C or a cancellation lands after the reply was read but before sysd stored the
fd, that fd would keep the lock until the process exits.  So each acquisition notes the
inhibitor fds open before it; when one fails, the fds that appeared since and that no
:class:`Inhibitor` claims are closed — once no other acquisition is in flight, so that
an fd on its way to another one is never taken for lost.
"""

from __future__ import annotations

import os
import threading

__all__ = ["begin", "claim", "end", "failed", "inhibitor_fds", "unclaim"]

INHIBIT_DIR = "/run/systemd/inhibit/"

_lock = threading.Lock()
_in_flight = 0
_claimed: set[int] = set()
_pending: set[int] = set()


def inhibitor_fds() -> frozenset[int]:
    """This process's fds on an inhibitor FIFO (empty where /proc is not readable)."""
    found = set()
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return frozenset()
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith(INHIBIT_DIR):
                found.add(int(name))
        except (OSError, ValueError):
            continue
    return frozenset(found)


def begin() -> frozenset[int]:
    """An acquisition starts: the inhibitor fds open now."""
    global _in_flight
    with _lock:
        _in_flight += 1
    return inhibitor_fds()


def claim(fd: int) -> None:
    with _lock:
        _claimed.add(fd)
        _pending.discard(fd)


def unclaim(fd: int) -> None:
    with _lock:
        _claimed.discard(fd)


def failed(before: frozenset[int]) -> None:
    """An acquisition failed: the inhibitor fds that appeared since, unclaimed, are lost."""
    lost = inhibitor_fds() - before
    with _lock:
        _pending.update(lost - _claimed)


def end() -> None:
    """An acquisition is over: with none in flight, close the lost fds (still unclaimed
    and still on an inhibitor FIFO: the number may have been reused meanwhile)."""
    global _in_flight
    with _lock:
        _in_flight -= 1
        if _in_flight or not _pending:
            return
        lost = _pending - _claimed
        _pending.clear()
    still = inhibitor_fds()
    for fd in lost & still:
        try:
            os.close(fd)
        except OSError:
            pass
