"""dbus-daemon restart and kill -9 with calls and waits in flight (RELIABILITY.md 4, 22, 50).

Restarting dbus inside the suite's own sandbox ends its test runner, so these tests run
on the host (``@pytest.mark.host``) and boot a throwaway sandbox of their own; sysd on
the host talks to that sandbox's system bus.  While job waits (oneshots that sleep),
``run(wait=True)`` and plain calls are in flight, dbus-daemon is restarted (``systemctl
restart dbus``) or killed with SIGKILL (and started again, as ``Restart=`` would).
Every call and waiter must end in bounded time with a typed error, or (where sysd
reconnects: waits) with the true result, equal to what ``systemctl show`` says inside
(Result, ExecMainStatus) or, for a run, what the command exited with.  Afterwards: no
extra fd, no subscription holder, no unit left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from reliability_support import open_fds

import sysd
import sysd.aio
import sysd.sandbox
from sysd.errors import BusError, DBusError, JobFailedError, WaitTimeoutError

pytestmark = [
    pytest.mark.host,
    pytest.mark.skipif(os.geteuid() != 0, reason="booting a sandbox needs root"),
]

# typed errors a call or waiter may end with when its bus goes away
TYPED = (BusError, DBusError, WaitTimeoutError)
SLEEP = 2.0  # how long the oneshots and runs take: dbus goes away while they run


@pytest.fixture(scope="module")
def sb() -> Iterator[sysd.sandbox.Sandbox]:
    name = f"sysd-h12-dbus-{uuid.uuid4().hex[:6]}"
    with sysd.sandbox.Sandbox(name=name, user_manager=False) as box:
        yield box


def _sh(sb: sysd.sandbox.Sandbox, script: str) -> str:
    return sb.exec(["sh", "-c", script], capture=True, check=True, timeout=30).stdout


def _show(sb: sysd.sandbox.Sandbox, name: str) -> tuple[str, int]:
    out = _sh(sb, f"systemctl show -p Result -p ExecMainStatus {name}")
    props = dict(line.split("=", 1) for line in out.split())
    return props["Result"], int(props["ExecMainStatus"])


def _units(sb: sysd.sandbox.Sandbox, tag: str, n: int) -> list[str]:
    """``n`` oneshots that sleep; every other one then exits with status 3."""
    names = []
    for i in range(n):
        name = f"sysdr-dbus{i}-{tag}.service"
        cmd = f"/bin/sleep {SLEEP}" if i % 2 else f"/bin/sh -c 'sleep {SLEEP}; exit 3'"
        text = f"[Service]\nType=oneshot\nExecStart={cmd}\n"
        sb.exec(
            ["sh", "-c", f"cat > /run/systemd/system/{name}"],
            input=text,
            capture=True,
            check=True,
            timeout=30,
        )
        names.append(name)
    _sh(sb, "systemctl daemon-reload")
    return names


def _cleanup(sb: sysd.sandbox.Sandbox, tag: str) -> None:
    _sh(
        sb,
        f"systemctl stop 'sysdr-*{tag}*' 2>/dev/null; systemctl reset-failed 'sysdr-*{tag}*' "
        f"2>/dev/null; rm -f /run/systemd/system/sysdr-*{tag}*; systemctl daemon-reload; true",
    )


def _left(sb: sysd.sandbox.Sandbox, tag: str) -> str:
    """Units of this test still loaded (running, failed or pinned)."""
    return _sh(sb, f"systemctl list-units --all --plain --no-legend 'sysdr-*{tag}*'").strip()


def _disrupt(sb: sysd.sandbox.Sandbox, how: str) -> None:
    """``restart``; ``kill``: SIGKILL, started again (as Restart= would) a moment later;
    ``kill-gap``: started again only after the units and runs ended (they end unseen)."""
    if how == "restart":
        _sh(sb, "systemctl restart dbus")
        return _wait_systemd(sb)
    gap = {"kill": 0.5, "kill-gap": SLEEP + 1.5}.get(how, 0.0)
    _kill_dbus(sb, gap)


def _kill_dbus(sb: sysd.sandbox.Sandbox, gap: float) -> None:
    """SIGKILL dbus-daemon, start it again ``gap`` seconds later, wait for systemd on it
    (reset-failed first: many kills in a row would hit dbus.service's start limit)."""
    _sh(
        sb,
        f"kill -9 $(systemctl show -p MainPID --value dbus); sleep {gap}; "
        "systemctl reset-failed dbus; systemctl start dbus",
    )
    _wait_systemd(sb)


def _wait_systemd(sb: sysd.sandbox.Sandbox) -> None:
    # systemd reconnects to the new bus by itself; wait until it owns its name there
    _sh(
        sb,
        "for i in $(seq 100); do busctl status org.freedesktop.systemd1 >/dev/null 2>&1 "
        "&& exit 0; sleep 0.1; done; exit 1",
    )


async def _match_rules(sd: sysd.aio.AsyncSystemd) -> int:
    """How many match rules dbus-daemon holds for ``sd``'s connection (Debug.Stats)."""
    stats = await sd.call(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.Debug.Stats",
        "GetConnectionStats",
        "s",
        (sd.bus.unique_name,),
    )
    return int(stats["MatchRules"])


def _wrong_job(sb: sysd.sandbox.Sandbox, name: str, got: object) -> object:
    """None when ``got`` (a Job or exception) is a typed error or the true result."""
    if isinstance(got, JobFailedError):
        truth = _show(sb, name)
        return None if (got.service_result, got.exit_code) == truth else (name, truth, got)
    if isinstance(got, TYPED):
        return None
    if isinstance(got, BaseException):
        return (name, "untyped", repr(got))
    truth = _show(sb, name)
    ok = getattr(got, "result", None) == "done" and truth == ("success", 0)
    return None if ok else (name, truth, got)


def _wrong_run(expected: int, got: object) -> object:
    """None when ``got`` is a typed error or a RunResult with the command's exit status."""
    if isinstance(got, TYPED):
        return None
    if isinstance(got, sysd.RunResult):
        result = "success" if expected == 0 else "exit-code"
        if (got.exit_code, got.result) == (expected, result):
            return None
    return (expected, got)


@pytest.mark.parametrize("how", ["restart", "kill", "kill-gap"])
def test_asyncio_calls_waits_and_runs_survive_dbus_going_away(
    sb: sysd.sandbox.Sandbox, how: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    names = _units(sb, tag, 6)
    codes = [0, 4, 0, 5]
    before = open_fds()

    async def pinging(sd: sysd.aio.AsyncSystemd, stop: asyncio.Event) -> object:
        try:
            while not stop.is_set():
                await sd.ping(timeout=5)
                await asyncio.sleep(0.02)
        except TYPED as exc:
            return exc
        return None

    async def main() -> tuple[list[object], list[object], object, float]:
        async with asyncio.timeout(50):
            async with sysd.aio.connect(address=sb.bus_address) as sd:
                units = [await sd.unit(n) for n in names]
                fds = open_fds()
                stop = asyncio.Event()
                pinger = asyncio.create_task(pinging(sd, stop))
                jobs = [asyncio.create_task(u.start(timeout=30)) for u in units]
                runs = [
                    asyncio.create_task(
                        sd.run(
                            ["/bin/sh", "-c", f"sleep {SLEEP}; exit {c}"],
                            name=f"sysdr-run{i}-{tag}.service",
                            wait=True,
                            timeout=30,
                        )
                    )
                    for i, c in enumerate(codes)
                ]
                await asyncio.sleep(0.7)
                t0 = time.monotonic()
                await asyncio.to_thread(_disrupt, sb, how)
                job_results = await asyncio.gather(*jobs, return_exceptions=True)
                run_results = await asyncio.gather(*runs, return_exceptions=True)
                took = time.monotonic() - t0
                stop.set()
                ping = await pinger
                sub = sd._subscription
                assert (sub.holders, sub.active, sub.watched) == (0, False, {})
                assert {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} == set()
                # one new connection shared by every waiter, none of its rules left
                assert open_fds() <= fds
                assert sub.reconnects <= 1
                if not sd.bus.closed:
                    assert await _match_rules(sd) == 0
            return job_results, run_results, ping, took

    try:
        job_results, run_results, ping, took = asyncio.run(main())
        print(f"{how}: jobs {job_results}\nruns {run_results}\nping {ping!r}, {took:.1f} s")
        wrong = [_wrong_job(sb, n, g) for n, g in zip(names, job_results, strict=True)]
        wrong += [_wrong_run(c, g) for c, g in zip(codes, run_results, strict=True)]
        assert [w for w in wrong if w is not None] == []
        assert open_fds() == before
        time.sleep(SLEEP)  # a unit a run stopped or left is collected by now
        _sh(sb, "systemctl reset-failed 'sysdr-*' 2>/dev/null; true")
        assert [line for line in _left(sb, tag).splitlines() if "sysdr-run" in line] == []
    finally:
        _cleanup(sb, tag)


@pytest.mark.parametrize("shared", [False, True], ids=["own", "shared"])
@pytest.mark.parametrize("how", ["restart", "kill", "kill-gap"])
def test_blocking_waits_and_runs_survive_dbus_going_away(
    sb: sysd.sandbox.Sandbox, how: str, shared: bool
) -> None:
    """Six threads, each with its own connection or all on one."""
    tag = uuid.uuid4().hex[:8]
    names = _units(sb, tag, 4)
    codes = [0, 6]
    before = open_fds()
    results: dict[str, object] = {}
    one = sysd.connect(address=sb.bus_address) if shared else None

    def connection() -> contextlib.AbstractContextManager[sysd.Systemd]:
        return (
            contextlib.nullcontext(one) if one is not None else sysd.connect(address=sb.bus_address)
        )

    def start(name: str) -> None:
        try:
            with connection() as sd:
                results[name] = sd.unit(name).start(timeout=30)
                sub = sd._subscription
                assert shared or (sub.holders, sub.active, sub.watched) == (0, False, {})
        except Exception as exc:
            results[name] = exc

    def run(i: int, code: int) -> None:
        try:
            with connection() as sd:
                results[f"run{i}"] = sd.run(
                    ["/bin/sh", "-c", f"sleep {SLEEP}; exit {code}"],
                    name=f"sysdr-run{i}-{tag}.service",
                    wait=True,
                    timeout=30,
                )
        except Exception as exc:
            results[f"run{i}"] = exc

    threads = [threading.Thread(target=start, args=(n,)) for n in names]
    threads += [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(codes)]
    try:
        for t in threads:
            t.start()
        time.sleep(0.7)
        _disrupt(sb, how)
        for t in threads:
            t.join(45)
        assert not any(t.is_alive() for t in threads)
        if one is not None:
            sub = one._subscription
            assert (sub.holders, sub.active, sub.watched) == (0, False, {})
            assert sub.reconnects <= 1
            one.close()
        print(f"{how}: {results}")
        wrong = [_wrong_job(sb, n, results.get(n)) for n in names]
        wrong += [_wrong_run(c, results.get(f"run{i}")) for i, c in enumerate(codes)]
        assert [w for w in wrong if w is not None] == []
        assert open_fds() == before
        time.sleep(SLEEP)
        _sh(sb, "systemctl reset-failed 'sysdr-*' 2>/dev/null; true")
        assert [line for line in _left(sb, tag).splitlines() if "sysdr-run" in line] == []
    finally:
        if one is not None:
            one.close()
        _cleanup(sb, tag)


def _run_killed_async(
    sb: sysd.sandbox.Sandbox, cmd: list[str], unit: str, delay: float, gap: float
) -> object:
    """``run(cmd, wait=True)`` with dbus-daemon killed ``delay`` s in: its outcome."""

    async def main() -> object:
        async with asyncio.timeout(30):
            async with sysd.aio.connect(address=sb.bus_address) as sd:
                await sd.ping()
                task = asyncio.create_task(sd.run(cmd, name=unit, wait=True, timeout=20))
                await asyncio.sleep(delay)
                await asyncio.to_thread(_kill_dbus, sb, gap)
                try:
                    return await task
                except Exception as exc:
                    return exc

    return asyncio.run(main())


def _run_killed_blocking(
    sb: sysd.sandbox.Sandbox, cmd: list[str], unit: str, delay: float, gap: float
) -> object:
    box: list[object] = []

    def run() -> None:
        try:
            with sysd.connect(address=sb.bus_address) as sd:
                box.append(sd.run(cmd, name=unit, wait=True, timeout=20))
        except Exception as exc:
            box.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(delay)
    _kill_dbus(sb, gap)
    thread.join(30)
    assert not thread.is_alive()
    return box[0]


@pytest.mark.parametrize("flavour", ["asyncio", "blocking"])
def test_run_ending_as_dbus_is_killed_is_never_a_wrong_result(
    sb: sysd.sandbox.Sandbox, flavour: str
) -> None:
    """dbus-daemon killed right as a ``run(wait=True)`` ends: its exit may be lost with
    the bus, and systemd collects the unit (its pin went with the old connection).
    Before: RunResult(exit_code=None, result='success') from the values cached before
    the gap, for ``exit 0`` and ``exit 3`` alike (4 of 25).  Now: the true result, or a
    typed BusDisconnectedError saying the result is lost; never a wrong one."""
    rng = random.Random(12)
    tag = uuid.uuid4().hex[:8]
    before = open_fds()
    wrong = []
    outcomes = []
    try:
        for i in range(12):
            code = rng.choice([0, 3])
            delay = rng.uniform(0.22, 0.4)  # around the end of the 0.3 s command
            gap = rng.choice([0.0, 0.05, 0.5])
            cmd = ["/bin/sh", "-c", f"sleep 0.3; exit {code}"]
            unit = f"sysdr-end{i}-{tag}.service"
            killed = _run_killed_async if flavour == "asyncio" else _run_killed_blocking
            got = killed(sb, cmd, unit, delay, gap)
            outcomes.append(type(got).__name__)
            w = _wrong_run(code, got)
            if w is not None:
                wrong.append((i, delay, gap, w))
        print(f"{flavour}: {outcomes}")
        assert wrong == []
        assert open_fds() == before
        _sh(sb, "systemctl reset-failed 'sysdr-*' 2>/dev/null; true")
        assert _left(sb, tag) == ""
    finally:
        _cleanup(sb, tag)


def test_waits_end_typed_in_time_while_dbus_stays_down(sb: sysd.sandbox.Sandbox) -> None:
    """dbus-daemon killed and kept down (dbus.socket stopped too, or the next connect
    would start it again): every wait ends by its own timeout with a typed error, never
    a hang; further calls fail fast; the connection closes clean."""
    tag = uuid.uuid4().hex[:8]
    names = _units(sb, tag, 2)
    before = open_fds()

    async def main() -> tuple[list[object], float]:
        async with asyncio.timeout(30):
            async with sysd.aio.connect(address=sb.bus_address) as sd:
                units = [await sd.unit(n) for n in names]
                calls = [asyncio.create_task(u.start(timeout=4)) for u in units]
                calls.append(
                    asyncio.create_task(
                        sd.run(
                            ["/bin/sleep", str(SLEEP)],
                            name=f"sysdr-run0-{tag}.service",
                            wait=True,
                            timeout=4,
                        )
                    )
                )
                await asyncio.sleep(0.5)
                t0 = time.monotonic()
                await asyncio.to_thread(
                    _sh,
                    sb,
                    "kill -9 $(systemctl show -p MainPID --value dbus); systemctl stop dbus.socket",
                )
                got = await asyncio.gather(*calls, return_exceptions=True)
                took = time.monotonic() - t0
                try:
                    await sd.ping(timeout=2)
                except TYPED as exc:  # further calls fail fast
                    got.append(exc)
                assert time.monotonic() - t0 - took < 2.5
                sub = sd._subscription
                assert (sub.holders, sub.active, sub.watched) == (0, False, {})
            return got, took

    try:
        got, took = asyncio.run(main())
        print(f"dbus down: {got} in {took:.1f} s")
        assert [g for g in got if not isinstance(g, (*TYPED, sysd.errors.RunTimeoutError))] == []
        assert took < 8
        assert open_fds() == before
    finally:
        _sh(sb, "systemctl reset-failed dbus; systemctl start dbus.socket dbus")
        _wait_systemd(sb)
        _cleanup(sb, tag)


def test_blocking_shared_run_ending_after_the_reconnect_keeps_its_result(
    sb: sysd.sandbox.Sandbox,
) -> None:
    """Six threads on one blocking connection; the runs end well after the reconnect.

    Before: a run lost its result (BusDisconnectedError "result is unknown") in most
    rounds.  Two causes, both made likely by the threads taking turns on the one
    connection (a thread waiting for signals holds it, so another thread's call waits
    seconds for its turn):
    * a refresh after the reconnect (two GetAll) overwrote the unit's end, which other
      threads had dispatched from PropertiesChanged meanwhile, with the older values it
      read ("active"), and the UnitRemoved that followed ended the wait with them;
    * a StartTransientUnit that could not be sent before dbus went away is sent again
      after the re-check, which reads the not yet existing unit: systemd loads a stub and
      removes it, and that UnitRemoved marked the run's unit removed before it existed.
    """
    tag = uuid.uuid4().hex[:8]
    names = _units(sb, tag, 4)
    results: dict[str, object] = {}
    sd = sysd.connect(address=sb.bus_address)

    def start(name: str) -> None:
        try:
            results[name] = sd.unit(name).start(timeout=30)
        except Exception as exc:
            results[name] = exc

    def run(i: int) -> None:
        try:
            cmd = ["/bin/sh", "-c", f"sleep {SLEEP}; exit {i}"]
            results[f"run{i}"] = sd.run(cmd, name=f"sysdr-run{i}-{tag}.service", wait=True)
        except Exception as exc:
            results[f"run{i}"] = exc

    threads = [threading.Thread(target=start, args=(n,)) for n in names]
    threads += [threading.Thread(target=run, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        time.sleep(0.7)
        _kill_dbus(sb, 0.5)  # back well before the runs end
        for t in threads:
            t.join(45)
        assert not any(t.is_alive() for t in threads)
        got = [results.get(f"run{i}") for i in range(2)]
        assert [(getattr(g, "exit_code", g)) for g in got] == [0, 1]
        assert [getattr(g, "result", None) for g in got] == ["success", "exit-code"]
    finally:
        sd.close()
        _cleanup(sb, tag)


def _refs(sb: sysd.sandbox.Sandbox, name: str) -> list[str]:
    """The bus names that pin ``name`` (Ref, AddRef=yes), as systemd reports them."""
    return _sh(sb, f"systemctl show -p Refs --value {name}").split()


def test_pins_are_taken_again_on_the_new_connection(sb: sysd.sandbox.Sandbox) -> None:
    """systemd drops a connection's pins (Ref, AddRef=yes) with it when dbus-daemon goes
    away (``destroy_bus()``): after the reconnect, every unit sysd had pinned is pinned
    again by the new connection's unique name (after the subscription is in place), so
    that it is kept until its end is read; the results are read from the unit itself
    (same invocation), and every pin is let go afterwards."""
    tag = uuid.uuid4().hex[:8]
    (name,) = _units(sb, tag, 1)  # a oneshot: sleep 2, exit 3
    run_name = f"sysdr-pinrun-{tag}.service"

    async def main() -> None:
        async with asyncio.timeout(50):
            async with sysd.aio.connect(address=sb.bus_address) as sd:
                sub = sd._subscription
                unit = await sd.unit(name)
                job = asyncio.create_task(unit.start(timeout=30))
                cmd = ["/bin/sh", "-c", f"sleep {SLEEP + 1}; exit 4"]
                handle = await sd.run(cmd, name=run_name, wait=False)
                assert isinstance(handle, sysd.aio.RunningUnit)
                waiter = asyncio.create_task(handle.wait(30))
                await asyncio.sleep(0.5)
                first = sd.bus.unique_name
                invocation = handle.invocation_id
                assert invocation is not None
                assert await asyncio.to_thread(_refs, sb, name) == [first]
                assert await asyncio.to_thread(_refs, sb, run_name) == [first]
                await asyncio.to_thread(_disrupt, sb, "restart")
                while sub.reconnects == 0:
                    await asyncio.sleep(0.05)
                second = sd.bus.unique_name
                assert second != first
                assert await asyncio.to_thread(_refs, sb, name) == [second]
                assert await asyncio.to_thread(_refs, sb, run_name) == [second]
                with pytest.raises(JobFailedError) as failed:
                    await job
                assert (failed.value.service_result, failed.value.exit_code) == ("exit-code", 3)
                result = await waiter
                assert (result.exit_code, result.result) == (4, "exit-code")
                assert result.invocation_id == invocation
                assert sub.pinned == {} and sub.pins == 0
                assert await asyncio.to_thread(_refs, sb, name) == []
                assert (sub.holders, sub.active, sub.watched) == (0, False, {})

    try:
        asyncio.run(main())
    finally:
        _cleanup(sb, tag)
