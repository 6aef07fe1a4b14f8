"""Ctrl-C at every line of opening a connection leaves no socket, fd or helper behind;
at every line of sending, no call sent twice.

A CI run of the suite once failed on ``ResourceWarning: unclosed <socket.socket ...>``
collected in the middle of an unrelated test: a socket that had been created and then
dropped without ``close()`` when a KeyboardInterrupt cut the open before a connection
owned it (``open_blocking`` only closed it on ``OSError``).  Random timers find such a
window once in hundreds of runs; here a trace function raises KeyboardInterrupt at the
n-th line sysd executes while opening, for every n until one open completes, so each
window is hit once, deterministically (a line inside one of sysd's critical sections
moves the cut to the section's end, where a real SIGINT would land).  After each round:
no ResourceWarning when the garbage is collected, the fd count back where it was, no
helper process left.
"""

from __future__ import annotations

import gc
import os
import sys
import warnings
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest
from reliability_support import open_fds, probe_rules

import sysd
import sysd.aio
from sysd import _interrupt
from sysd._bus.address import unixexec_address

SYSD = os.path.dirname(sysd.__file__) + os.sep
INTERRUPT = _interrupt.__file__  # the sections' own lines: see sysd/_interrupt.py
LIMIT = 4000  # lines of an open: far more than one takes (a few hundred)


class _Cut:
    """A trace function that raises KeyboardInterrupt at sysd's ``at``-th line."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.seen = 0
        self.fired = False
        self.where = "-"
        self.armed = True  # cleared once the open returned: closing is not under test

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Any:
        if not frame.f_code.co_filename.startswith(SYSD):
            return None  # not into the stdlib's or dbus-fast's frames
        return self._line

    def _line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event != "line" or self.fired or not self.armed:
            return self._line
        if frame.f_code.co_filename == INTERRUPT:
            return self._line
        self.seen += 1
        # inside a critical section a real SIGINT waits for its end: so does this one
        if self.seen >= self.at and not _interrupt._state.depth:
            self.fired = True
            self.where = f"{frame.f_code.co_filename[len(SYSD) :]}:{frame.f_lineno}"
            raise KeyboardInterrupt(f"line {self.at}")
        return self._line


def _children() -> set[int]:
    path = f"/proc/{os.getpid()}/task/{os.getpid()}/children"
    with open(path) as f:
        return {int(p) for p in f.read().split()}


def _each_line(open_once: Callable[[_Cut], Any], close: Callable[[Any], None]) -> int:
    # the rest of the suite's objects out of the collector's way: each round's collection
    # then looks at what the round made (a full one per round took minutes in the suite)
    gc.collect()
    gc.freeze()
    try:
        return _rounds(open_once, close)
    finally:
        gc.unfreeze()


def _rounds(open_once: Callable[[_Cut], Any], close: Callable[[Any], None]) -> int:
    fds, children = open_fds(), _children()
    for at in range(1, LIMIT):
        cut = _Cut(at)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = None
            sys.settrace(cut)
            try:
                result = open_once(cut)
            except KeyboardInterrupt:
                pass
            finally:
                sys.settrace(None)
            if result is not None:
                close(result)
            gc.collect()
        where = f"cut at sysd's line {at} ({cut.where})"
        leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
        assert leaks == [], f"{where}: {leaks}"
        assert open_fds() == fds, where
        assert _children() <= children, where
        if not cut.fired:
            return at  # the open ran to its end: every line was cut once
    raise AssertionError(f"an open took more than {LIMIT} lines")


TARGETS: dict[str, dict[str, Any]] = {
    "bus": {"private": False},
    "private": {"private": True},
    "unixexec": {"address": unixexec_address(["systemd-stdio-bridge"])},
}


@pytest.mark.parametrize("target", list(TARGETS))
def test_ctrl_c_at_every_line_of_a_blocking_open(target: str) -> None:
    kwargs = TARGETS[target]
    lines = _each_line(lambda cut: sysd.connect(**kwargs), lambda sd: sd.close())
    print(f"{target}: cut at each of {lines - 1} lines")
    assert lines > 20


@pytest.mark.parametrize("target", list(TARGETS))
def test_ctrl_c_at_every_line_of_an_asyncio_open(target: str) -> None:
    # KeyboardInterrupt, not cancellation: under loop.run_until_complete (not asyncio.run)
    # the default SIGINT handler raises it in whichever coroutine runs
    import asyncio

    kwargs = TARGETS[target]

    async def open_and_close(cut: _Cut) -> bool:
        sd = await sysd.aio.connect(**kwargs)
        cut.armed = False
        await sd.aclose()
        return True

    lines = _each_line(lambda cut: asyncio.run(open_and_close(cut)), lambda _: None)
    print(f"{target}: cut at each of {lines - 1} lines")
    assert lines > 20


def test_ctrl_c_at_every_line_of_a_blocking_batch_sends_each_call_at_most_once() -> None:
    """Sending, too: a KeyboardInterrupt right after ``sock.send()`` returned lost how much
    was sent, and the next flush sent the message again (found by the unwaited-jobs Ctrl-C
    test: an AddMatch twice, one rule left behind).  Cut at every line of a batch of
    AddMatch calls on the system bus: the connection still works after each cut, and the
    bus holds every rule at most once."""
    with sysd.connect(private=False) as sd:
        bus = sd.bus
        assert bus.unique_name is not None
        name = bus.unique_name
        dbus = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
        before = probe_rules(name)
        fds = open_fds()
        for at in range(1, LIMIT):
            rules = [f"type='signal',path='/org/sysd/cut{at}/r{i}'" for i in range(8)]
            batch = [(*dbus, "AddMatch", "s", (rule,)) for rule in rules]
            cut = _Cut(at)
            sys.settrace(cut)
            try:
                bus.call_many(batch)
            except KeyboardInterrupt:
                pass
            finally:
                sys.settrace(None)
            assert bus.call(*dbus, "GetId")  # the stream is whole: this call's reply comes back
            now = probe_rules(name)
            mine = [r for r in now if "/org/sysd/cut" in r]
            where = f"cut at sysd's line {at} ({cut.where})"
            assert len(mine) == len(set(mine)), f"{where}: a call sent twice: {mine}"
            for rule in set(mine):
                bus.call(*dbus, "RemoveMatch", "s", (rule,))
            assert sorted(probe_rules(name)) == sorted(before), where
            if not cut.fired:
                break
        else:
            raise AssertionError(f"a batch took more than {LIMIT} lines")
        assert open_fds() == fds
