"""``sysd show``: a property as ``systemctl show`` prints it, or leaves it out.

A port of systemd 252's two printers: ``print_property()`` in systemctl-show.c (the
properties with a structure: ``ExecStart={ path=... }``, ``Job=``, ``LoadError=``,
``DeviceAllow=``, ``IPAddressAllow=``, ...) and ``bus_print_property()`` in
bus-print-properties.c (basic types, string arrays, byte and uint32 arrays).  Their rules:

- a value that formats to the empty text is left out, unless ``--all`` or ``-p`` asked for
  it (``show_empty``); booleans are never empty (``yes``/``no``);
- some array properties give one ``Name=value`` line per element (``ExecStart``,
  ``DeviceAllow``, ``Listen``...), none at all when empty (even with ``--all``);
- a string holding a newline prints as ``[unprintable]``;
- a property neither printer knows (``Conditions``, ``TTYRows``, ``ActivationDetails``,
  object paths...) is left out, and printed as ``[unprintable]`` with ``--all``/``-p``.

Everything is a pure function of the D-Bus signature and value (tests/cli/test_show.py).
"""

from __future__ import annotations

import re
from typing import Any, Final

from .. import timespan
from .._core.props._tables import (
    CAPABILITIES,
    MOUNT_PROPAGATION_BY_NAME,
    MPOL_BY_NAME,
    NAMESPACE_FLAG_BY_NAME,
    NAMESPACE_FLAGS_ALL,
    SIGNAL_BY_NAME,
)
from ..calendar import format_timestamp
from ._render import shell_quote

__all__ = ["property_lines"]

UNPRINTABLE: Final = "[unprintable]"
_UINT64_MAX: Final = 2**64 - 1
_UINT32_MAX: Final = 2**32 - 1

_SIGNAL_NAMES: Final[dict[int, str]] = {}
for _name, _number in SIGNAL_BY_NAME.items():
    _SIGNAL_NAMES.setdefault(_number, _name)
_MPOL_NAMES: Final = {number: name for name, number in MPOL_BY_NAME.items()}
_PROPAGATION_NAMES: Final = {number: name for name, number in MOUNT_PROPAGATION_BY_NAME.items()}
# namespace_info[] order, without "time" (not in systemd 252's NAMESPACE_FLAGS_ALL)
_NAMESPACES: Final = [(n, f) for n, f in NAMESPACE_FLAG_BY_NAME.items() if f & NAMESPACE_FLAGS_ALL]
# sigchld_code_to_string(): CLD_EXITED=1 ... CLD_CONTINUED=6; printf("%s", NULL) is "(null)"
_SIGCHLD_CODES: Final = {
    1: "exited",
    2: "killed",
    3: "dumped",
    4: "trapped",
    5: "stopped",
    6: "continued",
}
_CLD_EXITED: Final = 1
_TIMESTAMP_NAMES: Final = frozenset(
    {"NextElapseUSecRealtime", "LastTriggerUSec", "TimeUSec", "RTCTimeUSec"}
)
_MEMORY_LIMITS: Final = frozenset(
    {
        "DefaultMemoryLow",
        "DefaultMemoryMin",
        "MemoryLow",
        "MemoryHigh",
        "MemoryMax",
        "MemorySwapMax",
        "MemoryLimit",
        "MemoryAvailable",
    }
)
_WEIGHTS_UNSET: Final = {
    "CPUWeight": _UINT64_MAX,
    "StartupCPUWeight": _UINT64_MAX,
    "IOWeight": _UINT64_MAX,
    "StartupIOWeight": _UINT64_MAX,
    "CPUShares": _UINT64_MAX,
    "StartupCPUShares": _UINT64_MAX,
    "BlockIOWeight": _UINT64_MAX,
    "StartupBlockIOWeight": _UINT64_MAX,
}
_IO_LIMITS: Final = frozenset(
    {
        "IOReadBandwidthMax",
        "IOWriteBandwidthMax",
        "IOReadIOPSMax",
        "IOWriteIOPSMax",
        "BlockIOReadBandwidth",
        "BlockIOWriteBandwidth",
    }
)
_CPU_SETS: Final = frozenset(
    {
        "CPUAffinity",
        "NUMAMask",
        "AllowedCPUs",
        "AllowedMemoryNodes",
        "EffectiveCPUs",
        "EffectiveMemoryNodes",
    }
)
_JOURNAL_FIELD: Final = re.compile(r"[A-Z0-9][A-Z0-9_]{0,63}")


# ------------------------------------------------------------------------ basic values


def signal_name(number: int) -> str:
    """systemd's ``signal_to_string()``: ``TERM``, ``RTMIN+3``, else the number."""
    if number in _SIGNAL_NAMES:
        return _SIGNAL_NAMES[number]
    if 34 <= number <= 64:
        return "RTMIN" if number == 34 else f"RTMIN+{number - 34}"
    return str(number)


def _timestamp(u: int) -> str | None:
    """``FORMAT_TIMESTAMP()``: None (printed ``n/a`` or left out) for 0 and infinity."""
    if u <= 0 or u >= _UINT64_MAX:
        return None
    return format_timestamp(u)


def _timespan(u: int) -> str:
    return timespan.format_usec(min(u, timespan.USEC_INFINITY), 1)


def _capabilities(u: int) -> str:
    """``capability_set_to_string()``: the names of the set bits, up to the last known."""
    return " ".join("cap_" + name for i, name in enumerate(CAPABILITIES) if u & (1 << i))


def _namespaces(u: int) -> str:
    if u & NAMESPACE_FLAGS_ALL == 0:
        return "yes"
    if u & NAMESPACE_FLAGS_ALL == NAMESPACE_FLAGS_ALL:
        return "no"
    return " ".join(name for name, flag in _NAMESPACES if u & flag == flag)


def _uint64(name: str, u: int) -> str | None:
    if name.endswith("Timestamp") or name in _TIMESTAMP_NAMES:
        return _timestamp(u) or ""
    if "USec" in name:
        return _timespan(u)
    if name == "CoredumpFilter":
        return f"0x{u:x}"
    if name == "RestrictNamespaces":
        return _namespaces(u)
    if name == "MountFlags":
        return "" if u == 0 else _PROPAGATION_NAMES.get(u, str(u))
    if name in ("CapabilityBoundingSet", "AmbientCapabilities"):
        return _capabilities(u)
    if name in ("CPUWeight", "StartupCPUWeight") and u == 0:
        return "idle"
    if (
        _WEIGHTS_UNSET.get(name) == u
        or (name in ("MemoryCurrent", "TasksCurrent") and u == _UINT64_MAX)
        or (name.endswith("NSec") and u == _UINT64_MAX)
    ):
        return "[not set]"
    if u == _UINT64_MAX and (
        name in _MEMORY_LIMITS
        or name in ("TasksMax", "DefaultTasksMax")
        or name.startswith(("Limit", "DefaultLimit"))
    ):
        return "infinity"
    if u == _UINT64_MAX and name in (
        "IPIngressBytes",
        "IPIngressPackets",
        "IPEgressBytes",
        "IPEgressPackets",
    ):
        return "[no data]"
    return str(u)


def _basic(name: str, signature: str, value: Any) -> str | None:
    """``bus_print_property()`` for one value: its text, or None for "cannot print"."""
    if signature == "s":
        text = str(value)
        return UNPRINTABLE if "\n" in text else text
    if signature == "b":
        return "yes" if value else "no"
    if signature == "t":
        return _uint64(name, int(value))
    if signature == "u":
        u = int(value)
        if "UMask" in name or "Mode" in name:
            return f"{u:04o}"
        if name in ("UID", "GID") and u == _UINT32_MAX:
            return "[not set]"
        return str(u)
    if signature == "i":
        i = int(value)
        if name.endswith("ActionExitStatus"):
            return str(i) if 0 <= i <= 255 else None
        if name == "NUMAPolicy":
            return _MPOL_NAMES.get(i, "n/a")
        return str(i)
    if signature == "x":
        return str(int(value))
    if signature == "d":
        return f"{float(value):g}"
    if signature == "as":
        return " ".join(shell_quote(str(v)) for v in value)
    if signature == "ay":
        data = bytes(value)
        if name in ("StandardInputData", "RootHashSignature"):
            import base64

            return base64.b64encode(data).decode("ascii")
        if name in _CPU_SETS:
            return _cpu_set(data)
        return data.hex()
    if signature == "au":
        return "".join(f"{int(v) & _UINT32_MAX:08x}" for v in value)
    return None


# ------------------------------------------------------------------ structured values


def _cpu_set(data: bytes) -> str:
    """``cpu_set_to_range_string()``: ``0-3 6 8-9``."""
    cpus = [i * 8 + bit for i, byte in enumerate(data) for bit in range(8) if byte >> bit & 1]
    ranges: list[str] = []
    start = prev = None
    for cpu in [*cpus, None]:
        if cpu is not None and prev is not None and cpu == prev + 1:
            prev = cpu
            continue
        if start is not None:
            ranges.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = cpu
    return " ".join(ranges)


def _exec(name: str, value: Any) -> list[str]:
    ex = name.endswith("Ex")
    lines = []
    for item in value:
        path, argv, third, start, _m1, stop, _m2, pid, code, status = item
        middle = f"flags={' '.join(third)}" if ex else f"ignore_errors={_yes_no(third)}"
        tail = "" if code == _CLD_EXITED else "/" + signal_name(int(status))
        lines.append(
            f"{{ path={path} ; argv[]={' '.join(argv)} ; {middle} ; "
            f"start_time=[{_timestamp(start) or 'n/a'}] ; "
            f"stop_time=[{_timestamp(stop) or 'n/a'}] ; pid={pid} ; "
            f"code={_SIGCHLD_CODES.get(code, '(null)')} ; status={status}{tail} }}"
        )
    return lines


def _yes_no(b: Any) -> str:
    return "yes" if b else "no"


def _ip_prefixes(value: Any) -> str:
    import ipaddress

    out = []
    for family, address, prefixlen in value:
        data = bytes(address)
        size = {2: 4, 10: 16}.get(int(family))
        if size is None or len(data) != size or prefixlen > size * 8:
            continue
        out.append(f"{ipaddress.ip_address(data)}/{prefixlen}")
    return " ".join(out)


def _bind_paths(value: Any) -> str:
    out = []
    for source, dest, ignore_enoent, rbind in value:
        if not source:
            continue
        text = ("-" if ignore_enoent else "") + source + (":" + dest if dest else "")
        out.append(text + (":rbind" if rbind == 0x4000 else ""))  # MS_REC
    return " ".join(out)


def _mount_images(value: Any) -> str:
    out = []
    for source, dest, ignore_enoent, options in value:
        text = ("-" if ignore_enoent else "") + f"{source}:{dest}"
        for partition, opts in options:
            text += f":{partition}:{opts}"
        out.append(text)
    return " ".join(out)


def _extension_images(value: Any) -> str:
    out = []
    for source, ignore_enoent, options in value:
        text = ("-" if ignore_enoent else "") + source
        for partition, opts in options:
            text += f":{partition}:{opts}"
        out.append(text)
    return " ".join(out)


def _log_extra_fields(value: Any) -> str:
    out = []
    for item in value:
        data = bytes(item)
        if b"\0" in data or b"=" not in data:
            continue
        if not _JOURNAL_FIELD.fullmatch(data.partition(b"=")[0].decode("latin-1")):
            continue
        try:
            out.append(data.decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return " ".join(out)


def _socket_bind(value: Any) -> list[str]:
    lines = []
    for af, protocol, nr_ports, port_min in value:
        family = {2: "ipv4", 10: "ipv6"}.get(int(af), "")
        text = family + (":" if family else "")
        if protocol:
            text += {6: "tcp", 17: "udp"}.get(int(protocol), "")
        if nr_ports == 0:
            text += "any"
        elif nr_ports == 1:
            text += str(port_min)
        else:
            text += f"{port_min}-{(port_min + nr_ports - 1) & 0xFFFF}"
        lines.append(text)
    return lines


def _filter_list(value: Any) -> str:
    allow, names = value
    return ("" if allow else "~") + " ".join(names)


def _exit_status(value: Any) -> str:
    statuses, signals = value
    return " ".join([*(str(s) for s in statuses), *(signal_name(int(s)) for s in signals)])


def _structured(name: str, signature: str, value: Any) -> tuple[bool, Any]:
    """systemctl-show.c's ``print_property()``: (handled, what to print).

    What to print is a text (left out when empty, unless ``show_empty``), a list of texts
    (one line each: none for an empty array, even with ``show_empty``) or a :class:`_Shown`.
    """
    if signature == "(uo)" and name == "Job":
        return True, str(value[0]) if value[0] > 0 else ""
    if signature == "(so)" and name == "Unit":
        return True, value[0]
    if signature == "(ss)" and name == "LoadError":
        a, b = value
        return True, f'{a} "{b}"' if a or b else ""
    if signature == "(bas)" and name in (
        "SystemCallFilter",
        "SystemCallLog",
        "RestrictAddressFamilies",
        "RestrictNetworkInterfaces",
        "RestrictFileSystems",
    ):
        return True, _Shown(_filter_list(value), bool(value[0] or value[1]))
    if signature == "(bs)" and name in ("SELinuxContext", "AppArmorProfile", "SmackProcessLabel"):
        ignore, s = value
        return True, ("-" if ignore else "") + s if s else ""
    if signature == "(aiai)" and name.endswith("ExitStatus"):
        return True, _Shown(_exit_status(value), bool(value[0] or value[1]))
    if signature == "a(sb)" and name == "EnvironmentFiles":
        return True, [f"{p} (ignore_errors={_yes_no(i)})" for p, i in value]
    if signature == "a(ss)" and name in ("Paths", "Listen"):
        return True, [f"{p} ({t})" for t, p in value]
    if signature == "a(stt)" and name == "TimersMonotonic":
        return True, [f"{{ {b}={_timespan(v)} ; next_elapse={_timespan(n)} }}" for b, v, n in value]
    if signature == "a(sst)" and name == "TimersCalendar":
        return True, [
            f"{{ {b}={spec} ; next_elapse={_timestamp(n) or '(null)'} }}" for b, spec, n in value
        ]
    if signature in ("a(sasbttttuii)", "a(sasasttttuii)") and name.startswith("Exec"):
        return True, _exec(name, value)
    if signature == "a(ss)" and name == "DeviceAllow":
        return True, [f"{p} {rwm}" for p, rwm in value]
    if signature == "a(st)" and name in ("IODeviceWeight", "BlockIODeviceWeight", *_IO_LIMITS):
        return True, [f"{p} {n}" for p, n in value]
    if signature == "a(st)" and name == "IODeviceLatencyTargetUSec":
        return True, [f"{p} {_timespan(n)}" for p, n in value]
    if signature == "a(iayu)" and name in ("IPAddressAllow", "IPAddressDeny"):
        return True, _ip_prefixes(value)
    if signature == "a(ssbt)" and name in ("BindPaths", "BindReadOnlyPaths"):
        return True, _bind_paths(value)
    if signature == "a(ss)" and name == "TemporaryFileSystem":
        return True, " ".join(f"{t}:{o}" if o else t for t, o in value if t)
    if signature == "aay" and name == "LogExtraFields":
        return True, _log_extra_fields(value)
    if signature == "a(ssba(ss))" and name == "MountImages":
        return True, _mount_images(value)
    if signature == "a(sba(ss))" and name == "ExtensionImages":
        return True, _extension_images(value)
    if signature == "a(ss)" and name in ("BPFProgram", "RootImageOptions"):
        return True, [f"{a}:{p}" for a, p in value]
    if signature == "a(sst)" and name.endswith("DirectorySymlink"):
        return True, [f"{a}:{p}" for a, p, _flags in value]
    if signature == "a(iiqq)" and name in ("SocketBindAllow", "SocketBindDeny"):
        return True, _socket_bind(value)
    return False, None


class _Shown:
    """A text printed when ``show_empty`` or ``shown`` (not by its own emptiness)."""

    __slots__ = ("shown", "text")

    def __init__(self, text: str, shown: bool) -> None:
        self.text = text
        self.shown = shown


def property_lines(
    name: str,
    signature: str,
    value: Any,
    *,
    show_empty: bool = False,
    value_only: bool = False,
) -> list[str]:
    """The lines ``systemctl show`` prints for one property (none when it leaves it out).

    ``show_empty`` is systemctl's ``--all`` (also implied by ``-p``); ``value_only`` its
    ``--value``.
    """
    handled, result = _structured(name, signature, value)
    if not handled:
        if signature == "i" and name.endswith("ActionExitStatus"):
            text = _basic(name, signature, value)
            result = text if text is not None else ("[not set]" if show_empty else None)
            if result is None:
                return []
        else:
            result = _basic(name, signature, value)
            if result is None:
                result = UNPRINTABLE if show_empty else None
                if result is None:
                    return []
    if isinstance(result, _Shown):
        texts = [result.text] if show_empty or result.shown else []
    elif isinstance(result, list):
        texts = [t for t in result if t or show_empty]
    else:
        texts = [result] if result or show_empty else []
    return [t if value_only else f"{name}={t}" for t in texts]
