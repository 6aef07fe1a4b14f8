"""sd.events(), unit.wait_for(), sd.wait_for_units() against the sandbox's real systemd.

Transient units are started and stopped through plain Manager calls (no job waits of
sysd's own), so what the stream reports is compared with what systemd itself says
(``systemctl show``, each unit's own timestamps), not with sysd's other paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import sysd
import sysd.aio
from sysd import (
    JobNew,
    JobRemoved,
    Reloading,
    Resynced,
    UnitChanged,
    UnitFilesChanged,
    UnitNew,
    UnitRemoved,
)
from sysd._bus.wire import Message
from sysd._core import unitname

START_TRANSIENT = "ssa(sv)a(sa(sv))"
RUNTIME_UNITS = Path("/run/systemd/system")
UNIT_IFACE = "org.freedesktop.systemd1.Unit"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RAE = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"


def transient(  # type: ignore[type-arg]
    name: str, argv: list[str], service_type: str = "simple", collect: bool = True
) -> tuple:
    props = [
        ("ExecStart", sysd.Variant("a(sasb)", [(argv[0], argv, False)])),
        ("Type", sysd.Variant("s", service_type)),
    ]
    if collect:
        props.append(("CollectMode", sysd.Variant("s", "inactive-or-failed")))
    return (name, "fail", props, [])


def tag() -> str:
    return uuid.uuid4().hex[:8]


def show(name: str, *props: str) -> dict[str, str]:
    out = subprocess.run(
        ["systemctl", "show", *(f"-p{p}" for p in props), name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def check_chain(events: list[UnitChanged]) -> None:
    """Each event of one unit starts where the one before ended, and changes something."""
    for before, after in itertools.pairwise(events):
        assert after.previous == before.state, (before, after)
        assert after.changed, after
        if before.timestamp and after.timestamp:
            assert after.timestamp >= before.timestamp, (before, after)


# ---------------------------------------------------------------- the stream


@pytest.mark.parametrize("private", [True, False], ids=["private", "bus"])
def test_a_unit_started_and_stopped_is_reported_in_order(private: bool, systemd_host: None) -> None:
    name = f"sysdt-ev-{tag()}.service"
    with (
        sysd.connect(private=private) as sd,
        sd.events(patterns=["sysdt-ev-*"]) as stream,
    ):
        sd.manager_call(
            "StartTransientUnit", START_TRANSIENT, transient(name, ["/bin/sleep", "60"])
        )
        seen: list[sysd.Event] = []
        for event in stream:
            seen.append(event)
            if isinstance(event, UnitChanged) and event.state[:2] == ("active", "running"):
                sd.manager_call("StopUnit", "ss", (name, "replace"))
            if isinstance(event, UnitRemoved) and event.unit == name:
                break
    kinds = [type(e) for e in seen]
    assert UnitNew in kinds and JobNew in kinds and JobRemoved in kinds
    changes = [e for e in seen if isinstance(e, UnitChanged)]
    check_chain(changes)
    assert [c.active_state for c in changes].count("active") == 1
    assert changes[-1].state[:2] == ("inactive", "dead")
    assert all(e.unit == name for e in seen if hasattr(e, "unit"))
    assert sd._subscription.holders == 0 and not sd._subscription.listeners


def test_200_units_every_transition_once_and_in_order(systemd_host: None) -> None:
    t = tag()
    names = [f"sysdt-many-{t}-{i}.service" for i in range(200)]

    async def main() -> dict[str, list[UnitChanged]]:
        per_unit: dict[str, list[UnitChanged]] = defaultdict(list)
        removed: set[str] = set()
        async with (
            sysd.aio.connect() as sd,
            sd.events(patterns=[f"sysdt-many-{t}-*"], queue=100_000) as stream,
        ):

            async def start(name: str) -> None:
                args = transient(name, ["/bin/sleep", "60"])
                await sd.manager_call("StartTransientUnit", START_TRANSIENT, args)

            async def stop(name: str) -> None:
                await sd.manager_call("StopUnit", "ss", (name, "replace"))

            await asyncio.gather(*(start(n) for n in names))
            active: set[str] = set()
            stopping = False
            async with asyncio.timeout(120):
                async for event in stream:
                    if isinstance(event, UnitChanged):
                        per_unit[event.unit].append(event)
                        if event.active_state == "active":
                            active.add(event.unit)
                    elif isinstance(event, UnitRemoved):
                        removed.add(event.unit)
                    if not stopping and len(active) == len(names):
                        stopping = True
                        # each unit's own timestamp: when it entered "active"
                        for n in names:
                            entered = await sd.get_property(
                                unitname.to_dbus_path(n), UNIT_IFACE, "ActiveEnterTimestamp"
                            )
                            seen = next(e for e in per_unit[n] if e.active_state == "active")
                            assert seen.timestamp == EPOCH + timedelta(microseconds=entered)
                        await asyncio.gather(*(stop(n) for n in names))
                    if len(removed) == len(names):
                        break
            assert stream.queue.peak < 100_000
        return per_unit

    per_unit = asyncio.run(main())
    assert sorted(per_unit) == sorted(names)
    for name, events in per_unit.items():
        check_chain(events)
        states = [e.active_state for e in events]
        assert states.count("active") == 1, (name, states)
        assert states[-1] == "inactive", (name, states)
        # once each: never the same state twice in a row
        assert all(a.state != b.state for a, b in itertools.pairwise(events))


def test_stream_across_five_daemon_reloads(units, systemd_host: None) -> None:  # type: ignore[no-untyped-def]
    name = units.add(
        "reload", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"
    )
    units.reload()
    with sysd.connect() as sd:
        sd.unit(name).start()  # active (RemainAfterExit): loaded through the reloads
        with sd.events(units=[name]) as stream:
            for _ in range(5):
                sd.daemon_reload()
            sd.manager_call("StopUnit", "ss", (name, "replace"))
            got: list[sysd.Event] = []
            while True:
                event = stream.get(timeout=30)
                got.append(event)
                if isinstance(event, UnitChanged) and event.active_state == "inactive":
                    break
    # the reloads removed and re-added the unit: no UnitRemoved, no UnitNew for it
    assert not [e for e in got if isinstance(e, UnitRemoved | UnitNew)], got
    assert sum(isinstance(e, Reloading) for e in got) == 10
    changes = [e for e in got if isinstance(e, UnitChanged)]
    check_chain(changes)
    assert changes[0].previous == ("active", "exited", "loaded")


def test_unit_removed_only_once_gone_after_the_reload(units, systemd_host: None) -> None:  # type: ignore[no-untyped-def]
    text = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"
    name = units.add("gone", text)
    units.reload()
    with sysd.connect() as sd:
        sd.unit(name).start()  # active: loaded through the reload though its file is gone
        with sd.events(units=[name], kinds=[UnitRemoved, Reloading]) as stream:
            (RUNTIME_UNITS / name).unlink()
            sd.daemon_reload()  # removes and re-adds it: not reported
            sd.manager_call("StopUnit", "ss", (name, "replace"))  # now it is collected
            got = [stream.get(timeout=30) for _ in range(4)]
    # the reload is followed by a resync (always delivered: about the stream itself),
    # before or after the later UnitRemoved, whichever systemd's GC made first
    assert [e for e in got if not isinstance(e, Resynced)] == [
        Reloading(True),
        Reloading(False),
        UnitRemoved(name),
    ]
    assert got.count(Resynced(frozenset())) == 1


# ------------------------------------------------------------- back-pressure


def test_sleeping_consumer_gets_overflow_and_the_newest_states(units) -> None:  # type: ignore[no-untyped-def]
    names = [units.add(f"slow{i}", "[Service]\nExecStart=/bin/sleep 600\n") for i in range(50)]
    units.reload()
    t = units.tag

    async def main() -> None:
        async with (
            sysd.aio.connect() as sd,
            sd.events(patterns=[f"sysdt-slow*-{t}.service"], queue=64) as stream,
        ):
            await asyncio.gather(
                *(sd.manager_call("StartUnit", "ss", (n, "replace")) for n in names)
            )
            # 50 units restarted 25 times while nobody reads: ~5000 events
            for _round in range(25):
                await asyncio.gather(
                    *(sd.manager_call("RestartUnit", "ss", (n, "replace")) for n in names)
                )
            await sd.wait_for_units(names, "active", timeout=60)
            await asyncio.sleep(0.5)
            assert stream.queue.peak <= 64 + len(names)  # bounded all along
            last: dict[str, UnitChanged] = {}
            overflow = delivered = 0
            while True:
                try:
                    event = await stream.get(timeout=1)
                except sysd.WaitTimeoutError:
                    break
                delivered += 1
                if isinstance(event, sysd.Overflow):
                    overflow += event.dropped
                elif isinstance(event, UnitChanged):
                    last[event.unit] = event
            assert overflow > 0 and overflow + delivered >= 2500, (overflow, delivered)
            for n in names:
                truth = show(n, "ActiveState", "SubState", "InvocationID")
                assert last[n].state[:2] == (truth["ActiveState"], truth["SubState"])
                assert last[n].invocation_id == truth["InvocationID"]
            for n in names:
                await sd.manager_call("StopUnit", "ss", (n, "replace"))

    asyncio.run(main())


# ------------------------------------------------------------------- waiting


def test_wait_for_and_wait_for_units(systemd_host: None) -> None:
    name = f"sysdt-wait-{tag()}.service"
    with sysd.connect() as sd:
        args = transient(name, ["/bin/sleep", "60"], collect=False)  # kept: systemctl show
        sd.manager_call("StartTransientUnit", START_TRANSIENT, args)
        unit = sd.unit(name)
        got = unit.wait_for(active_state="active", timeout=30)
        assert got.unit == name and got.sub_state == "running"
        # already there: the current state, at once
        again = unit.wait_for(sub_state="running", timeout=5)
        assert again.state == got.state and again.changed == frozenset()
        with pytest.raises(sysd.WaitTimeoutError):
            unit.wait_for(active_state="failed", timeout=0.3)
        sd.manager_call("KillUnit", "ssi", (name, "main", 9))
        done = sd.wait_for_units([name], state="inactive", timeout=30)
        assert done[name].active_state in ("failed", "inactive")
        assert done[name].active_state == "failed"
        assert done[name].result == show(name, "Result")["Result"] == "signal"
        sd.unit(name).reset_failed()
    assert sd._subscription.holders == 0


def test_async_wait_for_units_race_free(systemd_host: None) -> None:
    t = tag()
    names = [f"sysdt-await-{t}-{i}.service" for i in range(5)]

    async def main() -> None:
        async with sysd.aio.connect() as sd:
            waiter = asyncio.create_task(sd.wait_for_units(names, "active", timeout=30))
            await asyncio.sleep(0)
            for n in names:
                await sd.manager_call(
                    "StartTransientUnit", START_TRANSIENT, transient(n, ["/bin/sleep", "60"])
                )
            done = await waiter
            assert [d.active_state for d in done.values()] == ["active"] * 5
            assert list(done) == names
            for n in names:
                with contextlib.suppress(sysd.NoSuchUnitError):  # seen once: see the report
                    await sd.manager_call("StopUnit", "ss", (n, "replace"))

    asyncio.run(main())


# ----------------------------------------------------------------- bad input

BAD = [
    ({"kinds": ["Nope"]}, sysd.InvalidEventFilterError),
    ({"kinds": [int]}, sysd.InvalidEventFilterError),
    ({"types": ["servic"]}, sysd.InvalidEventFilterError),
    ({"patterns": ["a b*"]}, sysd.InvalidUnitNameError),
    ({"patterns": [""]}, sysd.InvalidUnitNameError),
    ({"units": ["foo"]}, sysd.InvalidUnitNameError),
    ({"units": ["a/b.service"]}, sysd.InvalidUnitNameError),
    ({"queue": 0}, sysd.InvalidEventFilterError),
    ({"queue": "10"}, sysd.InvalidEventFilterError),
    ({"reconnect": "yes"}, sysd.InvalidEventFilterError),
    ({"reconnect": 0}, sysd.InvalidEventFilterError),
    ({"reconnect": -5}, sysd.InvalidEventFilterError),
    ({"reconnect": float("nan")}, sysd.InvalidEventFilterError),
    ({"reconnect": float("inf")}, sysd.InvalidEventFilterError),
]


@pytest.mark.parametrize(("kwargs", "error"), BAD)
def test_bad_input_is_a_typed_value_error_before_the_bus(
    kwargs: dict,
    error: type[Exception],
    systemd_host: None,  # type: ignore[type-arg]
) -> None:
    with sysd.connect() as sd:
        calls = []
        original = sd.bus.call
        sd.bus.call = lambda *a, **k: calls.append(a) or original(*a, **k)  # type: ignore[method-assign]
        with pytest.raises(error) as info:
            sd.events(**kwargs)
        assert isinstance(info.value, ValueError)
        with pytest.raises(ValueError):
            sd.wait_for_units(["ok.service"], state="running")
        with pytest.raises(ValueError):
            sd.wait_for_units(["nope"], state="active")
        assert calls == []


# ------------------------------------------------------------ unprivileged

USER_SYSTEM_STREAM = """
import sys, sysd
name = sys.argv[1]
with sysd.connect() as sd, sd.events(units=[name]) as stream:
    print("ready", sd.target.hello, flush=True)
    while True:
        event = stream.get(timeout=30)
        if isinstance(event, sysd.UnitChanged) and event.active_state == "active":
            print("active", event.previous, flush=True)
            break
    print("holders", sd._subscription.holders, flush=True)
print("holders", sd._subscription.holders, flush=True)
"""

USER_OWN_STREAM = """
import asyncio, sysd, sysd.aio
async def main():
    async with sysd.aio.connect(user=True) as sd:
        name = "sysdt-userev.service"
        async with sd.events(units=[name]) as stream:
            props = [("ExecStart", sysd.Variant("a(sasb)", [("/bin/true", ["/bin/true"], False)])),
                     ("Type", sysd.Variant("s", "oneshot")),
                     ("RemainAfterExit", sysd.Variant("b", True))]
            await sd.manager_call("StartTransientUnit", "ssa(sv)a(sa(sv))",
                                  (name, "fail", props, []))
            async for event in stream:
                if isinstance(event, sysd.UnitChanged) and event.active_state == "active":
                    print("active", event.sub_state)
                    break
        done = await sd.wait_for_units([name], "active", timeout=10)
        print("waited", done[name].sub_state)
        await sd.manager_call("StopUnit", "ss", (name, "replace"))
asyncio.run(main())
"""


def test_unprivileged_user_streams_the_system_manager_read_only(
    test_user: tuple[str, int], units
) -> None:  # type: ignore[no-untyped-def]
    name = units.add(
        "userro", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"
    )
    units.reload()
    user, _uid = test_user
    env = [f"PATH={os.environ.get('PATH', '/usr/bin:/bin')}", f"HOME=/home/{user}"]
    proc = subprocess.Popen(
        [
            "runuser",
            "-u",
            user,
            "--",
            "env",
            "-i",
            *env,
            sys.executable,
            "-c",
            USER_SYSTEM_STREAM,
            name,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.startswith("ready True"), ready + proc.stderr.read()  # type: ignore[union-attr]
        with sysd.connect() as sd:
            sd.unit(name).start()
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "active ('activating', 'start', 'loaded')", out
    assert lines[1:] == ["holders 1", "holders 0"], out


def test_unprivileged_user_streams_its_own_manager(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(USER_OWN_STREAM)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["active exited", "waited exited"], proc.stdout


@pytest.mark.parametrize(
    "pattern", ["*.service", "sys-*", "*[.]mount", "[!s]*", "systemd-?ournald*", "*@*", "-.*"]
)
def test_patterns_select_what_systemctl_list_units_selects(pattern: str, sd: sysd.Systemd) -> None:
    out = subprocess.run(
        ["systemctl", "list-units", "--all", "--plain", "--no-legend", "--full", "--", pattern],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    theirs = {line.split()[0] for line in out.splitlines() if line.strip()}
    f = sysd.Events(sd, patterns=[pattern]).filter
    ours = {u.name for u in sd.list_units() if f.wants_unit(u.name)}
    assert ours == theirs


def test_units_a_reload_removed_and_did_not_add_back_are_read_again(units) -> None:  # type: ignore[no-untyped-def]
    # systemd re-adds every unit it keeps before its Reloading(false); one it does not
    # re-add cannot be made to happen on demand: its signals are fed to the stream here,
    # and what counts (is it still loaded?) is asked of the real systemd
    kept = units.add("kept", RAE)
    units.reload()
    gone = f"sysdt-never-{tag()}.service"
    with sysd.connect(private=True) as sd:
        sd.unit(kept).start()
        with sd.events(units=[kept, gone], kinds=[UnitRemoved, UnitNew]) as stream:
            manager = ("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")
            for member, signature, body in [
                ("Reloading", "b", [True]),
                ("UnitRemoved", "so", [kept, unitname.to_dbus_path(kept)]),
                ("UnitRemoved", "so", [gone, unitname.to_dbus_path(gone)]),
                ("Reloading", "b", [False]),
            ]:
                stream._on_signal(Message.new_signal(*manager, member, signature, body))
            assert stream.get(timeout=10) == UnitRemoved(gone)
            assert stream.get(timeout=10) == Resynced(frozenset())  # after the reload
            with pytest.raises(sysd.WaitTimeoutError):
                stream.get(timeout=0.5)  # nothing about the unit still loaded
        sd.manager_call("StopUnit", "ss", (kept, "replace"))


@pytest.mark.parametrize("private", [True, False], ids=["private", "bus"])
def test_enabling_and_disabling_a_unit_file_is_reported(
    units,
    private: bool,
    systemd_host: None,  # type: ignore[no-untyped-def]
) -> None:
    name = units.add("files", RAE + "\n[Install]\nWantedBy=multi-user.target\n")
    units.reload()
    with sysd.connect(private=private) as sd, sd.events(kinds=[UnitFilesChanged]) as stream:
        changes = sd.enable(name, runtime=True, reload=False)
        assert changes  # a symlink made: systemd says UnitFilesChanged
        assert stream.get(timeout=30) == UnitFilesChanged()
        sd.disable(name, runtime=True, reload=False)
        assert stream.get(timeout=30) == UnitFilesChanged()
        with pytest.raises(sysd.WaitTimeoutError):  # once per change, nothing else
            stream.get(timeout=0.3)
