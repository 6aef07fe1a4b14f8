"""An event stream across daemon-reload and daemon-reexec (issue 12; RELIABILITY.md 21-25).

Five reexecs (and five reloads) while a stream is open, on the private socket (the
connection drops at each reexec) and on the system bus (systemd leaves and retakes its
name).  Between each and the stream's next read, another connection changes a unit's
state: the stream must resume by itself, say ``Resynced``, and report the change, with
``previous`` the state it last reported (never a change missed, never one twice).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Coroutine
from typing import Any

import pytest
from reliability_support import Units, left_behind, match_rules, pending_tasks

import sysd
import sysd.aio
from sysd import Reexecuted, Resynced, UnitChanged, UnitRemoved

RAE = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"


def _until(stream: sysd.Events, done: object, limit: float = 60) -> list[sysd.Event]:
    """Events until ``done(events)`` holds (WaitTimeoutError after ``limit`` seconds)."""
    got: list[sysd.Event] = []
    end = time.monotonic() + limit
    while not done(got):  # type: ignore[operator]
        got.append(stream.get(timeout=max(0.0, end - time.monotonic())))
    return got


def _check(events: list[sysd.Event], name: str) -> None:
    """Every change once and in order; a reload or reexec never removes an active unit."""
    changes = [e for e in events if isinstance(e, UnitChanged) and e.unit == name]
    for before, after in itertools.pairwise(changes):
        assert after.previous == before.state, (before, after)
        assert after.changed, after
    settled = [c.active_state for c in changes if c.active_state in ("active", "inactive")]
    settled = [s for i, s in enumerate(settled) if i == 0 or settled[i - 1] != s]
    assert settled[-5:] == ["active", "inactive", "active", "inactive", "active"], settled
    state = None
    for e in events:
        if isinstance(e, UnitChanged) and e.unit == name:
            state = e.active_state
        elif isinstance(e, UnitRemoved) and e.unit == name:
            assert state in (None, "inactive"), events


def _state_of(events: list[sysd.Event], name: str) -> str | None:
    changes = [e for e in events if isinstance(e, UnitChanged) and e.unit == name]
    return changes[-1].active_state if changes else None


@pytest.mark.parametrize("private", [True, False], ids=["private", "bus"])
def test_stream_resumes_after_five_reexecs_and_reports_the_gap(units: Units, private: bool) -> None:
    name = units.add("evreexec", RAE)
    with sysd.connect() as ctl:
        ctl.daemon_reload()
    with sysd.connect(private=private) as sd, sysd.connect() as ctl:
        unique = sd.bus.unique_name
        rules = match_rules(unique) if unique else 0
        all_events: list[sysd.Event] = []
        with sd.events(units=[name]) as stream:
            for i in range(5):
                want = "active" if i % 2 == 0 else "inactive"
                ctl.daemon_reexec()
                # changed while the stream is not reading (on the private socket, while
                # its connection is gone): reported by the resync, or by its signal
                unit = ctl.unit(name)
                unit.start() if want == "active" else unit.stop()

                def done(got: list[sysd.Event], want: str = want) -> bool:
                    resynced = any(isinstance(e, Resynced) for e in got)
                    return resynced and _state_of(got, name) == want

                got = _until(stream, done)
                all_events += got
        assert left_behind(sd) == [] and sd._subscription.listeners == []
        if not private and sd.bus.unique_name:
            assert match_rules(sd.bus.unique_name) == rules
    _check(all_events, name)
    assert sum(isinstance(e, Resynced) for e in all_events) >= 5
    assert sum(isinstance(e, Reexecuted) for e in all_events) >= 5


@pytest.mark.parametrize("private", [True, False], ids=["private", "bus"])
def test_stream_through_five_reloads_reports_no_remove_every_change_and_resyncs(
    units: Units, private: bool
) -> None:
    name = units.add("evreload", RAE)
    with sysd.connect() as ctl:
        ctl.daemon_reload()
    with sysd.connect(private=private) as sd, sysd.connect() as ctl:
        with sd.events(units=[name]) as stream:
            got: list[sysd.Event] = []
            for i in range(5):
                ctl.daemon_reload()
                unit = ctl.unit(name)
                unit.start() if i % 2 == 0 else unit.stop()
                want = "active" if i % 2 == 0 else "inactive"
                got += _until(
                    stream,
                    lambda g, w=want: (  # type: ignore[misc]
                        _state_of(g, name) == w and any(isinstance(e, Resynced) for e in g)
                    ),
                )
        assert left_behind(sd) == []
    _check(got, name)
    # each reload is followed by a resync (the units re-created from systemd's
    # serialization are read again); a reload loses no connection: no Reexecuted
    assert sum(isinstance(e, Resynced) for e in got) == 5
    assert not [e for e in got if isinstance(e, Reexecuted)]


def test_reconnect_false_raises_a_typed_disconnect(units: Units) -> None:
    with sysd.connect(private=True) as sd, sysd.connect() as ctl:
        with sd.events(reconnect=False, kinds=[UnitChanged]) as stream:
            ctl.daemon_reexec()
            with pytest.raises(sysd.BusDisconnectedError, match="reconnect"):
                while True:
                    stream.get(timeout=30)
        assert left_behind(sd) == []


@pytest.mark.parametrize("private", [True, False], ids=["private", "bus"])
def test_asyncio_stream_resumes_after_five_reexecs(units: Units, private: bool) -> None:
    name = units.add("evareexec", RAE)
    with sysd.connect() as ctl:
        ctl.daemon_reload()

    async def main() -> list[sysd.Event]:
        got: list[sysd.Event] = []
        async with (
            sysd.aio.connect(private=private) as sd,
            sysd.aio.connect() as ctl,
            sd.events(units=[name]) as stream,
        ):
            for i in range(5):
                want = "active" if i % 2 == 0 else "inactive"
                await ctl.daemon_reexec()
                unit = await ctl.unit(name)
                await (unit.start() if want == "active" else unit.stop())
                round_: list[sysd.Event] = []
                async with asyncio.timeout(60):
                    while not (
                        any(isinstance(e, Resynced) for e in round_)
                        and _state_of(round_, name) == want
                    ):
                        round_.append(await stream.get())
                got += round_
            assert pending_tasks() == set()
        assert left_behind(sd) == [] and sd._subscription.listeners == []
        return got

    got = run_bounded_result(main(), 150)
    _check(got, name)
    assert sum(isinstance(e, Resynced) for e in got) >= 5
    assert sum(isinstance(e, Reexecuted) for e in got) >= 5


def run_bounded_result(
    main: Coroutine[Any, Any, list[sysd.Event]], limit: float
) -> list[sysd.Event]:
    async def bounded() -> list[sysd.Event]:
        async with asyncio.timeout(limit):
            return await main

    return asyncio.run(bounded())
