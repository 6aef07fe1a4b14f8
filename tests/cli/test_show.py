"""``sysd show``'s property printer against systemd 252's rules (no systemd needed).

tests/systemd/test_cli_diff_units.py compares it with ``systemctl show`` for every loaded unit.
"""

from __future__ import annotations

from typing import Any

import pytest

from sysd.cli._show import property_lines

USEC = 1_000_000
T0 = 1_700_000_000 * USEC  # Tue 2023-11-14 22:13:20 UTC


def show(name: str, signature: str, value: Any, show_empty: bool = False, **kw: Any) -> list[str]:
    return property_lines(name, signature, value, show_empty=show_empty, **kw)


@pytest.mark.parametrize(
    ("name", "signature", "value", "expected"),
    [
        ("Id", "s", "a.service", "a.service"),
        ("Description", "s", "two\nlines", "[unprintable]"),
        ("RemainAfterExit", "b", True, "yes"),
        ("RemainAfterExit", "b", False, "no"),
        ("MainPID", "u", 42, "42"),
        ("UMask", "u", 0o22, "0022"),
        ("UID", "u", 2**32 - 1, "[not set]"),
        ("ExecMainStatus", "i", -1, "-1"),
        ("TimeoutStartUSec", "t", 90 * USEC, "1min 30s"),
        ("RuntimeMaxUSec", "t", 2**64 - 1, "infinity"),
        ("TimeoutStopUSec", "t", 0, "0"),
        ("ActiveEnterTimestamp", "t", T0, "Tue 2023-11-14 22:13:20 UTC"),
        ("CPUUsageNSec", "t", 2**64 - 1, "[not set]"),
        ("CPUUsageNSec", "t", 1234, "1234"),
        ("MemoryCurrent", "t", 2**64 - 1, "[not set]"),
        ("MemoryMax", "t", 2**64 - 1, "infinity"),
        ("TasksMax", "t", 2**64 - 1, "infinity"),
        ("LimitNOFILE", "t", 2**64 - 1, "infinity"),
        ("LimitNOFILE", "t", 524288, "524288"),
        ("IPIngressBytes", "t", 2**64 - 1, "[no data]"),
        ("CPUWeight", "t", 2**64 - 1, "[not set]"),
        ("CPUWeight", "t", 0, "idle"),
        ("CoredumpFilter", "t", 0x33, "0x33"),
        ("OOMScoreAdjust", "i", 0, "0"),
        ("Names", "as", ["a.service", "b c.service"], 'a.service "b c.service"'),
        ("InvocationID", "ay", b"\x01\xab", "01ab"),
        ("SuccessExitStatus", "(aiai)", ([3], [15, 10]), "3 TERM USR1"),
        ("SuccessActionExitStatus", "i", 3, "3"),
    ],
)
def test_basic_values(name: str, signature: str, value: Any, expected: str) -> None:
    assert show(name, signature, value) == [f"{name}={expected}"]


def test_empty_values_are_left_out_unless_asked_for() -> None:
    assert show("StatusText", "s", "") == []
    assert show("StatusText", "s", "", show_empty=True) == ["StatusText="]
    assert show("After", "as", []) == []
    assert show("After", "as", [], show_empty=True) == ["After="]
    assert show("ActiveEnterTimestamp", "t", 0) == []
    assert show("ActiveEnterTimestamp", "t", 0, show_empty=True) == ["ActiveEnterTimestamp="]
    assert show("SuccessActionExitStatus", "i", -1) == []
    assert show("SuccessActionExitStatus", "i", -1, True) == ["SuccessActionExitStatus=[not set]"]
    assert show("Job", "(uo)", (0, "/")) == []
    assert show("Job", "(uo)", (7, "/org/freedesktop/systemd1/job/7")) == ["Job=7"]
    assert show("LoadError", "(ss)", ("", "")) == []
    assert show("StatusText", "s", "x", value_only=True) == ["x"]


def test_unknown_structures_are_unprintable() -> None:
    conditions = [("ConditionPathExists", False, False, "/x", 0)]
    assert show("Conditions", "a(sbbsi)", conditions) == []
    assert show("Conditions", "a(sbbsi)", conditions, True) == ["Conditions=[unprintable]"]
    assert show("TTYRows", "q", 65535) == []
    assert show("NUMAPolicy", "i", -1) == ["NUMAPolicy=n/a"]
    assert show("NUMAPolicy", "i", 2) == ["NUMAPolicy=bind"]


def test_arrays_of_structures() -> None:
    start = [
        ("/bin/true", ["/bin/true", "-x"], False, T0, 1, 0, 0, 42, 1, 0),
        ("/bin/false", ["/bin/false"], True, 0, 0, 0, 0, 0, 2, 9),
    ]
    assert show("ExecStart", "a(sasbttttuii)", start) == [
        "ExecStart={ path=/bin/true ; argv[]=/bin/true -x ; ignore_errors=no ; "
        "start_time=[Tue 2023-11-14 22:13:20 UTC] ; stop_time=[n/a] ; pid=42 ; "
        "code=exited ; status=0 }",
        "ExecStart={ path=/bin/false ; argv[]=/bin/false ; ignore_errors=yes ; "
        "start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=killed ; status=9/KILL }",
    ]
    ex = [("/bin/true", ["/bin/true"], ["ignore-failure"], 0, 0, 0, 0, 0, 0, 0)]
    assert show("ExecStartEx", "a(sasasttttuii)", ex) == [
        "ExecStartEx={ path=/bin/true ; argv[]=/bin/true ; flags=ignore-failure ; "
        "start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }"
    ]
    assert show("ExecStop", "a(sasbttttuii)", [], True) == []
    assert show("DeviceAllow", "a(ss)", [("/dev/null", "rw")]) == ["DeviceAllow=/dev/null rw"]
    allow = [(2, b"\x0a\x00\x00\x00", 8), (10, bytes(15) + b"\x01", 128)]
    assert show("IPAddressAllow", "a(iayu)", allow) == ["IPAddressAllow=10.0.0.0/8 ::1/128"]
    assert show("SocketBindAllow", "a(iiqq)", [(2, 6, 11, 80)]) == ["SocketBindAllow=ipv4:tcp80-90"]
    assert show("CPUAffinity", "ay", b"\x0b") == ["CPUAffinity=0-1 3"]
    assert show("SystemCallFilter", "(bas)", (False, ["a", "b"])) == ["SystemCallFilter=~a b"]
    assert show("RestrictFileSystems", "(bas)", (True, [])) == ["RestrictFileSystems="]
    assert show("RestrictFileSystems", "(bas)", (False, [])) == []
    assert show("CapabilityBoundingSet", "t", 1 << 13) == ["CapabilityBoundingSet=cap_net_raw"]
    assert show("AmbientCapabilities", "t", 0) == []
    assert show("RestrictNamespaces", "t", 0x40000000 | 0x08000000) == [
        "RestrictNamespaces=ipc net"
    ]
    assert show("MountFlags", "t", 0x80000) == ["MountFlags=slave"]
