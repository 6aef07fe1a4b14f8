"""Interrupting a batch of calls (``call_many``) at random points leaves nothing behind.

A batch larger than the in-flight window has calls answered, calls unanswered and calls
still queued at any moment.  Cancelled (asyncio) or cut by Ctrl-C (blocking) anywhere,
it must leave no future, slot, deadline or queued call for nobody; the connection must
stay usable, with no stale reply read as another call's, and a single call made beside
the batches must never wait for a slot that is not coming back.  Fixed seeds, bounded
time, system bus (dbus-daemon's 128 unanswered calls per client) and private socket.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from reliability_support import interrupt_after, open_fds, pending_tasks, run_bounded

import sysd
import sysd.aio
from sysd._bus.wire import MAX_IN_FLIGHT

UNIT = "org.freedesktop.systemd1.Unit"
N = MAX_IN_FLIGHT * 8


@pytest.mark.parametrize("private", [False, True], ids=["bus", "private"])
def test_cancelling_batches_at_random_points_leaves_nothing(private: bool) -> None:
    rng = random.Random(1100)

    async def beside(sd: sysd.aio.AsyncSystemd, path: str, stop: asyncio.Event) -> int:
        done = 0
        while not stop.is_set():
            assert await sd.get_property(path, UNIT, "Id") == "init.scope"
            done += 1
        return done

    async def main() -> None:
        async with sysd.aio.connect(private=private) as sd:
            fds = open_fds()
            path = (await sd.unit("init.scope")).path
            dbus = (await sd.unit("dbus.service")).path
            batch = [(path, UNIT, "Id"), (dbus, UNIT, "Id")] * (N // 2)
            want = ["init.scope", "dbus.service"] * (N // 2)
            started = time.monotonic()
            assert await sd.get_property_many(batch) == want
            took = time.monotonic() - started
            stop = asyncio.Event()
            other = asyncio.create_task(beside(sd, path, stop))
            end = time.monotonic() + 20
            cut = 0
            for _ in range(60):
                if time.monotonic() > end:
                    break
                task = asyncio.create_task(sd.get_property_many(batch))
                await asyncio.sleep(rng.uniform(0, took * 1.2))
                if task.cancel():
                    cut += 1
                try:
                    assert await task == want
                except asyncio.CancelledError:
                    pass
                bus = sd.bus
                assert not any(serial in bus._pending for serial, _d, _f in bus._backlog)
                assert len(bus._in_flight) <= 1  # the call beside, nothing of the batch
                assert await sd.get_property_many(batch[:3]) == want[:3]  # no stale reply
            stop.set()
            assert await asyncio.wait_for(other, 30) > 0
            assert cut > 10
            assert not sd.bus._pending and not sd.bus._in_flight and not sd.bus._deadlines
            assert open_fds() == fds
        assert pending_tasks() == set()

    run_bounded(main(), 90)


@pytest.mark.parametrize("private", [False, True], ids=["bus", "private"])
def test_ctrl_c_in_a_blocking_batch_leaves_nothing(private: bool) -> None:
    rng = random.Random(1101)
    with sysd.connect(private=private) as sd:
        fds = open_fds()
        path = sd.unit("init.scope").path
        dbus = sd.unit("dbus.service").path
        batch = [(path, UNIT, "Id"), (dbus, UNIT, "Id")] * (N // 2)
        want = ["init.scope", "dbus.service"] * (N // 2)
        started = time.monotonic()
        assert sd.get_property_many(batch) == want
        took = time.monotonic() - started
        end = time.monotonic() + 20
        interrupted = 0
        for _ in range(60):
            if time.monotonic() > end:
                break
            try:
                with interrupt_after(rng.uniform(0, took * 1.2)):
                    assert sd.get_property_many(batch) == want
                    time.sleep(took)  # let the alarm land here when the batch was faster
            except KeyboardInterrupt:
                interrupted += 1
            assert not sd.bus._waiting and not sd.bus._replies
            # the replies still coming to the cut batch are dropped, not read as these
            assert sd.get_property_many(batch[:3]) == want[:3]
            assert sd.get_property(dbus, UNIT, "Id") == "dbus.service"
        assert interrupted > 10
        assert open_fds() == fds
