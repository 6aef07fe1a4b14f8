"""Resolving connect() options and D-Bus addresses (pure), and the ssh path end to end."""

from __future__ import annotations

import os

import pytest

import sysd
from sysd._bus.address import (
    SYSTEM_PRIVATE_SOCKET,
    Transport,
    escape_value,
    parse_address,
    resolve,
    unixexec_address,
)


def test_parse_unix_and_unixexec() -> None:
    assert parse_address("unix:path=/run/a%20b;unix:abstract=xyz") == [
        Transport("unix", path="/run/a b"),
        Transport("unix", abstract="xyz"),
    ]
    (t,) = parse_address("unixexec:path=ssh,argv1=-xT,argv2=host,argv3=systemd-stdio-bridge")
    assert t.kind == "unixexec" and t.path == "ssh"
    assert t.argv == ("ssh", "-xT", "host", "systemd-stdio-bridge")
    (t,) = parse_address(unixexec_address(["systemd-stdio-bridge", "--user", "a,b=c;d"]))
    assert t.argv == ("systemd-stdio-bridge", "--user", "a,b=c;d")
    assert escape_value("a b/é") == "a%20b/%c3%a9"


@pytest.mark.parametrize(
    "bad",
    ["", "nocolon", "tcp:host=x,port=1", "unix:", "unix:path", "unixexec:argv1=x", "unix:path=%ff"],
)
def test_bad_addresses(bad: str) -> None:
    with pytest.raises(sysd.BusConnectError):
        parse_address(bad)


def test_system_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from sysd._bus import address

    monkeypatch.setattr(address, "BOOTED_MARKER", "/")  # pretend booted
    t = resolve(environ={}, euid=1000)
    assert t.hello and t.scope == "system"
    assert t.transports == (Transport("unix", path="/run/dbus/system_bus_socket"),)
    t = resolve(environ={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/x"}, euid=0)
    assert t.transports == (Transport("unix", path="/x"),) and t.hello  # explicit env wins
    t = resolve(environ={}, euid=0, private=True)
    assert not t.hello and t.transports[0].path == SYSTEM_PRIVATE_SOCKET
    t = resolve(environ={}, euid=0, private=False)
    assert t.hello


def test_not_booted(monkeypatch: pytest.MonkeyPatch) -> None:
    from sysd._bus import address

    monkeypatch.setattr(address, "BOOTED_MARKER", "/nonexistent-marker")
    if not os.path.exists(SYSTEM_PRIVATE_SOCKET):
        with pytest.raises(sysd.NotBootedError):
            resolve(environ={}, euid=0)
    with pytest.raises(sysd.NotBootedError):
        resolve(environ={}, euid=1000)
    # an explicit address needs no booted host
    assert resolve(environ={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/x"}, euid=1000).hello


def test_user_scope() -> None:
    t = resolve(user=True, environ={"XDG_RUNTIME_DIR": "/run/user/7"}, euid=7)
    assert t.transports == (Transport("unix", path="/run/user/7/bus"),) and t.scope == "user"
    t = resolve(user=True, environ={"DBUS_SESSION_BUS_ADDRESS": "unix:path=/s"}, euid=7)
    assert t.transports == (Transport("unix", path="/s"),)
    t = resolve(user=True, private=True, environ={"XDG_RUNTIME_DIR": "/run/user/7"}, euid=7)
    assert t.transports[0].path == "/run/user/7/systemd/private" and not t.hello
    with pytest.raises(sysd.UserManagerNotRunningError, match="XDG_RUNTIME_DIR"):
        resolve(user=True, environ={}, euid=7)


GUARD = "test -d /run/systemd/system || "


@pytest.mark.parametrize(
    ("host", "dest", "port", "bridge"),
    [
        ("web1", "web1", None, ("systemd-stdio-bridge",)),
        ("root@web1:2222", "root@web1", 2222, ("systemd-stdio-bridge",)),
        ("web1/ctr", "web1", None, ("systemd-stdio-bridge", "--machine=ctr")),
    ],
)
def test_host_target(host: str, dest: str, port: int | None, bridge: tuple[str, ...]) -> None:
    t = resolve(host=host, environ={}, euid=0)
    (tr,) = t.transports
    assert tr.kind == "ssh" and t.scope == "remote" and not t.fds
    assert tr.ssh is not None and tr.ssh.host.destination == dest and tr.ssh.host.port == port
    assert tr.ssh.label == host and tr.ssh.ssh_config is None and not tr.ssh.sudo
    sh, c, script, zero, *rest = tr.argv
    assert (sh, c, zero) == ("sh", "-c", "sh") and script.startswith(GUARD)
    assert tuple(rest) == bridge
    user = resolve(host=host, user=True, environ={}, euid=0).transports[0].argv
    assert "--user" in user
    sudo = resolve(host=host, sudo=True, environ={}, euid=0).transports[0].argv
    assert sudo[4:] == ("sudo", "-n", "--", *bridge)


def test_host_ssh_config_from_the_environment() -> None:
    env = {"SYSD_SSH_CONFIG": "/etc/lab.conf"}
    route = resolve(host="h1", environ=env, euid=0).transports[0].ssh
    assert route is not None and route.ssh_config == "/etc/lab.conf"
    route = resolve(host="h1", ssh_config="/x", environ=env, euid=0).transports[0].ssh
    assert route is not None and route.ssh_config == "/x"
    with pytest.raises(ValueError, match=r"host= .* only"):
        resolve(sudo=True, environ={}, euid=0)
    with pytest.raises(ValueError, match="not with user=True"):
        resolve(host="h1", sudo=True, user=True, environ={}, euid=0)
    with pytest.raises(sysd.InvalidHostError, match="container"):
        resolve(host="h1/-x", environ={}, euid=0)


def test_machine_argv_and_exclusive_options() -> None:
    t = resolve(machine="ctr", environ={}, euid=0)
    assert t.transports[0].argv == ("systemd-stdio-bridge", "--machine=ctr")
    with pytest.raises(ValueError, match="only one"):
        resolve(machine="a", host="b", environ={}, euid=0)
    with pytest.raises(sysd.InvalidHostError):
        resolve(host="-oProxyCommand=evil", environ={}, euid=0)
