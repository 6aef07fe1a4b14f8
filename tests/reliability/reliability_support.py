"""What the reliability scenarios check with: the bus's match-rule count, open fds,
throwaway units.  A module of its own (not conftest.py): tests/systemd has a conftest too,
and ``from conftest import ...`` would get whichever was imported first.
"""

from __future__ import annotations

import asyncio
import contextlib
import dis
import gc
import linecache
import os
import signal
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import sysd

# What start()/run() import on first use, imported here: an interrupt the tests raise
# inside an import (under pytest, inside its assertion rewriting's compile()) is about
# the import system, not about sysd.
import sysd._async.job
import sysd._async.run
import sysd._async.watch
import sysd._core.calendar
import sysd._core.properties
import sysd._core.status
import sysd._sync.job
import sysd._sync.run
import sysd._sync.watch
import sysd.aio
from sysd._interrupt import CriticalSection

RUNTIME_UNITS = Path("/run/systemd/system")


def match_rules(unique_name: str, address: str | None = None) -> int:
    """How many match rules dbus-daemon holds for the connection ``unique_name`` (on the
    system bus, or the bus at ``address``)."""
    with sysd.connect(private=False, address=address) as probe:
        stats = probe.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.Debug.Stats",
            "GetConnectionStats",
            "s",
            (unique_name,),
        )
    count = int(stats["MatchRules"])
    if count:
        try:
            rules = probe_rules(unique_name, address)
        except sysd.DBusError:
            rules = []
        print(f"match rules of {unique_name}: {rules}")
    return count


def manager_name() -> str:
    """systemd's unique name on the system bus right now (a reexec gives it a new one)."""
    with sysd.connect(private=False) as probe:
        owner: str = probe.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "GetNameOwner",
            "s",
            ("org.freedesktop.systemd1",),
        )
    return owner


def probe_rules(unique_name: str, address: str | None = None) -> list[str]:
    with sysd.connect(private=False, address=address) as probe:
        every = probe.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.Debug.Stats",
            "GetAllMatchRules",
        )
    return list(every.get(unique_name, []))


def rss_kib() -> int:
    """This process's resident set size (VmRSS, KiB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Units:
    """Throwaway unit files in /run/systemd/system (removed, and the units reset, after)."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.names: list[str] = []

    def add(self, stem: str, text: str) -> str:
        name = f"sysdr-{stem}-{self.tag}.service"
        (RUNTIME_UNITS / name).write_text(text)
        self.names.append(name)
        return name

    def name(self, stem: str) -> str:
        """A name for a transient unit of this test (stopped at cleanup)."""
        name = f"sysdr-{stem}-{self.tag}.service"
        self.names.append(name)
        return name

    def cleanup(self) -> None:
        with sysd.connect() as sd:
            for name in self.names:
                try:
                    sd.manager_call("StopUnit", "ss", (name, "replace"))
                except sysd.DBusError:
                    pass
                try:
                    sd.manager_call("ResetFailedUnit", "s", (name,))
                except sysd.DBusError:
                    pass
                (RUNTIME_UNITS / name).unlink(missing_ok=True)
            sd.daemon_reload()


def oneshot(cmd: str) -> str:
    return f"[Service]\nType=oneshot\nExecStart={cmd}\n"


def left_behind(sd: sysd.aio.AsyncSystemd | sysd.Systemd) -> list[str]:
    """What a connection's subscription still holds: nothing, once every user left."""
    sub = sd._subscription
    problems = []
    if sub.holders:
        problems.append(f"{sub.holders} subscription holders")
    if sub.active:
        problems.append("still subscribed")
    if sub.watched:
        problems.append(f"watch entries {sorted(sub.watched)}")
    if sub.pending_jobs:
        problems.append(f"{sub.pending_jobs} pending jobs counted")
    if sub.pins:
        problems.append(f"{sub.pins} pins counted")
    return problems


def run_bounded(main: Coroutine[Any, Any, None], limit: float) -> None:
    """asyncio.run(main) within ``limit`` seconds (in the same task: no extra one)."""

    async def bounded() -> None:
        async with asyncio.timeout(limit):
            await main

    asyncio.run(bounded())


async def steps_to_finish(task: asyncio.Task[Any]) -> int:
    """How many event-loop iterations ``task`` takes to finish from now (one
    ``asyncio.sleep(0)`` each).  Cancelling after fewer lands inside it whatever the
    machine's speed, which a wall-clock sleep cannot promise: asyncio rounds a timer up
    to the millisecond, longer than a call on the private socket takes."""
    steps = 0
    while not task.done():
        await asyncio.sleep(0)
        steps += 1
    return steps


def pending_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


@contextlib.contextmanager
def interrupt_after(seconds: float) -> Iterator[None]:
    """Deliver a SIGINT to this (the main) thread after ``seconds``, as Ctrl-C does.

    A timer (SIGALRM) calls whatever handles SIGINT at that moment, at the point
    where Python would run it for a real Ctrl-C: the default handler raises
    KeyboardInterrupt there, and inside one of sysd's critical sections
    (sysd/_interrupt.py) the deferring handler holds it back until the section ends.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        sigint = signal.getsignal(signal.SIGINT)
        if callable(sigint):
            sigint(signal.SIGINT, frame)

    # no collection in the window: an interrupt inside a gc callback (hypothesis installs
    # one) is "ignored" by Python and reported by pytest, not raised where sysd runs
    collecting = gc.isenabled()
    gc.disable()
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6))
    try:
        yield
    finally:
        try:  # the one alarm may still land here: what follows runs anyway
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, old)
            if collecting:
                gc.enable()


def raised_where(exc: BaseException) -> tuple[str, bool]:
    """Where an interrupt was raised: the innermost frame (``file:function:line``) and
    whether that was a sysd function's first instruction (its RESUME, where CPython checks
    for signals).  That window is the one sysd/_interrupt.py cannot close: a Ctrl-C
    arriving as a release/undo function begins is raised before its critical section."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    # the test's SIGALRM handler (interrupt_after) calls SIGINT's: the frame it interrupted
    # is the one below it
    while frames and frames[-1].tb_frame.f_code.co_filename == __file__:
        frames.pop()
    if not frames:
        return "?", False
    tb = frames[-1]
    code = tb.tb_frame.f_code
    where = f"{Path(code.co_filename).name}:{code.co_name}:{tb.tb_lineno}"
    at_entry = "/sysd/" in code.co_filename and tb.tb_lineno == code.co_firstlineno
    # the same window, a few instructions on: the function's first statement is its
    # ``with CriticalSection():`` and the check after the call that made the section came
    # first, or inside the section's __enter__ before it has swapped SIGINT's handler
    # (CPython checks for signals after each call)
    at_entry = at_entry or code is CriticalSection.__enter__.__code__
    if not at_entry and "/sysd/" in code.co_filename and tb.tb_lineno == _first_line(code):
        text = linecache.getline(code.co_filename, tb.tb_lineno).strip()
        at_entry = text.startswith("with CriticalSection()")
    return where, at_entry


def _first_line(code: CodeType) -> int | None:
    """The line of a function's first statement (its first instruction after RESUME)."""
    for ins in dis.get_instructions(code):
        if ins.opname not in (
            "RESUME",
            "COPY_FREE_VARS",
            "MAKE_CELL",
            "RETURN_GENERATOR",
            "POP_TOP",
        ):
            return ins.positions.lineno if ins.positions else None
    return None


def repair_entry_window(sd: sysd.Systemd) -> None:
    """Undo what an interrupt at a release function's entry left (blocking flavour):
    the watch entries, holders, job and pin slots it did not let go of (called between
    rounds, when nothing is under way: every count belongs at zero)."""
    sub = sd._subscription
    for path in list(sub.watched):
        while path in sub.watched:
            sub.unwatch(path)
    while sub.holders:
        sub.release()
    while sub.jobs.used > 0:
        sub.jobs.release()
    while sub.pin_slots.used > 0:
        sub.pin_slots.release()
    with sub.counts:
        pinned, sub.pinned = dict(sub.pinned), {}
        sub.queueing = 0
    for path, count in pinned.items():  # systemd's Refs the skipped undo did not drop
        for _ in range(count):
            sd._unref(path)  # (errors: ignored by it)
