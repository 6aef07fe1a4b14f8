"""sd.proxy() against the real services of the sandbox, compared with busctl.

hostnamed, timedated, localed, logind and machined are bus-activated in the sandbox:
introspecting them starts them.  Every property is read through the proxy and through
``busctl --json=short get-property`` and must be equal (a differential test); calls
with arguments of the wrong type must fail before anything is sent; signals arrive
through the proxy's stream, whose match rule is gone once the stream is left.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

import sysd
import sysd.aio
from sysd._core.introspect import split_signature
from sysd.cli.basic import jsonable

SERVICES = {
    "hostname1": ("org.freedesktop.hostname1", "/org/freedesktop/hostname1"),
    "timedate1": ("org.freedesktop.timedate1", "/org/freedesktop/timedate1"),
    "locale1": ("org.freedesktop.locale1", "/org/freedesktop/locale1"),
    "login1": ("org.freedesktop.login1", "/org/freedesktop/login1"),
    "machine1": ("org.freedesktop.machine1", "/org/freedesktop/machine1"),
}
# values that move between two reads: (interface, property) -> allowed difference
MOVING = {
    ("org.freedesktop.timedate1", "TimeUSec"): 120_000_000,
    ("org.freedesktop.timedate1", "RTCTimeUSec"): 120_000_000,
}


@pytest.fixture
def bus_sd(systemd_host: None) -> Iterator[sysd.Systemd]:
    """A connection over the system bus (the private socket reaches systemd only)."""
    with sysd.connect(private=False) as sd:
        yield sd


def _plain(sig: str, data: Any) -> Any:
    """busctl's JSON value of type ``sig`` with its variants' type/data wrappers removed."""
    c = sig[0]
    if c == "v":
        return _plain(data["type"], data["data"])
    if c == "(":
        return [_plain(f, d) for f, d in zip(split_signature(sig[1:-1]), data, strict=True)]
    if c == "a":
        child = sig[1:]
        if child.startswith("{"):
            value = child[2:-1]
            return {str(k): _plain(value, v) for k, v in data.items()}
        return [_plain(child, d) for d in data]
    return data


def _busctl(*args: str) -> tuple[int, Any]:
    proc = subprocess.run(
        ["busctl", "--json=short", *args], capture_output=True, text=True, timeout=60, check=False
    )
    if proc.returncode:
        return proc.returncode, proc.stderr
    return 0, json.loads(proc.stdout)


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_property_reads_as_busctl_reads_it(bus_sd: sysd.Systemd, service: str) -> None:
    dest, path = SERVICES[service]
    p = bus_sd.proxy(dest, path)
    compared = 0
    for iface_name in p.interfaces:
        iface = p.interface(iface_name)
        for prop in iface.info.properties.values():
            try:
                mine: Any = ("ok", iface.get(prop.name))
            except sysd.DBusError as exc:
                mine = ("error", exc.name)
            code, theirs = _busctl("get-property", dest, path, iface_name, prop.name)
            if code:
                assert mine[0] == "error", f"{prop.name}: busctl failed ({theirs}), we read {mine}"
                continue
            assert mine[0] == "ok", f"{prop.name}: we got {mine}, busctl read {theirs}"
            assert theirs["type"] == prop.signature
            want = _plain(prop.signature, theirs["data"])
            got = jsonable(mine[1])
            slack = MOVING.get((iface_name, prop.name))
            if slack is not None:
                assert abs(got - want) <= slack, prop.name
            else:
                assert got == want, f"{iface_name}.{prop.name}"
            # snake_case names read the same property
            if slack is None:
                assert jsonable(iface.get(prop.py_name)) == want
            compared += 1
        if iface.info.properties:
            every = iface.get_all()
            assert set(every) <= set(iface.info.properties)
    assert compared >= 3


def test_method_replies_match_busctl(bus_sd: sysd.Systemd) -> None:
    dest, path = SERVICES["timedate1"]
    zones = bus_sd.proxy(dest, path).timedate1.list_timezones()
    code, theirs = _busctl("call", dest, path, "org.freedesktop.timedate1", "ListTimezones")
    assert code == 0
    assert zones == theirs["data"][0]
    assert "UTC" in zones
    dest, path = SERVICES["login1"]
    sessions = bus_sd.proxy(dest, path).interface("login1.Manager").list_sessions()
    code, theirs = _busctl("call", dest, path, "org.freedesktop.login1.Manager", "ListSessions")
    assert code == 0
    assert jsonable(sessions) == theirs["data"][0]


def test_names_reach_the_same_interface(bus_sd: sysd.Systemd) -> None:
    p = bus_sd.proxy(*SERVICES["hostname1"])
    full = p.interface("org.freedesktop.hostname1")
    assert p.hostname1.info is full.info
    assert p["hostname1"].info is full.info
    assert (
        full.get("Hostname")
        == full.get("hostname")
        == bus_sd.get_property(
            SERVICES["hostname1"][1],
            "org.freedesktop.hostname1",
            "Hostname",
            destination="org.freedesktop.hostname1",
        )
    )
    assert full.set_static_hostname.name == "SetStaticHostname"
    assert full.method("SetStaticHostname").info is full.set_static_hostname.info
    assert "set_static_hostname" in dir(full)
    assert "hostname1" in dir(p)
    login = bus_sd.proxy(*SERVICES["login1"])
    assert login.manager.name == "org.freedesktop.login1.Manager"


def test_introspected_once_per_connection(bus_sd: sysd.Systemd) -> None:
    first = bus_sd.proxy(*SERVICES["locale1"])
    serial = bus_sd.bus._serial
    again = bus_sd.proxy(*SERVICES["locale1"])
    assert again.node is first.node
    assert bus_sd.bus._serial == serial  # nothing sent
    fresh = bus_sd.proxy(*SERVICES["locale1"], refresh=True)
    assert fresh.node is not first.node and fresh.node == first.node
    with sysd.connect(private=False) as other:
        assert other.proxy(*SERVICES["locale1"]).node is not first.node


@pytest.mark.parametrize(
    ("service", "interface", "method", "args", "says"),
    [
        ("hostname1", "hostname1", "SetHostname", (1, False), r"argument 1 \(hostname\)"),
        ("hostname1", "hostname1", "set_static_hostname", ("x", "no"), "must be a bool"),
        ("timedate1", "timedate1", "SetTime", ("now", False, False), "must be an int64"),
        ("timedate1", "timedate1", "set_timezone", ("UTC",), "missing"),
        ("locale1", "locale1", "SetLocale", ("LANG=C", False), "must be a list"),
        ("login1", "Manager", "GetSession", (b"1",), "must be a str"),
        ("login1", "Manager", "KillSession", ("1", "all", 2**40), "out of range"),
        ("machine1", "Manager", "GetMachine", ("a", "b"), "takes 1 argument"),
    ],
)
def test_wrong_arguments_fail_before_sending(
    bus_sd: sysd.Systemd,
    service: str,
    interface: str,
    method: str,
    args: tuple[Any, ...],
    says: str,
) -> None:
    iface = bus_sd.proxy(*SERVICES[service]).interface(interface)
    serial = bus_sd.bus._serial
    with pytest.raises(sysd.InvalidCallError, match=says):
        iface.method(method)(*args)
    assert bus_sd.bus._serial == serial  # nothing was sent


def test_missing_things_are_typed_errors(bus_sd: sysd.Systemd) -> None:
    with pytest.raises(sysd.ServiceUnknownError):
        bus_sd.proxy("org.example.NoSuchService", "/")
    with pytest.raises(sysd.UnknownObjectError):
        bus_sd.proxy("org.freedesktop.hostname1", "/org/freedesktop/nowhere")
    with pytest.raises(sysd.InvalidCallError):
        bus_sd.proxy("org.freedesktop.hostname1", "not a path")
    p = bus_sd.proxy(*SERVICES["hostname1"])
    serial = bus_sd.bus._serial
    with pytest.raises(sysd.UnknownMethodError, match=r"UnknownInterface.*hint: its interfaces"):
        p.interface("org.example.Nope")
    with pytest.raises(AttributeError, match="interfaces:"):
        _ = p.nope
    with pytest.raises(sysd.UnknownMethodError, match="no method 'Frobnicate'"):
        p.hostname1.method("Frobnicate")
    with pytest.raises(AttributeError, match=r"properties are read with \.get"):
        _ = p.hostname1.hostname
    with pytest.raises(sysd.UnknownPropertyError, match="no property 'Nope'"):
        p.hostname1.get("Nope")
    with pytest.raises(sysd.PropertyReadOnlyError, match="set_hostname"):
        p.hostname1.set("Hostname", "x")
    with pytest.raises(sysd.UnknownMethodError, match="no signal"):
        p.hostname1.signals("Nope")
    assert bus_sd.bus._serial == serial  # all decided locally


def test_private_socket_reaches_systemd_only(sd: sysd.Systemd) -> None:
    if sd.bus.target.hello:
        pytest.skip("this connection is on the bus, not the private socket")
    with pytest.raises(sysd.InvalidCallError, match="private socket"):
        sd.proxy("org.freedesktop.hostname1", "/org/freedesktop/hostname1")
    manager = sd.proxy(None, "/org/freedesktop/systemd1").manager
    assert manager.get("Version") == sd.version
    assert sd.proxy("org.freedesktop.systemd1", "/org/freedesktop/systemd1").interfaces


def test_systemd_through_the_proxy(bus_sd: sysd.Systemd) -> None:
    p = bus_sd.proxy("org.freedesktop.systemd1", "/org/freedesktop/systemd1")
    unit_path = p.manager.get_unit("dbus.service")
    unit = bus_sd.proxy("org.freedesktop.systemd1", unit_path)
    assert unit.unit.get("Id") == "dbus.service"
    assert unit.service.get("main_pid") > 0
    assert "/org/freedesktop/systemd1/unit" in p.children


def _matches(sd: sysd.Systemd | sysd.aio.AsyncSystemd) -> int:
    """The match rules dbus-daemon holds for the connection (as reliability_support's)."""
    assert sd.bus.unique_name
    with sysd.connect(private=False) as probe:
        stats = probe.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.Debug.Stats",
            "GetConnectionStats",
            "s",
            (sd.bus.unique_name,),
        )
    return int(stats["MatchRules"])


@pytest.fixture
def pretty_hostname_restored(bus_sd: sysd.Systemd) -> Iterator[str]:
    host = bus_sd.proxy(*SERVICES["hostname1"]).hostname1
    before = host.get("PrettyHostname")
    yield before
    host.set_pretty_hostname(before, False)


def test_properties_changed_through_the_stream(
    bus_sd: sysd.Systemd, pretty_hostname_restored: str
) -> None:
    host = bus_sd.proxy(*SERVICES["hostname1"]).hostname1
    before = _matches(bus_sd)
    with host.properties_changed() as changes:
        assert changes.active and _matches(bus_sd) == before + 2  # the signal and its owner
        with sysd.connect(private=False) as other:  # someone else changes it
            other.proxy(*SERVICES["hostname1"]).hostname1.set_pretty_hostname("Proxy Test", False)
        signal = changes.next(timeout=30)
        assert signal.member == "PropertiesChanged"
        assert signal.path == SERVICES["hostname1"][1]
        assert signal.args[0] == "org.freedesktop.hostname1"
        assert signal.args[1]["PrettyHostname"] == "Proxy Test"
        with pytest.raises(sysd.BusTimeoutError, match="no signal"):
            changes.next(timeout=0.05)
    assert not changes.active
    assert _matches(bus_sd) == before
    with pytest.raises(sysd.InvalidCallError, match="enter the signal stream first"):
        changes.next(timeout=0)


def test_signals_asyncio(pretty_hostname_restored: str) -> None:
    async def main() -> None:
        async with sysd.aio.connect(private=False) as sd:
            p = await sd.proxy(*SERVICES["hostname1"])
            before = _matches(sd)
            async with p.signals("org.freedesktop.DBus.Properties", "PropertiesChanged") as s:
                await p.hostname1.set_pretty_hostname("Proxy Async", False)
                async for signal in s:
                    assert signal.args[1] == {"PrettyHostname": "Proxy Async"}
                    break
            assert _matches(sd) == before
            # a task cancelled while it waits takes its rule with it
            stream = p.hostname1.properties_changed()

            async def wait() -> None:
                async with stream:
                    await stream.next()

            task = asyncio.create_task(wait())
            async with asyncio.timeout(30):  # a stream that ends at once fails here, bounded
                while not stream.active:
                    assert not task.done(), task
                    await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert _matches(sd) == before

    asyncio.run(main())


def test_keywords_bind_arguments_before_options(
    bus_sd: sysd.Systemd, pretty_hostname_restored: str
) -> None:
    host = bus_sd.proxy(*SERVICES["hostname1"]).hostname1
    # `interactive` is SetPrettyHostname's own argument here, not the call option
    host.set_pretty_hostname("Keyword", interactive=False)
    assert host.get("PrettyHostname") == "Keyword"
    host.set_pretty_hostname.options(timeout=30, interactive=False)(
        hostname="Options", interactive=False
    )
    assert host.get("pretty_hostname") == "Options"
    host.call("SetPrettyHostname", "Call", False)
    assert host.get("PrettyHostname") == "Call"
    td = bus_sd.proxy(*SERVICES["timedate1"]).timedate1
    assert "UTC" in td.list_timezones(timeout=30)  # no such argument: the option
    serial = bus_sd.bus._serial
    with pytest.raises(sysd.InvalidCallError, match="no argument named 'color'"):
        host.set_pretty_hostname("x", False, color=True)
    assert bus_sd.bus._serial == serial


def test_broken_introspection_is_a_typed_error(
    bus_sd: sysd.Systemd, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no real service can be made to send broken XML: the reply is replaced, the rest is real
    real = bus_sd.call

    def call(destination: Any, path: str, interface: Any, member: str, *a: Any, **k: Any) -> Any:
        if member == "Introspect":
            return '<!DOCTYPE n [<!ENTITY x "xxxxxxxx">]><node>&x;</node>'
        return real(destination, path, interface, member, *a, **k)

    monkeypatch.setattr(bus_sd, "call", call)
    with pytest.raises(sysd.InvalidIntrospectionError, match="entity"):
        bus_sd.proxy("org.freedesktop.locale1", "/org/freedesktop/locale1", refresh=True)
    assert ("org.freedesktop.locale1", "/org/freedesktop/locale1") not in bus_sd._introspected


def test_asyncio_reads_what_the_blocking_flavour_reads(bus_sd: sysd.Systemd) -> None:
    async def main() -> dict[str, dict[str, Any]]:
        out = {}
        async with sysd.aio.connect(private=False) as sd:
            for name in ("hostname1", "locale1", "machine1"):
                p = await sd.proxy(*SERVICES[name])
                iface = p.interface(SERVICES[name][0] if name != "machine1" else "Manager")
                out[name] = await iface.get_all()
                assert await iface.get(next(iter(out[name]))) == next(iter(out[name].values()))
        return out

    got = asyncio.run(main())
    for name, values in got.items():
        p = bus_sd.proxy(*SERVICES[name])
        iface = p.interface(SERVICES[name][0] if name != "machine1" else "Manager")
        assert iface.get_all() == values


def test_signal_names_and_pending(bus_sd: sysd.Systemd, pretty_hostname_restored: str) -> None:
    p = bus_sd.proxy(*SERVICES["hostname1"])
    stream = p.signals("org.freedesktop.DBus.Properties", "properties_changed")
    assert "member='PropertiesChanged'" in stream.rule
    assert "sender='org.freedesktop.hostname1'" in stream.rule
    props = p.interface("org.freedesktop.DBus.Properties")
    assert "member='PropertiesChanged'" in props.signals("properties_changed").rule
    with stream:
        p.hostname1.set_pretty_hostname("Pending", False)
        first = stream.next(timeout=30)
        assert first.args[1] == {"PrettyHostname": "Pending"}
        assert stream.pending() == []
        with pytest.raises(sysd.InvalidCallError, match="already active"), stream:
            pass
        assert stream.active  # the refused second entry left the first alone
    assert "inactive" in repr(stream)
    before = _matches(bus_sd)
    with stream:  # a stream can be entered again once left
        p.hostname1.set_pretty_hostname("Again", False)
        assert stream.next(timeout=30).args[1] == {"PrettyHostname": "Again"}
    assert _matches(bus_sd) == before
