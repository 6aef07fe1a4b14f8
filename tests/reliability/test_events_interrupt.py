"""Interrupting event streams and waits at random points leaves nothing (issue 12).

A stream holds the connection's one subscription and a listener on it; a cancelled
task or a Ctrl-C anywhere (entering, reading, resyncing, leaving) must leave no holder,
no listener, no match rule on the bus (dbus-daemon's own count), no task.  Afterwards a
second stream on the same connection still sees what happens.  Fixed seeds, bounded time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time

import pytest
from reliability_support import (
    Units,
    interrupt_after,
    left_behind,
    match_rules,
    open_fds,
    pending_tasks,
    raised_where,
    repair_entry_window,
    run_bounded,
)

import sysd
import sysd.aio
from sysd import UnitChanged

RAE = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"


def _nothing_left(sd: sysd.aio.AsyncSystemd | sysd.Systemd) -> list[str]:
    problems = left_behind(sd)
    if sd._subscription.listeners:
        problems.append(f"listeners {sd._subscription.listeners}")
    return problems


@pytest.mark.parametrize("private", [False, True], ids=["bus", "private"])
def test_cancelling_streams_and_waits_at_random_points_leaves_nothing(
    units: Units, private: bool
) -> None:
    name = units.add("evcancel", RAE)
    with sysd.connect() as s:
        s.daemon_reload()
    rng = random.Random(1212)

    async def toggling(sd: sysd.aio.AsyncSystemd, stop: asyncio.Event) -> None:
        unit = await sd.unit(name)
        while not stop.is_set():
            await unit.start()
            await unit.stop()

    async def main() -> None:
        async with sysd.aio.connect(private=private) as sd, sysd.aio.connect() as ctl:
            fds = open_fds()
            rules = match_rules(sd.bus.unique_name) if not private else 0
            stop = asyncio.Event()
            busy = asyncio.create_task(toggling(ctl, stop))

            async def consume() -> None:
                async with sd.events(patterns=["sysdr-evcancel-*"]) as stream:
                    async for _event in stream:
                        pass

            unit = await sd.unit(name)
            makers = [
                consume,
                lambda: unit.wait_for(active_state="failed"),
                lambda: sd.wait_for_units([name], "failed"),
            ]
            end = time.monotonic() + 20
            for i in range(45):
                if time.monotonic() > end:
                    break
                task = asyncio.create_task(makers[i % 3]())  # type: ignore[operator]
                await asyncio.sleep(rng.uniform(0, 0.01))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                assert _nothing_left(sd) == []
            stop.set()
            await busy
            # a second stream on the same connection still hears what happens
            async with sd.events(units=[name]) as stream:
                await ctl.manager_call("StartUnit", "ss", (name, "replace"))
                async with asyncio.timeout(30):
                    async for event in stream:
                        if isinstance(event, UnitChanged) and event.active_state == "active":
                            break
            await ctl.manager_call("StopUnit", "ss", (name, "replace"))
            assert _nothing_left(sd) == []
            assert pending_tasks() == set()
            assert open_fds() == fds
            if not private:
                assert sd.bus.unique_name is not None
                assert match_rules(sd.bus.unique_name) == rules

    run_bounded(main(), 90)


def test_ctrl_c_in_a_blocking_stream_leaves_no_match_rule(units: Units) -> None:
    name = units.add("evsigint", RAE)
    rng = random.Random(1213)
    with sysd.connect(private=False) as sd, sysd.connect() as ctl:
        sd.daemon_reload()
        assert sd.bus.unique_name is not None
        fds = open_fds()
        rules = match_rules(sd.bus.unique_name)
        interrupted = 0
        window: list[str] = []  # rounds cut at a release function's first instruction
        end = time.monotonic() + 20
        for i in range(40):
            if time.monotonic() > end:
                break
            if i % 4 == 0:  # something to read now and then
                ctl.manager_call("StartUnit" if i % 8 else "StopUnit", "ss", (name, "replace"))
            where, at_entry = "-", False
            try:
                with interrupt_after(rng.uniform(0, 0.01)):
                    if i % 2:
                        with sd.events(units=[name]) as stream:
                            for _event in stream:
                                pass
                    else:
                        sd.unit(name).wait_for(active_state="failed")
            except KeyboardInterrupt as exc:
                interrupted += 1
                where, at_entry = raised_where(exc)
            left = _nothing_left(sd)
            if left and at_entry:  # the one window sysd/_interrupt.py leaves open
                window.append(f"{where}: {left}")
                for listener in list(sd._subscription.listeners):
                    sd._subscription.remove_listener(listener)
                repair_entry_window(sd)
                left = _nothing_left(sd)
            assert left == [], f"interrupted at {where}"
            assert match_rules(sd.bus.unique_name) == rules, f"interrupted at {where}"
        print(f"rounds cut at a function's entry: {window}")
        assert len(window) <= 3, window
        assert interrupted > 10
        assert open_fds() == fds
