"""An event stream (and a proxy's signal stream) on the system bus across ``systemctl
restart dbus`` (issue 12).

Restarting dbus inside the suite's own sandbox ends its test runner, so this runs on the
host (``@pytest.mark.host``) against a throwaway sandbox of its own, as
test_dbus_restart.py does.  dbus-daemon is restarted and, before the stream reads again,
a unit is started: the stream reconnects by itself, reports the unit's change (from the
state it last reported) and ``Resynced``; no Reexecuted (systemd did not re-execute).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Iterator

import pytest
from reliability_support import match_rules

import sysd
import sysd.aio
import sysd.sandbox
from sysd import Reexecuted, Resynced, UnitChanged

pytestmark = [
    pytest.mark.host,
    pytest.mark.skipif(os.geteuid() != 0, reason="booting a sandbox needs root"),
]

KILL_DBUS = "kill -9 $(systemctl show -p MainPID --value dbus); systemctl stop dbus.socket"
RESTORE_DBUS = (  # and wait until systemd owns its name on the new bus
    "systemctl reset-failed dbus; systemctl start dbus.socket dbus; for i in $(seq 100); "
    "do busctl status org.freedesktop.systemd1 >/dev/null 2>&1 && break; sleep 0.1; done"
)
RAE = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"


@pytest.fixture(scope="module")
def sb() -> Iterator[sysd.sandbox.Sandbox]:
    name = f"sysd-h4-events-{uuid.uuid4().hex[:6]}"
    with sysd.sandbox.Sandbox(name=name, user_manager=False) as box:
        yield box


def _sh(sb: sysd.sandbox.Sandbox, script: str) -> str:
    return sb.exec(["sh", "-c", script], capture=True, check=True, timeout=60).stdout


def _restart_dbus_then(sb: sysd.sandbox.Sandbox, then: str) -> None:
    # systemd reconnects to the new bus by itself: wait until it owns its name there
    _sh(
        sb,
        "systemctl restart dbus; for i in $(seq 100); do "
        "busctl status org.freedesktop.systemd1 >/dev/null 2>&1 && break; sleep 0.1; done; " + then,
    )


def _unit(sb: sysd.sandbox.Sandbox, tag: str) -> str:
    name = f"sysdr-evdbus-{tag}.service"
    sb.exec(
        ["sh", "-c", f"cat > /run/systemd/system/{name}"],
        input=RAE,
        capture=True,
        check=True,
        timeout=30,
    )
    _sh(sb, "systemctl daemon-reload")
    return name


def _cleanup(sb: sysd.sandbox.Sandbox, name: str) -> None:
    _sh(sb, f"systemctl stop {name}; rm -f /run/systemd/system/{name}; systemctl daemon-reload")


def test_asyncio_stream_resumes_after_dbus_restart(sb: sysd.sandbox.Sandbox) -> None:
    name = _unit(sb, uuid.uuid4().hex[:8])

    async def main() -> list[sysd.Event]:
        got: list[sysd.Event] = []
        async with asyncio.timeout(90):
            async with (
                sysd.aio.connect(address=sb.bus_address) as sd,
                sd.events(units=[name]) as stream,
            ):
                for i in range(2):
                    verb = "start" if i == 0 else "stop"
                    await asyncio.to_thread(_restart_dbus_then, sb, f"systemctl {verb} {name}")
                    want = "active" if i == 0 else "inactive"
                    while True:
                        event = await stream.get(timeout=60)
                        got.append(event)
                        if isinstance(event, Resynced) and [
                            e.active_state
                            for e in got
                            if isinstance(e, UnitChanged) and e.unit == name
                        ][-1:] == [want]:
                            break
                sub = sd._subscription
                assert sub.reconnects >= 2
            assert (sub.holders, sub.active, sub.listeners) == (0, False, [])
        return got

    try:
        got = asyncio.run(main())
    finally:
        _cleanup(sb, name)
    changes = [e for e in got if isinstance(e, UnitChanged)]
    assert [c.active_state for c in changes] == ["active", "inactive"], got
    assert changes[0].previous is None  # not loaded when the stream opened: never seen
    assert changes[1].previous == changes[0].state
    assert sum(isinstance(e, Resynced) for e in got) == 2
    assert not [e for e in got if isinstance(e, Reexecuted)]


def test_blocking_stream_resumes_after_dbus_restart(sb: sysd.sandbox.Sandbox) -> None:
    name = _unit(sb, uuid.uuid4().hex[:8])
    try:
        with (
            sysd.connect(address=sb.bus_address) as sd,
            sd.events(units=[name], kinds=[UnitChanged]) as stream,
        ):
            _restart_dbus_then(sb, f"systemctl start {name}")
            end = time.monotonic() + 60
            got: list[sysd.Event] = []
            while not any(isinstance(e, UnitChanged) and e.active_state == "active" for e in got):
                got.append(stream.get(timeout=max(0.0, end - time.monotonic())))
            # Resynced is about the stream itself: delivered whatever ``kinds`` says
            assert isinstance(stream.get(timeout=30), Resynced) or any(
                isinstance(e, Resynced) for e in got
            )
        assert sd._subscription.holders == 0 and sd._subscription.listeners == []
    finally:
        _cleanup(sb, name)


def test_reconnect_seconds_bound_the_wait_while_dbus_stays_down(sb: sysd.sandbox.Sandbox) -> None:
    """``reconnect=2``: dbus-daemon killed and kept down, the stream tries for about
    that long, then get() raises the typed disconnect; the stream leaves cleanly."""
    name = _unit(sb, uuid.uuid4().hex[:8])
    try:
        with (
            sysd.connect(address=sb.bus_address) as sd,
            sd.events(units=[name], reconnect=2) as stream,
        ):
            assert stream.reconnect_limit == 2
            _sh(sb, KILL_DBUS)
            t0 = time.monotonic()
            with pytest.raises(sysd.BusDisconnectedError, match="did not come back"):
                while True:
                    stream.get(timeout=60)
            took = time.monotonic() - t0
        print(f"gave up after {took:.1f} s")
        assert took < 30  # the 2 s bound, not get()'s 60 s nor the default 60 s
        assert sd._subscription.holders == 0 and sd._subscription.listeners == []
    finally:
        _sh(sb, RESTORE_DBUS)
        _cleanup(sb, name)


def _match_rules(sb: sysd.sandbox.Sandbox, unique_name: str) -> int:
    return match_rules(unique_name, address=sb.bus_address)


def test_a_proxy_signal_stream_resumes_after_dbus_restart(sb: sysd.sandbox.Sandbox) -> None:
    """``properties_changed(reconnect=True)`` of hostnamed: dbus-daemon restarted under
    it, the stream reconnects, adds its two rules (the signal, hostnamed's owner) on the
    new bus and hears hostnamed there (a new process, activated by the call after)."""
    with sysd.connect(address=sb.bus_address) as sd:
        host = sd.proxy("org.freedesktop.hostname1", "/org/freedesktop/hostname1").hostname1
        before = host.get("PrettyHostname")
        try:
            with host.properties_changed(reconnect=True) as changes:
                first = sd.bus
                assert first.unique_name is not None
                assert _match_rules(sb, first.unique_name) == 2
                _restart_dbus_then(sb, "true")
                end = time.monotonic() + 60
                while changes.reconnects < 1:  # only next() resumes the stream
                    assert time.monotonic() < end, "the stream did not resume"
                    with contextlib.suppress(sysd.BusTimeoutError):
                        changes.next(timeout=0.2)
                assert sd.bus is not first and sd.bus.unique_name is not None
                assert _match_rules(sb, sd.bus.unique_name) == 2
                host.set_pretty_hostname("Across a restart", False)
                while changes.next(timeout=30).args[1].get("PrettyHostname") != (
                    "Across a restart"
                ):
                    pass
            assert _match_rules(sb, sd.bus.unique_name) == 0
        finally:
            host.set_pretty_hostname(before, False)


def test_a_proxy_signal_stream_gives_up_after_its_reconnect_bound(
    sb: sysd.sandbox.Sandbox,
) -> None:
    """``reconnect=2`` with dbus-daemon killed and kept down: ``next()`` tries for about
    that long, then raises the typed disconnect, and so does every later ``next()`` (the
    stream has ended); a short timeout meanwhile is a timeout, not the end."""
    with sysd.connect(address=sb.bus_address) as sd:
        host = sd.proxy("org.freedesktop.hostname1", "/org/freedesktop/hostname1").hostname1
        try:
            with host.properties_changed(reconnect=2) as changes:
                _sh(sb, KILL_DBUS)
                t0 = time.monotonic()
                with pytest.raises(sysd.BusTimeoutError):
                    changes.next(timeout=0.5)  # within the bound: still being regained
                assert changes.active
                with pytest.raises(sysd.BusDisconnectedError, match="did not come back"):
                    changes.next(timeout=60)
                took = time.monotonic() - t0
                with pytest.raises(sysd.BusDisconnectedError, match="not regained"):
                    changes.next(timeout=1)
            assert not changes.active
            print(f"gave up after {took:.1f} s")
            assert took < 30  # the 2 s bound, not next()'s 60 s nor the default 60 s
        finally:
            _sh(sb, RESTORE_DBUS)
