"""A proxy's signal stream across a lost connection: ended with a typed error, or resumed.

systemd's private socket closes on every daemon-reexec, so a stream on it loses its
connection there.  With ``reconnect=False`` (the default) ``next()`` raises
BusDisconnectedError after the signals that came before; with ``reconnect=True`` it waits
for the connection's one reconnect, sets itself up again on the new connection and goes
on (``reconnects`` counts the gaps).  Cancelled at random points of that resume, it leaves
no handler behind and still resumes at the next ``next()``.  The same across a dbus-daemon
restart on the system bus is in test_events_dbus.py (its sandbox is the one that may
restart dbus).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

import pytest
from reliability_support import Units, open_fds, pending_tasks, run_bounded

import sysd
import sysd.aio

RAE = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"


def _state(signal: sysd.Signal) -> Any:
    return signal.args[1].get("ActiveState")


async def _until(changes: sysd.aio.Signals, state: str) -> None:
    while _state(await changes.next(timeout=30)) != state:
        pass


async def _resumed(changes: sysd.aio.Signals, n: int) -> None:
    """Drive the stream until it has resumed ``n`` times: only ``next()`` resumes it, so
    what systemd says between the loss and that ``next()`` is not heard (documented)."""
    end = time.monotonic() + 30
    while changes.reconnects < n:
        assert time.monotonic() < end, "the stream did not resume"
        with contextlib.suppress(sysd.BusTimeoutError):
            await changes.next(timeout=0.2)


def _toggle(name: str, verb: str) -> None:
    """start/stop ``name`` over a connection of its own (waits for the job)."""
    with sysd.connect(private=True) as ctl:
        unit = ctl.unit(name)
        unit.start() if verb == "start" else unit.stop()


def _reexec() -> None:
    with sysd.connect(private=True) as ctl:
        ctl.daemon_reexec()


def test_asyncio_stream_resumes_after_reexec_on_the_private_socket(units: Units) -> None:
    name = units.add("proxy", RAE)

    async def main() -> None:
        async with sysd.aio.connect(private=True) as sd:
            await sd.daemon_reload()
            p = await sd.proxy(None, (await sd.unit(name)).path)
            first = sd.bus
            handlers = len(first._handlers)
            async with p.unit.properties_changed(reconnect=True) as changes:
                await asyncio.to_thread(_toggle, name, "start")
                await _until(changes, "active")
                await asyncio.to_thread(_reexec)
                await _resumed(changes, 1)
                await asyncio.to_thread(_toggle, name, "stop")
                await _until(changes, "inactive")  # heard on the new connection
                assert changes.reconnects == 1 and changes.active
                assert sd.bus is not first and first.closed
                assert len(sd.bus._handlers) == handlers + 1
            assert not changes.active
            assert len(sd.bus._handlers) == handlers

    run_bounded(main(), 60)


def test_blocking_stream_resumes_after_reexec_on_the_private_socket(units: Units) -> None:
    name = units.add("proxy", RAE)
    with sysd.connect(private=True) as sd:
        sd.daemon_reload()
        p = sd.proxy(None, sd.unit(name).path)
        fds = open_fds()
        with p.unit.properties_changed(reconnect=5) as changes:
            assert changes.reconnect_limit == 5
            _reexec()
            end = time.monotonic() + 30
            while changes.reconnects < 1:  # only next() resumes the stream
                assert time.monotonic() < end, "the stream did not resume"
                with contextlib.suppress(sysd.BusTimeoutError):
                    changes.next(timeout=0.2)
            _toggle(name, "start")
            while _state(changes.next(timeout=30)) != "active":
                pass
            assert changes.reconnects == 1
        assert open_fds() == fds  # the lost connection's socket is closed, not leaked


def test_without_reconnect_the_stream_ends_with_the_typed_error(units: Units) -> None:
    name = units.add("proxy", RAE)

    async def main() -> None:
        async with sysd.aio.connect(private=True) as sd:
            await sd.daemon_reload()
            p = await sd.proxy(None, (await sd.unit(name)).path)
            async with p.unit.properties_changed() as changes:
                await asyncio.to_thread(_toggle, name, "start")
                await asyncio.to_thread(_reexec)
                # what came before the loss first, then the error: nothing silently missed
                await _until(changes, "active")
                with pytest.raises(sysd.BusDisconnectedError):
                    while True:
                        await changes.next(timeout=30)
                assert changes.reconnects == 0
            assert not changes.active

    run_bounded(main(), 60)


def test_a_bad_reconnect_option_is_refused_before_anything_is_sent() -> None:
    with sysd.connect(private=True) as sd:
        p = sd.proxy(None, "/org/freedesktop/systemd1")
        for bad in (0, -1, float("nan"), "yes", None):
            with pytest.raises(sysd.InvalidCallError, match="reconnect must be"):
                p.manager.signals("UnitNew", reconnect=bad)  # type: ignore[arg-type]


def test_cancelling_a_resume_at_random_points_leaves_nothing_and_resumes_later(
    units: Units,
) -> None:
    """A reexec under a waiting ``next()``, cancelled after a random delay (in the wait,
    the reconnect or the setup on the new connection): the stream is still entered,
    holds at most its one handler, and the next ``next()`` resumes and hears the unit."""
    name = units.add("proxy", RAE)
    rng = random.Random(1201)

    async def main() -> None:
        async with sysd.aio.connect(private=True) as sd:
            await sd.daemon_reload()
            p = await sd.proxy(None, (await sd.unit(name)).path)
            handlers = len(sd.bus._handlers)
            started = time.monotonic()
            await sd.daemon_reexec()  # sd reconnects as part of it
            took = time.monotonic() - started  # a whole reexec bounds the random points
            fds = open_fds()
            cut = 0
            for i in range(8):
                verb, want = ("start", "active") if i % 2 == 0 else ("stop", "inactive")
                async with p.unit.properties_changed(reconnect=True) as changes:
                    waiting = asyncio.create_task(changes.next(timeout=30))
                    reexec = asyncio.create_task(asyncio.to_thread(_reexec))
                    await asyncio.sleep(rng.uniform(0, took))
                    if waiting.cancel():
                        cut += 1
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiting
                    await reexec
                    assert changes.active
                    await _resumed(changes, 1)
                    await asyncio.to_thread(_toggle, name, verb)
                    await _until(changes, want)
                    assert sd.bus._handlers.count(changes._on_signal) == 1
                assert len(sd.bus._handlers) == handlers, f"round {i}"
            assert cut >= 4, cut
            assert open_fds() == fds
        assert pending_tasks() == set()

    run_bounded(main(), 120)
