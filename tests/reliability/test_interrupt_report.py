"""Ctrl-C or cancellation while a failed job's report is fetched (issue 13) leaves nothing
behind: the job's watch, pin and subscription are let go, no journal reader or socket
stays open, and the connection goes on working.

The delays are drawn around the time a failing start takes here (measured first), so
most interrupts land in the job or in the report (properties, journald's sync, the
journal reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time

from reliability_support import (
    Units,
    interrupt_after,
    left_behind,
    match_rules,
    oneshot,
    open_fds,
    pending_tasks,
    run_bounded,
)

import sysd
import sysd._sync.report  # loaded on first use: not under the interrupts here
import sysd.aio
from sysd.errors import JobFailedError

ROUNDS = 60  # bounded by time too


def _failing_start_takes(sd: sysd.Systemd, name: str) -> float:
    began = time.monotonic()
    try:
        sd.unit(name).start()
    except JobFailedError as exc:
        assert exc.report is not None
    return time.monotonic() - began


def test_ctrl_c_while_the_report_is_fetched(units: Units) -> None:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    rng = random.Random(131)
    name = units.add("reportint", oneshot("/bin/sh -c 'echo failing; exit 3'"))
    with sysd.connect() as sd:
        sd.daemon_reload()
        fds = open_fds()
        rules = match_rules(sd.bus.unique_name) if sd.bus.unique_name else 0
        took = _failing_start_takes(sd, name)
        end = time.monotonic() + 30
        outcomes = {"interrupted": 0, "reported": 0}
        for _ in range(ROUNDS):
            if time.monotonic() > end:
                break
            try:
                with interrupt_after(rng.uniform(0, took * 1.2)):
                    sd.unit(name).start()
            except KeyboardInterrupt:
                outcomes["interrupted"] += 1
            except JobFailedError as exc:
                assert exc.report is not None and exc.report.unit == name
                outcomes["reported"] += 1
            assert left_behind(sd) == []
            if sd.bus.unique_name:
                assert match_rules(sd.bus.unique_name) == rules
        assert open_fds() == fds
        # the connection still works, and a report is still whole
        with contextlib.suppress(JobFailedError):
            sd.unit(name).start()
        assert sd.unit(name).failure_report().result == "exit-code"
    assert outcomes["interrupted"] and outcomes["reported"]


def test_cancelling_while_the_report_is_fetched(units: Units) -> None:
    rng = random.Random(132)
    name = units.add("reportcancel", oneshot("/bin/sh -c 'echo failing; exit 4'"))

    async def main() -> None:
        async with sysd.aio.connect() as sd:
            await sd.daemon_reload()
            unit = await sd.unit(name)
            began = time.monotonic()
            with contextlib.suppress(JobFailedError):
                await unit.start()
            took = time.monotonic() - began
            end = time.monotonic() + 30
            for _ in range(ROUNDS):
                if time.monotonic() > end:
                    break
                task = asyncio.create_task(unit.start())
                await asyncio.sleep(rng.uniform(0, took * 1.2))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, JobFailedError):
                    await task
                assert left_behind(sd) == []
            assert pending_tasks() == set()
            report = await unit.failure_report()
            assert report.result == "exit-code"

    run_bounded(main(), 90)
