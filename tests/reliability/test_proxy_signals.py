"""A proxy's signal stream holds match rules: interrupted anywhere, it leaves none.

The stream (sysd/_async/proxy.py, AsyncSignals) adds two rules on entry (the signal
and its sender's NameOwnerChanged) and removes them on the way out.  These scenarios
cancel (asyncio) or Ctrl-C (blocking) at random points of setup, waiting and teardown
(fixed seeds, bounded time) and count the connection's rules on the bus afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time

from reliability_support import (
    interrupt_after,
    match_rules,
    open_fds,
    pending_tasks,
    raised_where,
    run_bounded,
)

import sysd
import sysd._async.proxy
import sysd._core.introspect
import sysd._sync.proxy
import sysd.aio

HOSTNAMED = ("org.freedesktop.hostname1", "/org/freedesktop/hostname1")


def test_cancelling_a_signal_stream_at_random_points_leaves_no_rule() -> None:
    rng = random.Random(151)

    async def main() -> None:
        async with sysd.aio.connect(private=False) as sd:
            assert sd.bus.unique_name is not None
            p = await sd.proxy(*HOSTNAMED)
            before_name = await p.hostname1.get("PrettyHostname")
            fds = open_fds()
            rules = match_rules(sd.bus.unique_name)
            cancelled = 0
            end = time.monotonic() + 20
            took = 1.0
            try:
                for i in range(43):
                    if time.monotonic() > end:
                        break

                    async def scenario(i: int = i) -> None:
                        async with p.hostname1.properties_changed() as changes:
                            await p.hostname1.set_pretty_hostname(f"Reliability {i}", False)
                            # a change a cancelled iteration made may come first
                            want = f"Reliability {i}"
                            while (await changes.next(timeout=20)).args[1].get(
                                "PrettyHostname"
                            ) != want:
                                pass

                    started = time.monotonic()
                    task = asyncio.create_task(scenario())
                    if i < 3:  # whole runs first: the shortest bounds the random points
                        await task
                        took = min(took, time.monotonic() - started)
                        continue
                    await asyncio.sleep(rng.uniform(0, took))
                    if task.cancel():
                        cancelled += 1
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    assert match_rules(sd.bus.unique_name) == rules
                assert cancelled > 10
                assert pending_tasks() == set()
                assert open_fds() == fds
            finally:
                await p.hostname1.set_pretty_hostname(before_name, False)

    run_bounded(main(), 90)


def test_ctrl_c_in_a_blocking_signal_stream_leaves_no_rule() -> None:
    rng = random.Random(152)
    with sysd.connect(private=False) as sd:
        assert sd.bus.unique_name is not None
        p = sd.proxy(*HOSTNAMED)
        before_name = p.hostname1.get("PrettyHostname")
        fds = open_fds()
        rules = match_rules(sd.bus.unique_name)
        interrupted = 0
        window: list[str] = []  # rounds cut at a teardown function's first instruction
        end = time.monotonic() + 20

        streams: list[sysd._sync.proxy.Signals] = []  # the round's, for the repair

        def scenario(i: int) -> None:
            streams[:] = [p.hostname1.properties_changed()]
            with streams[0] as changes:
                p.hostname1.set_pretty_hostname(f"Reliability {i}", False)
                want = f"Reliability {i}"
                while changes.next(timeout=20).args[1].get("PrettyHostname") != want:
                    pass

        took = 1.0
        for i in range(3):  # whole runs first: the shortest bounds the random points
            started = time.monotonic()
            scenario(i)
            took = min(took, time.monotonic() - started)
        try:
            for i in range(40):
                if time.monotonic() > end:
                    break
                where, at_entry = "-", False
                try:
                    with interrupt_after(rng.uniform(0, took)):
                        scenario(i)
                        time.sleep(took)  # let the alarm land here when all was faster
                except KeyboardInterrupt as exc:
                    interrupted += 1
                    where, at_entry = raised_where(exc)
                if at_entry and streams and streams[0].active:
                    # the one window sysd/_interrupt.py leaves open: a Ctrl-C at the
                    # first instruction of __exit__/_tear_down, before its critical section
                    window.append(where)
                    streams[0].close()
                assert match_rules(sd.bus.unique_name) == rules, f"interrupted at {where}"
            print(f"rounds cut at a function's entry: {window}")
            assert len(window) <= 3, window
            assert interrupted > 10
            assert open_fds() == fds
        finally:
            p.hostname1.set_pretty_hostname(before_name, False)
