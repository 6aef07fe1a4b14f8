"""``systemd-analyze security`` without I/O: a port of systemd 252's
src/analyze/analyze-security.c (the checks, their weights and the exposure score; the
checks' data is :mod:`sysd._core.analyze_security_table`, generated from the C source).

:func:`security_info` turns a service's properties (its Unit and Service interfaces, as
``GetAll`` returns them) into what the checks read, as ``acquire_security_info()``
does; :func:`assess` runs every check and computes the exposure (0.0 safest .. 10.0),
as ``assess()`` does; the rest lays out systemd-analyze's tables and JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, NamedTuple

from .analyze_security_table import ASSESSORS, SYSCALL_GROUPS

__all__ = [
    "Finding",
    "SecurityReport",
    "assess",
    "details_json",
    "details_lines",
    "overview_json",
    "overview_lines",
    "security_info",
    "summary_line",
]

_NA: Final = -1  # systemd's UINT64_MAX badness: the check does not apply
AF_INET, AF_INET6 = 2, 10
CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYSLOG = 16, 17, 34
CAP_SYS_TIME, CAP_WAKE_ALARM, CAP_MKNOD = 25, 35, 27

# assess()'s badness_table: exposure at least this -> name, colour, smiley (UTF-8, ASCII)
LEVELS: Final = (
    (100, "DANGEROUS", "\x1b[0;1;31m", "\U0001f922", ":-["),
    (90, "UNSAFE", "\x1b[0;1;31m", "\U0001f628", ":-{"),
    (75, "EXPOSED", "\x1b[0;1;38;5;185m", "\U0001f641", ":-("),
    (50, "MEDIUM", "", "\U0001f610", ":-|"),
    (10, "OK", "\x1b[0;1;32m", "\U0001f642", ":-)"),
    (1, "SAFE", "\x1b[0;1;32m", "\U0001f600", ":-}"),
    (0, "PERFECT", "\x1b[0;1;32m", "\U0001f607", ":-]"),
)


def _bool(value: Any) -> bool:
    return bool(value)


def security_info(props: Mapping[str, Any]) -> dict[str, Any]:
    """``acquire_security_info()``: what the checks read, from a service's properties
    (missing ones read as systemd's defaults: false, 0, empty)."""
    p = props
    info: dict[str, Any] = {
        "id": p.get("Id") or "",
        "type": p.get("Type") or "",
        "load_state": p.get("LoadState") or "",
        "fragment_path": p.get("FragmentPath") or None,
        "default_dependencies": _bool(p.get("DefaultDependencies")),
        "ambient_capabilities": int(p.get("AmbientCapabilities") or 0),
        "capability_bounding_set": int(p.get("CapabilityBoundingSet") or 0),
        "user": p.get("User"),
        "supplementary_groups": list(p.get("SupplementaryGroups") or ()),
        "dynamic_user": _bool(p.get("DynamicUser")),
        "keyring_mode": p.get("KeyringMode"),
        "protect_proc": p.get("ProtectProc"),
        "proc_subset": p.get("ProcSubset"),
        "notify_access": p.get("NotifyAccess"),
        "protect_home": p.get("ProtectHome"),
        "protect_system": p.get("ProtectSystem"),
        "root_directory": p.get("RootDirectory") or "",
        "root_image": p.get("RootImage") or "",
        "device_policy": p.get("DevicePolicy"),
        "device_allow": [f"{name}:{policy}" for name, policy in p.get("DeviceAllow") or ()],
        "system_call_architectures": set(p.get("SystemCallArchitectures") or ()),
        "restrict_namespaces": int(p.get("RestrictNamespaces") or 0),
        "umask": int(p.get("UMask") or 0),
        "ip_filters_custom_ingress": bool(p.get("IPIngressFilterPath")),
        "ip_filters_custom_egress": bool(p.get("IPEgressFilterPath")),
    }
    for name in (
        "LockPersonality", "MemoryDenyWriteExecute", "NoNewPrivileges", "ProtectHostname",
        "PrivateDevices", "PrivateMounts", "PrivateNetwork", "PrivateTmp", "PrivateUsers",
        "ProtectControlGroups", "ProtectKernelModules", "ProtectKernelTunables",
        "ProtectKernelLogs", "ProtectClock", "RemoveIPC", "RestrictRealtime",
        "RestrictSUIDSGID", "Delegate",
    ):  # fmt: skip
        info[_snake(name)] = _bool(p.get(name))
    allow_list, families = p.get("RestrictAddressFamilies") or (False, [])
    for fam in ("inet", "unix", "netlink", "packet", "other"):
        info[f"restrict_address_family_{fam}"] = bool(allow_list)
    names = {"AF_INET": "inet", "AF_INET6": "inet", "AF_UNIX": "unix"}
    names |= {"AF_NETLINK": "netlink", "AF_PACKET": "packet"}
    for name in families:
        info[f"restrict_address_family_{names.get(name, 'other')}"] = not allow_list
    allow, calls = p.get("SystemCallFilter") or (False, [])
    info["system_call_filter_allow_list"] = bool(allow)
    info["system_call_filter"] = {c.split(":", 1)[0] for c in calls}
    info.update(_ip_allow(p.get("IPAddressAllow") or (), p.get("IPAddressDeny") or ()))
    # the adjustments acquire_security_info() makes
    if (
        info["private_devices"]
        or info["private_tmp"]
        or info["protect_control_groups"]
        or info["protect_kernel_tunables"]
        or info["protect_kernel_modules"]
        or info["protect_home"] != "no"
        or info["protect_system"] != "no"
        or info["root_image"]
    ):
        info["private_mounts"] = True
    caps = info["capability_bounding_set"]
    if info["protect_kernel_modules"]:
        caps &= ~(1 << CAP_SYS_MODULE)
    if info["protect_kernel_logs"]:
        caps &= ~(1 << CAP_SYSLOG)
    if info["protect_clock"]:
        caps &= ~((1 << CAP_SYS_TIME) | (1 << CAP_WAKE_ALARM))
    if info["private_devices"]:
        caps &= ~((1 << CAP_MKNOD) | (1 << CAP_SYS_RAWIO))
    info["capability_bounding_set"] = caps
    return info


def _snake(name: str) -> str:
    special = {"RemoveIPC": "remove_ipc", "RestrictSUIDSGID": "restrict_suid_sgid"}
    if name in special:
        return special[name]
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i:
            out.append("_")
        out.append(c.lower())
    return "".join(out)


def _ip_allow(allow: Iterable[Any], deny: Iterable[Any]) -> dict[str, bool]:
    """property_read_ip_address_allow() for IPAddressAllow= and IPAddressDeny=."""
    out = {"ip_address_allow_localhost": False, "ip_address_allow_other": False}
    for family, data, prefixlen in allow:
        raw = bytes(data)
        if family == AF_INET and len(raw) == 4 and prefixlen == 8:
            local = raw[0] == 127
        elif family == AF_INET6 and len(raw) == 16 and prefixlen == 128:
            local = raw == bytes(15) + b"\x01"
        else:
            out["ip_address_allow_other"] = True
            continue
        out["ip_address_allow_localhost" if local else "ip_address_allow_other"] = True
    deny4 = deny6 = False
    for family, data, prefixlen in deny:
        if family == AF_INET and len(bytes(data)) == 4 and prefixlen == 0:
            deny4 = True
        elif family == AF_INET6 and len(bytes(data)) == 16 and prefixlen == 0:
            deny6 = True
    out["ip_address_deny_all"] = deny4 and deny6
    return out


# ------------------------------------------------------------------------- the checks


def _runs_privileged(info: Mapping[str, Any]) -> bool:
    user = info["user"]
    if user in ("0", "root"):
        return True
    if info["dynamic_user"]:
        return False
    return not user


def _parse_boolean(value: str | None) -> bool | None:
    if value in ("1", "yes", "y", "true", "t", "on"):
        return True
    if value in ("0", "no", "n", "false", "f", "off"):
        return False
    return None


def _offender(
    filter_set: set[str], allow_list: bool, group: str, known: Callable[[str], bool]
) -> str | None:
    """syscall_names_in_filter(): the first system call of ``group`` (groups nested,
    calls this machine does not have skipped) that the filter lets through."""
    for call in SYSCALL_GROUPS[group]:
        if call.startswith("@"):
            found = _offender(filter_set, allow_list, call, known)
            if found is not None:
                return found
            continue
        if not known(call):
            continue
        if (call in filter_set) == allow_list:
            return call
    return None


def _check(
    a: Mapping[str, Any], info: Mapping[str, Any], known: Callable[[str], bool]
) -> tuple[int, str | None]:
    """One check: (badness, description or None) as its assess_*() function."""
    kind = a["assess"]
    param = a.get("parameter", 0)
    if kind == "bool":
        value = bool(info[a["offset"]])
        return (int(value) if param else int(not value)), None
    if kind == "user":
        user = info["user"]
        if user == "nobody":
            return 9, ("Service runs under as 'nobody' user, which should not be used for services")
        if info["dynamic_user"] and user not in ("0", "root"):
            return 0, "Service runs under a transient non-root user identity"
        if user and user not in ("0", "root", ""):
            return 0, "Service runs under a static non-root user identity"
        return 10, None
    if kind == "protect_home":
        r = _parse_boolean(info["protect_home"])
        if r is None:
            if info["protect_home"] == "read-only":
                return 5, "Service has read-only access to home directories"
            if info["protect_home"] == "tmpfs":
                return 1, "Service has access to fake empty home directories"
        elif r:
            return 0, "Service has no access to home directories"
        return 10, "Service has full access to home directories"
    if kind == "protect_system":
        r = _parse_boolean(info["protect_system"])
        if r is None:
            if info["protect_system"] == "full":
                return 3, "Service has very limited write access to the OS file hierarchy"
            if info["protect_system"] == "strict":
                return 0, "Service has strict read-only access to the OS file hierarchy"
        elif r:
            return 5, "Service has limited write access to the OS file hierarchy"
        return 10, "Service has full access to the OS file hierarchy"
    if kind == "root_directory":
        empty = info["root_directory"] in ("", "/") and info["root_image"] in ("", "/")
        return int(empty), None
    if kind == "capability_bounding_set":
        return int(bool(info["capability_bounding_set"] & param)), None
    if kind == "umask":
        mask = info["umask"]
        for bit, badness, text in (
            (0o002, 10, "Files created by service are world-writable by default"),
            (0o004, 5, "Files created by service are world-readable by default"),
            (0o020, 2, "Files created by service are group-writable by default"),
            (0o040, 1, "Files created by service are group-readable by default"),
        ):
            if not mask & bit:
                return badness, text
        return 0, "Files created by service are accessible only by service's own user by default"
    if kind == "keyring_mode":
        return int(info["keyring_mode"] != "private"), None
    if kind == "protect_proc":
        if info["protect_proc"] == "noaccess":
            return 1, None
        if info["protect_proc"] in ("invisible", "ptraceable"):
            return 0, None
        return 3, None
    if kind == "proc_subset":
        return int(info["proc_subset"] != "pid"), None
    if kind == "notify_access":
        return int(info["notify_access"] == "all"), None
    if kind == "remove_ipc":
        return (_NA if _runs_privileged(info) else int(not info["remove_ipc"])), None
    if kind == "supplementary_groups":
        if _runs_privileged(info):
            return _NA, None
        return int(bool(info["supplementary_groups"])), None
    if kind == "restrict_namespaces":
        return int(bool(info["restrict_namespaces"] & param)), None
    if kind == "system_call_architectures":
        archs = info["system_call_architectures"]
        if not archs:
            return 10, "Service may execute system calls with all ABIs"
        if archs == {"native"}:
            return 0, "Service may execute system calls only with native ABI"
        return 8, "Service may execute system calls with multiple ABIs"
    if kind == "system_call_filter":
        return _syscall_check(info, param, known)
    if kind == "ip_address_allow":
        if info["ip_filters_custom_ingress"] or info["ip_filters_custom_egress"]:
            return 0, "Service defines custom ingress/egress IP filters with BPF programs"
        if not info["ip_address_deny_all"]:
            return 10, "Service does not define an IP address allow list"
        if info["ip_address_allow_other"]:
            return 5, "Service defines IP address allow list with non-localhost entries"
        if info["ip_address_allow_localhost"]:
            return 2, "Service defines IP address allow list with only localhost entries"
        return 0, "Service blocks all IP address ranges"
    if kind == "device_allow":
        if info["device_policy"] in ("strict", "closed"):
            if info["device_allow"]:
                joined = " ".join(info["device_allow"])
                return 5, f"Service has a device ACL with some special devices: {joined}"
            return 0, "Service has a minimal device ACL"
        return 10, "Service has no device ACL"
    if kind == "ambient_capabilities":
        return int(info["ambient_capabilities"] != 0), None
    raise AssertionError(f"unknown check {kind}")  # the generated table names only these


def _syscall_check(
    info: Mapping[str, Any], group: str, known: Callable[[str], bool]
) -> tuple[int, str | None]:
    allow = info["system_call_filter_allow_list"]
    calls = info["system_call_filter"]
    if not allow and not calls:
        return 10, "Service does not filter system calls"
    offender = _offender(calls, allow, group, known)
    if allow:
        if offender is not None:
            return 9, (
                f"System call allow list defined for service, and {group} is included "
                f"(e.g. {offender} is allowed)"
            )
        return 0, f"System call allow list defined for service, and {group} is not included"
    if offender is not None:
        return 10, (
            f"System call deny list defined for service, and {group} is not included "
            f"(e.g. {offender} is allowed)"
        )
    return 0, f"System call deny list defined for service, and {group} is included"


class Finding(NamedTuple):
    """One check of ``systemd-analyze security``: ``name`` (``PrivateTmp=``...),
    ``json_field``, ``description``, ``weight``, ``badness`` (0 .. ``range``; None: the
    check does not apply), ``range``, ``passed`` (True: fully safe, False: not, None:
    does not apply) and ``exposure``, its share of the unit's exposure (None where
    systemd-analyze shows none: passed or not applicable)."""

    name: str
    json_field: str
    description: str | None
    weight: int
    badness: int | None
    range: int
    passed: bool | None
    exposure: float | None
    url: str


class SecurityReport(NamedTuple):
    """A service's exposure (0.0 .. 10.0, lower is safer), its level (``OK``,
    ``MEDIUM``, ``EXPOSED``, ``UNSAFE``, ``DANGEROUS``, ``SAFE``, ``PERFECT``) and the
    findings, in systemd-analyze's order."""

    unit: str
    exposure: float
    level: str
    findings: tuple[Finding, ...]
    fragment_path: str | None
    exposure_tenths: int


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _level(tenths: int) -> tuple[int, str, str, str, str]:
    for row in LEVELS:
        if tenths >= row[0]:
            return row
    raise AssertionError(tenths)


def _msort(items: list[int], cmp: Callable[[int, int], int]) -> list[int]:
    """glibc's qsort (a top-down merge sort, the left run first on ties), so that a
    comparison that is not a total order gives what systemd-analyze gives."""
    if len(items) <= 1:
        return items
    n1 = len(items) // 2
    left, right = _msort(items[:n1], cmp), _msort(items[n1:], cmp)
    out = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out + left[i:] + right[j:]


def assess(
    info: Mapping[str, Any], known: Callable[[str], bool] = lambda _: True
) -> SecurityReport:
    """``assess()``: every check, the findings in the details table's order (by
    description, reversed, then name) and the exposure.  ``known(syscall)``: whether
    this machine has the system call (libseccomp's resolve; unknown ones are skipped)."""
    rows: list[tuple[str, str, str | None, int, int | None, int, bool | None, str]] = []
    badness_sum = weight_sum = 0
    for a in ASSESSORS:
        weight, rng = a["weight"], a["range"]
        if a.get("default_dependencies_only") and not info["default_dependencies"]:
            badness: int = _NA
            desc: str | None = "Service runs in special boot phase, option is not appropriate"
        else:
            badness, desc = _check(a, info, known)
        if badness != _NA:
            badness_sum += _ceil_div(badness * weight, rng)
            weight_sum += weight
        if badness == _NA:
            passed, text = None, a.get("description_na")
        elif badness == rng:
            passed, text = False, a.get("description_bad")
        elif badness == 0:
            passed, text = True, a.get("description_good")
        else:
            passed, text = False, None
        if desc:
            text = desc
        rows.append(
            (a["id"], a["json_field"], text, weight, None if badness == _NA else badness, rng,
             passed, a["url"])
        )  # fmt: skip
    findings = []
    for name, field, text, weight, bad, rng, passed, url in rows:
        exposure = None
        if bad:
            x = _ceil_div(_ceil_div(bad * weight * 100, rng), weight_sum)
            exposure = x / 10
        findings.append(Finding(name, field, text, weight, bad, rng, passed, exposure, url))

    def cmp(i: int, j: int) -> int:
        # table_data_compare(): description (reversed; cells of different types, text and
        # empty, in the order added), then name
        a, b = findings[i], findings[j]
        if a.description is not None and b.description is not None:
            if a.description != b.description:
                return -1 if a.description > b.description else 1
        elif a.description is not None or b.description is not None:
            return -1 if i > j else 1  # reversed: CMP(index) negated
        if a.name != b.name:
            return -1 if a.name < b.name else 1
        return -1 if i < j else (1 if i > j else 0)

    order = _msort(list(range(len(findings))), cmp)
    tenths = _ceil_div(badness_sum * 100, weight_sum)
    return SecurityReport(
        info["id"],
        tenths / 10,
        _level(tenths)[1],
        tuple(findings[i] for i in order),
        info["fragment_path"],
        tenths,
    )


# ------------------------------------------------------------------------- output


def _tenths(value: float | None) -> str | None:
    if value is None:
        return None
    t = round(value * 10)
    return f"{t // 10}.{t % 10}"


def details_json(report: SecurityReport) -> list[dict[str, Any]]:
    """``systemd-analyze security --json=short UNIT``'s rows."""
    return [
        {
            "set": f.passed,
            "name": f.name,
            "json_field": f.json_field,
            "description": f.description,
            "exposure": _tenths(f.exposure),
        }
        for f in report.findings
    ]


def overview_json(reports: Sequence[SecurityReport], *, emoji: bool = True) -> list[dict[str, Any]]:
    """``systemd-analyze security --json=short`` (all services, or several); ``emoji``:
    the smileys as emoji (systemd's ``emoji_enabled()``), else ASCII."""
    out = []
    for r in reports:
        level = _level(r.exposure_tenths)
        out.append(
            {
                "unit": r.unit,
                "exposure": _tenths(r.exposure),
                "predicate": level[1],
                "happy": level[3] if emoji else level[4],
            }
        )
    return out


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[tuple[str, str]]],
    right: Sequence[bool],
    *,
    color: bool,
    widths_of: Callable[[str], int] = len,
) -> list[str]:
    """format-table's layout for a table printed to a pipe: columns one space apart,
    padded to their widest cell, the last column's trailing blanks dropped (not the
    header's when coloured), the header underlined when coloured."""
    every = [[(h.upper(), "") for h in header], *rows]
    widths = [max(widths_of(r[i][0]) for r in every) for i in range(len(header))]
    lines = []
    for n, row in enumerate(every):
        parts = []
        for j, (text, cell_color) in enumerate(row):
            pad = " " * (widths[j] - widths_of(text))
            field = pad + text if right[j] and n else text + pad
            if j == len(row) - 1 and (not color or (not cell_color and n)):
                field = field.rstrip()
            chunk = ""
            if color and n == 0:
                chunk += "\x1b[0;4m"
            if j:
                chunk += " "
            if color and cell_color:
                chunk += cell_color
            chunk += field
            if color and (cell_color or n == 0):
                chunk += "\x1b[0m"
            parts.append(chunk)
        lines.append("".join(parts))
    return lines


def details_lines(report: SecurityReport, *, utf8: bool = True, color: bool = False) -> list[str]:
    """``systemd-analyze security UNIT``'s table (to a pipe: nothing cut)."""
    check, cross = ("\u2713", "\u2717") if utf8 else ("+", "-")
    rows = []
    for f in report.findings:
        if f.passed is None:
            mark = ("", "")
        else:
            mark = (check, "\x1b[0;1;32m") if f.passed else (cross, "\x1b[0;1;31m")
        rows.append(
            [mark, (f.name, ""), (f.description or "", ""), (_tenths(f.exposure) or "", "")]
        )
    return _table(
        [" ", "name", "description", "exposure"], rows, [False, False, False, True], color=color
    )


def summary_line(
    report: SecurityReport, *, utf8: bool = True, color: bool = False, emoji: bool | None = None
) -> str:
    """The line under the details: ``→ Overall exposure level for UNIT: 2.8 OK 🙂``."""
    level = _level(report.exposure_tenths)
    arrow = "\u2192" if utf8 else "->"
    hi, normal = ("\x1b[0;1;39m", "\x1b[0m") if color else ("", "")
    t = report.exposure_tenths
    return (
        f"{arrow} {hi}Overall exposure level for {report.unit}{normal}: "
        f"{level[2] if color else ''}{t // 10}.{t % 10} {level[1]}{normal} "
        f"{level[3] if (utf8 if emoji is None else emoji) else level[4]}"
    )


def _console_width(text: str) -> int:
    return sum(2 if ord(c) >= 0x1F300 else 1 for c in text)


def overview_lines(
    reports: Sequence[SecurityReport], *, color: bool = False, emoji: bool = True
) -> list[str]:
    """``systemd-analyze security``'s table of services (UNIT EXPOSURE PREDICATE HAPPY)."""
    rows = []
    for r in reports:
        level = _level(r.exposure_tenths)
        rows.append(
            [
                (r.unit, ""),
                (_tenths(r.exposure) or "", ""),
                (level[1], level[2]),
                (level[3] if emoji else level[4], ""),
            ]
        )
    return _table(
        ["unit", "exposure", "predicate", "happy"],
        rows,
        [False, True, False, False],
        color=color,
        widths_of=_console_width,
    )
