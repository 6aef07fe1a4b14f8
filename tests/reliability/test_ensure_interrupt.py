"""Interrupting ensure() at random points leaves nothing behind (issue 13).

ensure() holds job waits (subscription, pins, pending-job slots) and, with ``settle``,
an event stream; a cancelled task or a Ctrl-C anywhere (reading the state, a job wait,
the settle window) must leave no holder, no listener, no match rule, no task, no fd.
Afterwards the same connection still ensures.  Fixed seeds, bounded time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time

from reliability_support import (
    Units,
    interrupt_after,
    left_behind,
    match_rules,
    open_fds,
    pending_tasks,
    run_bounded,
)

import sysd
import sysd.aio

SLEEPER = "[Service]\nExecStart=/bin/sleep infinity\n"


def _nothing_left(sd: sysd.aio.AsyncSystemd | sysd.Systemd) -> list[str]:
    problems = left_behind(sd)
    if sd._subscription.listeners:
        problems.append(f"listeners {sd._subscription.listeners}")
    return problems


def test_cancelling_ensure_at_random_points_leaves_nothing(units: Units) -> None:
    name = units.add("enscancel", SLEEPER)
    with sysd.connect() as s:
        s.daemon_reload()
    rng = random.Random(1313)

    async def main() -> None:
        async with sysd.aio.connect(private=False) as sd:
            assert sd.bus.unique_name is not None
            fds = open_fds()
            rules = match_rules(sd.bus.unique_name)
            end = time.monotonic() + 20
            for i in range(30):
                if time.monotonic() > end:
                    break
                up = i % 2 == 0
                task = asyncio.create_task(
                    sd.ensure(name, active=up, settle=0.3 if up else None, daemon_reload=True)
                )
                await asyncio.sleep(rng.uniform(0, 0.05))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                assert _nothing_left(sd) == []
            # the same connection still works, and ends as asked
            [change] = await sd.ensure(name, active=True, settle=0.2)
            assert change.ok and change.after.active_state == "active"
            [change] = await sd.ensure(name, active=False)
            assert change.ok
            assert _nothing_left(sd) == []
            assert pending_tasks() == set()
            assert open_fds() == fds
            assert match_rules(sd.bus.unique_name) == rules

    run_bounded(main(), 90)


def test_ctrl_c_in_blocking_ensure_leaves_nothing(units: Units) -> None:
    name = units.add("ensint", SLEEPER)
    rng = random.Random(1314)
    with sysd.connect(private=False) as sd:
        sd.daemon_reload()
        assert sd.bus.unique_name is not None
        fds = open_fds()
        rules = match_rules(sd.bus.unique_name)
        interrupted = 0
        end = time.monotonic() + 20
        for i in range(30):
            if time.monotonic() > end:
                break
            up = i % 2 == 0
            try:
                with interrupt_after(rng.uniform(0, 0.05)):
                    sd.ensure(name, active=up, settle=0.3 if up else None)
            except KeyboardInterrupt:
                interrupted += 1
            assert _nothing_left(sd) == []
            assert match_rules(sd.bus.unique_name) == rules
        assert interrupted > 0
        [change] = sd.ensure(name, active=False)
        assert change.ok
        assert _nothing_left(sd) == []
        assert open_fds() == fds
