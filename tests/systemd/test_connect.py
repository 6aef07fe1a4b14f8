"""Connecting to the real systemd every way sysd supports, blocking and asyncio.

Runs inside the sandbox (a real systemd as PID 1 of a container), as root, and
as the unprivileged test user where the issue asks for it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

import sysd
import sysd.aio
from sysd._bus import address as address_mod
from sysd._bus.address import unixexec_address

MANAGER = "org.freedesktop.systemd1.Manager"
PATH = "/org/freedesktop/systemd1"


def systemctl_version() -> str:
    first = subprocess.run(["systemctl", "--version"], capture_output=True, text=True, check=True)
    # "systemd 252 (252.39-1~deb12u2)"
    return first.stdout.split("(", 1)[1].split(")", 1)[0]


def both(kwargs: dict[str, Any], check: Callable[[Any, Any], None]) -> None:
    """Connect with kwargs blocking and async; check(target, version) for each."""
    with sysd.connect(**kwargs) as sd:
        check(sd.target, sd.version)
        assert sd.get_property(PATH, MANAGER, "SystemState") in ("running", "degraded")

    async def main() -> None:
        async with sysd.aio.connect(**kwargs) as asd:
            check(asd.target, await asd.version)
            assert await asd.get_property(PATH, MANAGER, "SystemState") in ("running", "degraded")

    asyncio.run(main())


CONNECTIONS = {
    "default-as-root": ({}, (False, "system")),
    "system-bus": ({"private": False}, (True, "system")),
    "private-socket": ({"private": True}, (False, "system")),
    "explicit-address": ({"address": "unix:path=/run/dbus/system_bus_socket"}, (True, "address")),
    "unixexec-bridge": ({"address": unixexec_address(["systemd-stdio-bridge"])}, (True, "address")),
}


@pytest.mark.parametrize("name", list(CONNECTIONS))
def test_connect(name: str, systemd_host: None) -> None:
    kwargs, (hello, scope) = CONNECTIONS[name]
    expected = systemctl_version()

    def check(target: Any, version: str) -> None:
        assert version == expected
        assert target.hello is hello
        assert target.scope == scope

    both(kwargs, check)


def test_unique_name_and_fd_negotiation(systemd_host: None) -> None:
    with sysd.connect(private=False) as sd:
        assert sd.bus.unique_name and sd.bus.unique_name.startswith(":1.")
        assert sd.bus.unix_fds
    with sysd.connect(private=True) as sd:
        assert sd.bus.unique_name is None  # peer-to-peer: no Hello
        assert sd.bus.unix_fds


def test_generic_property_reads(sd: sysd.Systemd) -> None:
    props = sd.get_all(PATH, MANAGER)
    assert props["Version"] == sd.version
    assert isinstance(props["NNames"], int) and props["NNames"] > 10
    assert isinstance(props["Environment"], list)
    assert sd.manager_property("Architecture") == props["Architecture"]
    sd.ping()
    units = sd.call(None, PATH, MANAGER, "ListUnits")
    assert any(u[0] == "multi-user.target" for u in units)


def test_user_manager_as_unprivileged_user(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(
        """
        import asyncio, sysd, sysd.aio
        with sysd.connect(user=True) as sd:
            print(sd.version, sd.target.scope, sd.manager_property("Scope") if False else "")
        async def main():
            async with sysd.aio.connect(user=True) as sd:
                print(await sd.version)
        asyncio.run(main())
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    expected = systemctl_version()
    assert lines[0].startswith(f"{expected} user")
    assert lines[1] == expected


def test_user_manager_without_runtime_dir(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(
        """
        import os, sysd
        os.environ.pop("XDG_RUNTIME_DIR", None)
        try:
            sysd.connect(user=True)
        except sysd.UserManagerNotRunningError as e:
            print("typed", isinstance(e, ConnectionError), e)
        """
    )
    assert proc.stdout.startswith("typed True"), proc.stdout + proc.stderr
    assert "XDG_RUNTIME_DIR" in proc.stdout


# --------------------------------------------------------------- error paths


def test_missing_socket(systemd_host: None) -> None:
    with pytest.raises(sysd.BusConnectError, match="no such socket"):
        sysd.connect(address="unix:path=/run/nothing/here")


def test_not_booted(monkeypatch: pytest.MonkeyPatch, systemd_host: None) -> None:
    # The same host, seen as one where systemd is not PID 1 (marker directory absent).
    monkeypatch.setattr(address_mod, "BOOTED_MARKER", "/run/sysd-test-no-such-dir")
    monkeypatch.delenv("DBUS_SYSTEM_BUS_ADDRESS", raising=False)
    with pytest.raises(sysd.NotBootedError, match="not been booted with systemd") as info:
        sysd.connect(private=False)
    assert "sandbox" in str(info.value)  # the hint says what to do
    assert isinstance(info.value, ConnectionError)

    async def main() -> None:
        with pytest.raises(sysd.NotBootedError):
            await sysd.aio.connect(private=False)

    asyncio.run(main())


def test_missing_unit_and_object_are_typed(sd: sysd.Systemd) -> None:
    with pytest.raises(sysd.NoSuchUnitError) as info:
        sd.call(None, PATH, MANAGER, "GetUnit", "s", ("sysd-no-such.service",))
    assert isinstance(info.value, LookupError)
    assert info.value.name == "org.freedesktop.systemd1.NoSuchUnit"
    assert "sysd-no-such.service" in info.value.message
    with pytest.raises(sysd.UnknownObjectError):
        sd.get_all("/org/freedesktop/systemd1/nothing_here", "org.freedesktop.systemd1.Unit")
    with pytest.raises(sysd.UnknownPropertyError):
        sd.get_property(PATH, MANAGER, "NoSuchProperty")
    with pytest.raises(sysd.UnknownMethodError):
        sd.call(None, PATH, MANAGER, "NoSuchMethod")
    with pytest.raises(sysd.InvalidArgsError, match="invocation ID"):
        sd.call(None, PATH, MANAGER, "GetUnitByInvocationID", "ay", (b"abc",))
    sd.ping()  # errors leave the connection usable


def test_unprivileged_mutating_call_needs_authorization(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(
        """
        import sysd
        with sysd.connect() as sd:
            print(sd.target.hello)  # not root: the system bus, not the private socket
            print(sd.manager_property("Version"))   # reads work
            try:
                sd.call(None, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                        "StartUnit", "ss", ("sysd-test-nothing.service", "replace"))
            except sysd.InteractiveAuthorizationRequiredError as e:
                print("typed", isinstance(e, PermissionError), e.name)
                print(str(e))
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "True"
    assert lines[2] == "typed True org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
    assert "interactive=True" in lines[3] and "polkit" in lines[3]


def test_private_socket_refused_for_unprivileged(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(
        """
        import sysd
        try:
            sysd.connect(private=True)
        except sysd.BusConnectError as e:
            print("typed", type(e).__name__, e)
        """
    )
    assert proc.stdout.startswith("typed BusConnectError"), proc.stdout + proc.stderr
    assert "permission denied" in proc.stdout


# ------------------------------------------------------------------ fds


def test_fd_received_from_systemd(sd: sysd.Systemd) -> None:
    fd = sd.call(None, PATH, MANAGER, "DumpByFileDescriptor")
    try:
        with os.fdopen(os.dup(fd), "rb") as f:
            head = f.read(200)
    finally:
        os.close(fd)
    assert head.startswith(b"Manager: systemd 252")


@pytest.mark.parametrize("flavour", ["blocking", "async"])
def test_fd_sent_to_systemd(flavour: str, systemd_host: None) -> None:
    """A pipe's write end goes to systemd as a transient unit's stdout and back to us."""
    r, w = os.pipe()
    name = f"sysd-fd-test-{flavour}-{os.getpid()}.service"
    props = [
        (
            "ExecStart",
            sysd.Variant("a(sasb)", [("/bin/echo", ["/bin/echo", "through", "systemd"], False)]),
        ),
        ("StandardOutputFileDescriptor", sysd.Variant("h", w)),
        ("Type", sysd.Variant("s", "oneshot")),
        ("CollectMode", sysd.Variant("s", "inactive-or-failed")),
    ]
    args = (name, "fail", props, [])
    try:
        if flavour == "blocking":
            with sysd.connect() as sd:
                sd.call(None, PATH, MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))", args)
        else:

            async def main() -> None:
                async with sysd.aio.connect() as asd:
                    await asd.call(
                        None, PATH, MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))", args
                    )

            asyncio.run(main())
        os.close(w)
        w = -1
        with os.fdopen(r, "rb") as f:
            r = -1
            assert f.read() == b"through systemd\n"
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)
