"""sysd._core.analyze_security: systemd-analyze 252's security checks and exposure,
with tables from analyze-security.c (the whole output against systemd-analyze itself:
tests/systemd/test_analyze_systemd.py)."""

from __future__ import annotations

from typing import Any

import pytest

from sysd._core.analyze_security import (
    assess,
    details_json,
    details_lines,
    overview_json,
    overview_lines,
    security_info,
    summary_line,
)
from sysd._core.analyze_security_table import ASSESSORS, SYSCALL_GROUPS

BASE: dict[str, Any] = {
    "Id": "x.service",
    "LoadState": "loaded",
    "Type": "simple",
    "DefaultDependencies": True,
    "CapabilityBoundingSet": (1 << 41) - 1,
    "ProtectHome": "no",
    "ProtectSystem": "no",
    "UMask": 0o022,
    "KeyringMode": "private",
    "NotifyAccess": "none",
    "ProtectProc": "default",
    "ProcSubset": "all",
    "DevicePolicy": "auto",
    "RestrictAddressFamilies": (False, []),
    "SystemCallFilter": (False, []),
}


def _finding(props: dict[str, Any], name: str, known: Any = None) -> tuple[int | None, str | None]:
    report = assess(security_info({**BASE, **props}), known or (lambda _: True))
    (f,) = [f for f in report.findings if f.name == name]
    return f.badness, f.description


def test_the_table_is_systemds() -> None:
    assert len(ASSESSORS) == 81
    user = ASSESSORS[0]
    assert (user["id"], user["weight"], user["range"]) == ("User=/DynamicUser=", 2000, 10)
    delegate = next(a for a in ASSESSORS if a["id"] == "Delegate=")
    assert delegate["parameter"] == 1  # "invert!": Delegate=yes is the bad answer
    assert "@clock" in SYSCALL_GROUPS["@privileged"]


@pytest.mark.parametrize(
    ("props", "name", "badness", "text"),
    [
        ({}, "User=/DynamicUser=", 10, "Service runs as root user"),
        ({"User": "nobody"}, "User=/DynamicUser=", 9,
         "Service runs under as 'nobody' user, which should not be used for services"),
        ({"DynamicUser": True, "User": "x"}, "User=/DynamicUser=", 0,
         "Service runs under a transient non-root user identity"),
        ({"UMask": 0o002 ^ 0o022}, "UMask=", 10,
         "Files created by service are world-writable by default"),
        ({"UMask": 0o077}, "UMask=", 0,
         "Files created by service are accessible only by service's own user by default"),
        ({"ProtectHome": "read-only"}, "ProtectHome=", 5,
         "Service has read-only access to home directories"),
        ({"ProtectSystem": "yes"}, "ProtectSystem=", 5,
         "Service has limited write access to the OS file hierarchy"),
        ({}, "SupplementaryGroups=", None, "Service runs as root, option does not matter"),
        ({"DefaultDependencies": False}, "PrivateTmp=", None,
         "Service runs in special boot phase, option is not appropriate"),
        ({"Delegate": True}, "Delegate=", 1,
         "Service maintains its own delegated control group subtree"),
        ({"ProtectProc": "noaccess"}, "ProtectProc=", 1, None),
        ({"IPAddressDeny": [(2, b"\0" * 4, 0), (10, b"\0" * 16, 0)],
          "IPAddressAllow": [(2, b"\x7f\0\0\0", 8)]}, "IPAddressDeny=", 2,
         "Service defines IP address allow list with only localhost entries"),
        ({"DevicePolicy": "closed", "DeviceAllow": [("/dev/null", "rw")]}, "DeviceAllow=", 5,
         "Service has a device ACL with some special devices: /dev/null:rw"),
        ({"SystemCallArchitectures": ["native", "x86"]}, "SystemCallArchitectures=", 8,
         "Service may execute system calls with multiple ABIs"),
    ],
)  # fmt: skip
def test_checks(props: dict[str, Any], name: str, badness: int | None, text: str | None) -> None:
    assert _finding(props, name) == (badness, text)


def test_system_call_filters_name_the_first_call_let_through_that_exists() -> None:
    deny = {"SystemCallFilter": (False, ["mount", "umount2"])}
    assert _finding(deny, "SystemCallFilter=~@mount") == (
        10,
        "System call deny list defined for service, and @mount is not included "
        "(e.g. chroot is allowed)",
    )
    # calls this machine does not have are skipped, as libseccomp cannot resolve them
    assert _finding(deny, "SystemCallFilter=~@mount", lambda c: c in ("mount", "umount2"))[0] == 0
    allow = {"SystemCallFilter": (True, ["read", "settimeofday:EPERM"])}
    assert _finding(allow, "SystemCallFilter=~@clock") == (
        9,
        "System call allow list defined for service, and @clock is included "
        "(e.g. settimeofday is allowed)",
    )
    assert _finding({}, "SystemCallFilter=~@clock") == (10, "Service does not filter system calls")


def test_protections_imply_private_mounts_and_drop_capabilities() -> None:
    info = security_info({**BASE, "ProtectKernelModules": True, "PrivateDevices": True})
    assert info["private_mounts"] is True
    assert not info["capability_bounding_set"] & ((1 << 16) | (1 << 27) | (1 << 17))


def test_exposure_and_output() -> None:
    loose = assess(security_info(BASE))
    assert (loose.exposure, loose.level) == (8.8, "EXPOSED")
    props = {"User": "app", "PrivateNetwork": True, "UMask": 0o077, "DefaultDependencies": False}
    tight = assess(security_info({**BASE, **props}))
    assert tight.exposure < loose.exposure
    rows = details_json(tight)
    assert list(rows[0]) == ["set", "name", "json_field", "description", "exposure"]
    assert {r["set"] for r in rows} == {True, False, None}
    # sorted by description, reversed (an empty one by position), then by name
    texts = [r["description"] for r in rows if r["description"] is not None]
    assert texts == sorted(texts, reverse=True)
    lines = details_lines(tight)
    assert lines[0].split() == ["NAME", "DESCRIPTION", "EXPOSURE"]
    assert lines[1][:2] in ("\u2713 ", "\u2717 ", "  ")
    assert summary_line(tight, emoji=False) == (
        f"\u2192 Overall exposure level for x.service: {tight.exposure} {tight.level} "
        + {"OK": ":-)", "MEDIUM": ":-|", "EXPOSED": ":-(", "UNSAFE": ":-{"}[tight.level]
    )
    assert overview_json([loose], emoji=False) == [
        {"unit": "x.service", "exposure": "8.8", "predicate": "EXPOSED", "happy": ":-("}
    ]
    assert overview_lines([loose], emoji=False) == [
        "UNIT      EXPOSURE PREDICATE HAPPY",
        "x.service      8.8 EXPOSED   :-(",
    ]
