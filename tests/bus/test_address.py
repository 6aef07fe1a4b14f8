"""Resolving connect() options and D-Bus addresses (pure), and the ssh path end to end."""

from __future__ import annotations

import os
import stat

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


@pytest.mark.parametrize(
    ("host", "argv"),
    [
        ("web1", ("ssh", "-xT", "--", "web1", "systemd-stdio-bridge")),
        ("root@web1:2222", ("ssh", "-xT", "-p", "2222", "--", "root@web1", "systemd-stdio-bridge")),
        (
            "web1/ctr",
            ("ssh", "-xT", "--", "web1", "systemd-stdio-bridge", "--machine=ctr"),
        ),
    ],
)
def test_host_argv(host: str, argv: tuple[str, ...]) -> None:
    t = resolve(host=host, environ={}, euid=0)
    assert t.transports[0].argv == argv and t.scope == "remote" and not t.fds
    user_argv = resolve(host=host, user=True, environ={}, euid=0).transports[0].argv
    assert "--user" in user_argv and set(user_argv) - {"--user"} == set(argv)


def test_machine_argv_and_exclusive_options() -> None:
    t = resolve(machine="ctr", environ={}, euid=0)
    assert t.transports[0].argv == ("systemd-stdio-bridge", "--machine=ctr")
    with pytest.raises(ValueError, match="only one"):
        resolve(machine="a", host="b", environ={}, euid=0)
    with pytest.raises(sysd.BusConnectError):
        resolve(host="-oProxyCommand=evil", environ={}, euid=0)


def test_host_over_ssh_end_to_end(
    tmp_path, monkeypatch: pytest.MonkeyPatch, systemd_host: None
) -> None:  # type: ignore[no-untyped-def]
    """host= spawns `ssh -xT ... HOST systemd-stdio-bridge`: a stand-in ssh that runs the
    remote command locally proves the whole path (spawn, socketpair, auth, Hello)."""
    fake = tmp_path / "ssh"
    fake.write_text(
        "#!/bin/sh\n"
        'echo "$@" > "$(dirname "$0")/argv"\n'
        'while [ "$1" != -- ]; do shift; done; shift; shift\n'
        'exec "$@"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with sysd.connect(host="admin@example:2222") as sd:
        assert sd.version
        assert sd.target.scope == "remote"
    assert (tmp_path / "argv").read_text().split() == [
        "-xT",
        "-p",
        "2222",
        "--",
        "admin@example",
        "systemd-stdio-bridge",
    ]
