"""sysd._core.machine: machined's name rules and records, as tables (no bus)."""

from __future__ import annotations

import ipaddress
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from sysd._bus.address import machine_bus_socket, machine_leader, resolve
from sysd._core.machine import (
    MachineStatus,
    addresses,
    check_image_name,
    check_kill,
    check_machine_name,
    check_path,
    hostname_is_valid,
    image_name_is_valid,
    image_rows,
    machine_info,
)
from sysd.errors import InvalidMachineCallError

# hostname_is_valid() of systemd 252 (src/basic/hostname-util.c), its test cases
HOSTNAMES = [
    ("foobar", True),
    ("foobar.com", True),
    ("fooBAR", True),
    ("fooBAR.com", True),
    ("a-b.c-d", True),
    ("h11-ct", True),
    ("x" * 64, True),
    ("x" * 65, False),
    ("", False),
    ("fööbar", False),
    ("foo_bar", False),
    (".", False),
    ("..", False),
    ("foobar.", False),
    (".foobar", False),
    ("foo..bar", False),
    ("foo.bar..", False),
    ("-foo", False),
    ("foo-", False),
    ("foo.-bar", False),
    ("foo-.bar", False),
    ("foo bar", False),
]


@pytest.mark.parametrize(("name", "valid"), HOSTNAMES)
def test_hostname_is_valid(name: str, valid: bool) -> None:
    assert hostname_is_valid(name) is valid


def test_dot_host_only_as_a_machine() -> None:
    assert not hostname_is_valid(".host")
    assert hostname_is_valid(".host", dot_host=True)
    assert check_machine_name(".host") == ".host"
    with pytest.raises(InvalidMachineCallError) as info:
        check_machine_name(".host", host=False)
    assert info.value.field == "name" and "hint" in str(info.value)


@pytest.mark.parametrize("bad", ["", "a_b", "-a", 3, None, b"x"])
def test_check_machine_name_refuses(bad: object) -> None:
    with pytest.raises(InvalidMachineCallError):
        check_machine_name(bad)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("image", True),
        ("my_image-2.raw", True),
        (".host", True),
        ("", False),
        (".", False),
        ("..", False),
        ("a/b", False),
        (".#tmp", False),
        ("tab\there", False),
        ("x" * 255, True),
        ("x" * 256, False),
    ],
)
def test_image_name_is_valid(name: str, valid: bool) -> None:
    assert image_name_is_valid(name) is valid
    if not valid:
        with pytest.raises(InvalidMachineCallError):
            check_image_name(name)


@pytest.mark.parametrize(
    ("whom", "sig", "ok"),
    [
        ("all", signal.SIGTERM, True),
        ("leader", 9, True),
        ("everyone", 15, False),
        ("all", 0, False),
        ("all", 65, False),
        ("all", True, False),
        ("all", "TERM", False),
    ],
)
def test_check_kill(whom: str, sig: object, ok: bool) -> None:
    if ok:
        assert check_kill(whom, sig) == (whom, int(sig))  # type: ignore[call-overload]
    else:
        with pytest.raises(InvalidMachineCallError):
            check_kill(whom, sig)


def test_check_path() -> None:
    assert check_path("/a/b", "source") == "/a/b"
    assert check_path(Path("/a"), "source") == "/a"
    for bad in ("a/b", "", "/a\0b", 3):
        with pytest.raises(InvalidMachineCallError) as info:
            check_path(bad, "destination")
        assert info.value.field == "destination"


def test_addresses_and_images() -> None:
    rows = [
        (socket.AF_INET, [10, 0, 0, 2]),
        (socket.AF_INET6, list(ipaddress.IPv6Address("fe80::1").packed)),
        (99, [1, 2]),
    ]
    assert addresses(rows) == (
        ipaddress.IPv4Address("10.0.0.2"),
        ipaddress.IPv6Address("fe80::1"),
    )
    (img,) = image_rows([("web", "directory", False, 1_700_000_000_000_000, 0, 2**64 - 1, "/p")])
    assert img.created == datetime.fromtimestamp(1_700_000_000, UTC)
    assert img.modified is None and img.usage is None and not img.read_only


def test_machine_info_from_status() -> None:
    status = MachineStatus.from_dbus(
        {
            "Name": "web",
            "Id": bytes(range(16)),
            "Leader": 42,
            "Class": "container",
            "RootDirectory": "/srv/web",
            "State": "running",
            "Unit": "machine-web.scope",
            "Timestamp": 0,
        }
    )
    info = machine_info(("web", "container", "nspawn", "/p"), status, (), {"ID": "debian"})
    assert info.leader == 42 and info.id == UUID(bytes=bytes(range(16)))
    assert info.timestamp is None and info.os == "debian" and info.version is None
    gone = machine_info(("web", "container", "nspawn", "/p"), None, (), None)
    assert gone.leader is None and gone.os is None and gone.state == ""


def test_machine_leader_from_machined_state(tmp_path: Path) -> None:
    (tmp_path / "web").write_text("# machined\nNAME=web\nLEADER=4711\nCLASS=container\n")
    (tmp_path / "odd").write_text("LEADER=x\n")
    assert machine_leader("web", str(tmp_path)) == 4711
    assert machine_leader("odd", str(tmp_path)) is None
    assert machine_leader("none", str(tmp_path)) is None
    assert machine_leader("../web", str(tmp_path)) is None
    assert machine_bus_socket("web", str(tmp_path)) is None  # no such process root


def test_resolve_machine_without_its_socket_bridges() -> None:
    t = resolve(machine="h11-none", environ={}, euid=0)
    assert t.transports[0].kind == "unixexec" and not t.fds and t.machine == "h11-none"
    assert "systemd-stdio-bridge: no fd passing" in t.description
    user = resolve(machine="h11-none", user=True, environ={}, euid=0)
    assert user.transports[0].argv[-1] == "--user"
