"""Resource control: ``bus_append_cgroup_property()`` (service, socket, slice, scope, mount)."""

from __future__ import annotations

import socket
from typing import Final

from . import _tables as T
from ._c import (
    DONT_COALESCE_SEPARATORS,
    UINT64_MAX,
    UNQUOTE,
    WHITESPACE,
    Bad,
    dbus_str,
    extract_first_word,
    parse_boolean,
    parse_permyriad,
    parse_permyriad_unbounded,
    parse_range,
    parse_size,
    safe_atou,
    safe_atou64,
    uint32_scale_from_permyriad,
)
from ._kit import (
    USEC_INFINITY,
    Assignment,
    Handler,
    Out,
    boolean,
    parse_sec,
    string,
    strv,
)

__all__ = ["HANDLERS", "LIST_JOIN", "LIST_WORDS", "parse_cpu_set"]

CGROUP_LIMIT_MAX: Final = UINT64_MAX


# ----------------------------------------------------------------------- weights


def _weight(lo: int, hi: int, what: str, idle: bool = False) -> Handler:
    def handler(out: Out, field: str, eq: str) -> None:
        if idle and eq == "idle":
            n: int | None = 0
        elif not eq:
            n = UINT64_MAX  # CGROUP_WEIGHT_INVALID & co: "unset"
        else:
            n = safe_atou64(eq)
            if n is None or not lo <= n <= hi:
                raise Bad(what)
        out.append(Assignment(field, "t", n))

    return handler


cpu_weight = _weight(1, 10000, "a weight between 1 and 10000, or idle", idle=True)
io_weight = _weight(1, 10000, "a weight between 1 and 10000")
cpu_shares = _weight(2, 262144, "a share count between 2 and 262144")
blkio_weight = _weight(10, 1000, "a weight between 10 and 1000")


# ----------------------------------------------------------------------- CPU sets


def parse_cpu_set(eq: str) -> bytes:
    """``parse_cpu_set()`` + ``cpu_set_to_dbus()``: ``"0-3 8,9"`` -> the glibc cpu_set_t bytes."""
    mask = 0
    allocated = 0  # bytes, in whole unsigned longs like CPU_ALLOC_SIZE()
    rest: str | None = eq
    while True:
        word, rest = extract_first_word(rest, WHITESPACE + ",", UNQUOTE)
        if word is None:
            break
        bounds = parse_range(word)
        if bounds is None:
            raise Bad("CPU numbers or ranges such as 0-3 5 7")
        lo, hi = bounds
        if lo > hi:
            allocated = max(allocated, 8)  # an empty but allocated set
            continue
        hi = min(hi, 2**32 - 2)  # C counts down from MIN(upper, UINT_MAX-1)
        if lo > hi:
            continue
        if hi >= 8192:
            raise Bad("CPU numbers below 8192")
        mask |= (1 << (hi + 1)) - (1 << lo)
        allocated = max(allocated, (hi + 1 + 63) // 64 * 8)
    return mask.to_bytes(allocated, "little")


def cpu_set(out: Out, field: str, eq: str) -> None:
    out.append(Assignment(field, "ay", parse_cpu_set(eq)))


# ----------------------------------------------------------------------- memory, tasks, CPU

_EMPTY_MEANS_MIN: Final = frozenset(
    {"DefaultMemoryLow", "DefaultMemoryMin", "MemoryLow", "MemoryMin"}
)


def memory_limit(out: Out, field: str, eq: str) -> None:
    """MemoryMin= ... TasksMax=: bytes (or a count), a percentage, infinity, or empty."""
    if eq == "infinity":
        out.append(Assignment(field, "t", CGROUP_LIMIT_MAX))
        return
    if not eq:
        out.append(Assignment(field, "t", 0 if field in _EMPTY_MEANS_MIN else CGROUP_LIMIT_MAX))
        return
    permyriad = parse_permyriad(eq)
    if permyriad is not None:
        out.append(Assignment(field + "Scale", "u", uint32_scale_from_permyriad(permyriad)))
        return
    if field == "TasksMax":
        n = safe_atou64(eq)
        if n is None:
            raise Bad("a number of tasks, a percentage such as 40%, or infinity")
        out.append(Assignment(field, "t", n))
        return
    try:
        out.append(Assignment(field, "t", parse_size(eq, 1024)))
    except Bad:
        raise Bad("a size such as 512M or 2G, a percentage such as 40%, or infinity") from None


def managed_oom_limit(out: Out, field: str, eq: str) -> None:
    permyriad = parse_permyriad(eq)
    if permyriad is None:
        raise Bad("a percentage between 0% and 100%, such as 60% or 45.5%")
    out.append(Assignment(field, "u", uint32_scale_from_permyriad(permyriad)))


def cpu_quota(out: Out, field: str, eq: str) -> None:
    if not eq:
        out.append(Assignment("CPUQuotaPerSecUSec", "t", USEC_INFINITY))
        return
    permyriad = parse_permyriad_unbounded(eq)
    if not permyriad:
        raise Bad("a percentage above 0%, such as 20% or 150%")
    out.append(Assignment("CPUQuotaPerSecUSec", "t", permyriad * 1_000_000 // 10000))


def cpu_quota_period(out: Out, field: str, eq: str) -> None:
    text = eq.lstrip(WHITESPACE)
    value = USEC_INFINITY if not text else parse_sec(text)
    out.append(Assignment("CPUQuotaPeriodUSec", "t", value))


def delegate(out: Out, field: str, eq: str) -> None:
    b = parse_boolean(eq)
    if b is None:
        _disable_controllers(out, "DelegateControllers", eq)
    else:
        out.append(Assignment("Delegate", "b", b))


_disable_controllers = strv(UNQUOTE)


# ----------------------------------------------------------------------- devices and IO


def _split_space(field: str, eq: str) -> tuple[str, str]:
    path, sep, rest = eq.partition(" ")
    if not sep:
        raise Bad("a device path and a value separated by a space, e.g. /dev/sda 5M")
    return dbus_str(path), rest


def device_allow(out: Out, field: str, eq: str) -> None:
    if not eq:
        out.append(Assignment(field, "a(ss)", []))
        return
    path, _, rwm = eq.partition(" ")
    out.append(Assignment(field, "a(ss)", [(dbus_str(path), dbus_str(rwm))]))


def io_limit(out: Out, field: str, eq: str) -> None:
    """IO{Read,Write}{Bandwidth,IOPS}Max=, BlockIO{Read,Write}Bandwidth=: PATH SIZE|infinity."""
    if not eq:
        out.append(Assignment(field, "a(st)", []))
        return
    path, value = _split_space(field, eq)
    limit = CGROUP_LIMIT_MAX if value == "infinity" else parse_size(value, 1000)
    out.append(Assignment(field, "a(st)", [(path, limit)]))


def io_device_weight(out: Out, field: str, eq: str) -> None:
    if not eq:
        out.append(Assignment(field, "a(st)", []))
        return
    path, value = _split_space(field, eq)
    weight = safe_atou64(value)
    if weight is None:
        raise Bad("a device path and a weight, e.g. /dev/sda 200")
    out.append(Assignment(field, "a(st)", [(path, weight)]))


def io_device_latency(out: Out, field: str, eq: str) -> None:
    if not eq:
        # systemd 252 passes USEC_INFINITY as the array *length* here (undefined behaviour
        # that sends garbage); the intent, and what later systemd sends, is an empty array.
        out.append(Assignment("IODeviceLatencyTargetUSec", "a(st)", []))
        return
    path, value = _split_space(field, eq)
    out.append(Assignment("IODeviceLatencyTargetUSec", "a(st)", [(path, parse_sec(value))]))


# ----------------------------------------------------------------------- IP access lists

AF_INET: Final = 2
AF_INET6: Final = 10
_ADDRESS_EXPECTED: Final = (
    "IP addresses or prefixes such as 10.0.0.0/8 or fe80::/64, or one of any, localhost, "
    "link-local, multicast"
)
_SHORTCUTS: Final = {
    "any": [(AF_INET, bytes(4), 0), (AF_INET6, bytes(16), 0)],
    "link-local": [
        (AF_INET, bytes((169, 254, 0, 0)), 16),
        (AF_INET6, bytes((0xFE, 0x80)) + bytes(14), 64),
    ],
    "multicast": [(AF_INET, bytes((224, 0, 0, 0)), 4), (AF_INET6, bytes((0xFF,)) + bytes(15), 8)],
}
_LOCALHOST: Final = [(AF_INET, bytes((127, 0, 0, 0)), 8), (AF_INET6, bytes(15) + b"\x01", 128)]


def is_localhost(name: str) -> bool:
    """``is_localhost()`` (RFC 6761 names, any case)."""
    if not name.isascii():
        return False
    n = name.lower()
    return n in ("localhost", "localhost.", "localhost.localdomain", "localhost.localdomain.") or (
        n.endswith(
            (".localhost", ".localhost.", ".localhost.localdomain", ".localhost.localdomain.")
        )
    )


def in_addr_prefix_from_string_auto(word: str) -> tuple[int, bytes, int] | None:
    """``in_addr_prefix_from_string_auto()``: inet_pton() syntax, optional /prefixlen."""
    address, slash, prefix = word.partition("/")
    for family, size in ((socket.AF_INET, 4), (socket.AF_INET6, 16)):
        try:
            packed = socket.inet_pton(family, address)
        except (OSError, ValueError, UnicodeError):
            continue
        if slash:
            n = safe_atou(prefix)
            if n is None or n > 255 or n > size * 8:
                return None
        else:
            n = size * 8
        return (AF_INET if size == 4 else AF_INET6), packed, n
    return None


def ip_address_access(out: Out, field: str, eq: str) -> None:
    if not eq:
        out.append(Assignment(field, "a(iayu)", []))
        return
    shortcut = _SHORTCUTS.get(eq)
    if shortcut is not None:
        entries = list(shortcut)
    elif is_localhost(eq):
        entries = list(_LOCALHOST)
    else:
        entries = []
        rest: str | None = eq
        while True:
            word, rest = extract_first_word(rest, None, 0)
            if word is None:
                break
            parsed = in_addr_prefix_from_string_auto(word)
            if parsed is None:
                raise Bad(_ADDRESS_EXPECTED)
            entries.append(parsed)
    out.append(Assignment(field, "a(iayu)", entries))


# ----------------------------------------------------------------------- BPF, socket binding


def ip_filter_path(out: Out, field: str, eq: str) -> None:
    out.append(Assignment(field, "as", [dbus_str(eq)] if eq else []))


def bpf_program(out: Out, field: str, eq: str) -> None:
    if not eq:
        out.append(Assignment(field, "a(ss)", []))
        return
    kind, path = extract_first_word(eq, ":", 0)
    out.append(Assignment(field, "a(ss)", [(dbus_str(kind or ""), dbus_str(path or ""))]))


def _parse_socket_bind_item(text: str) -> tuple[int, int, int, int] | None:
    """``parse_socket_bind_item()``: ``[ipv4|ipv6:][tcp|udp:]PORT[-PORT]|any``."""
    family, protocol, nr_ports, port_min = 0, 0, 0, 0
    stage = 0  # 0: family, 1: protocol, 2: ports, 3: done
    ok = True
    rest: str | None = text
    while True:
        token, rest = extract_first_word(rest, ":", DONT_COALESCE_SEPARATORS)
        if token is None:
            break
        if not token:
            return None
        while stage < 3:
            stage += 1
            ok = True
            if stage == 1:
                if token in ("ipv4", "ipv6"):
                    family = AF_INET if token == "ipv4" else AF_INET6
                    break
            elif stage == 2:
                if token.isascii() and token.lower() in ("tcp", "udp"):
                    protocol = T.IP_PROTOCOL_BY_NAME[token.lower()]
                    break
            elif token == "any":
                nr_ports = port_min = 0
                break
            else:
                bounds = parse_range(token)
                if bounds is not None and 0 < bounds[0] <= bounds[1] <= 65535:
                    nr_ports, port_min = bounds[1] - bounds[0] + 1, bounds[0]
                    break
            ok = False
        if stage == 3:
            break
    if not ok or rest is not None:
        return None
    return family, protocol, nr_ports, port_min


def socket_bind(out: Out, field: str, eq: str) -> None:
    if not eq:
        out.append(Assignment(field, "a(iiqq)", []))
        return
    item = _parse_socket_bind_item(eq)
    if item is None:
        raise Bad("[ipv4:|ipv6:][tcp:|udp:]PORT, PORT-PORT or any, e.g. ipv6:tcp:8000-8080")
    out.append(Assignment(field, "a(iiqq)", [item]))


# ----------------------------------------------------------------------- the group

HANDLERS: Final[dict[str, Handler]] = {
    **dict.fromkeys(
        ("DevicePolicy", "Slice", "ManagedOOMSwap", "ManagedOOMMemoryPressure",
         "ManagedOOMPreference"),
        string,
    ),
    "ManagedOOMMemoryPressureLimit": managed_oom_limit,
    **dict.fromkeys(
        ("CPUAccounting", "MemoryAccounting", "IOAccounting", "BlockIOAccounting",
         "TasksAccounting", "IPAccounting"),
        boolean,
    ),
    "CPUWeight": cpu_weight,
    "StartupCPUWeight": cpu_weight,
    "IOWeight": io_weight,
    "StartupIOWeight": io_weight,
    "CPUShares": cpu_shares,
    "StartupCPUShares": cpu_shares,
    **dict.fromkeys(
        ("AllowedCPUs", "StartupAllowedCPUs", "AllowedMemoryNodes", "StartupAllowedMemoryNodes"),
        cpu_set,
    ),
    "BlockIOWeight": blkio_weight,
    "StartupBlockIOWeight": blkio_weight,
    "DisableControllers": _disable_controllers,
    "Delegate": delegate,
    **dict.fromkeys(
        ("MemoryMin", "DefaultMemoryLow", "DefaultMemoryMin", "MemoryLow", "MemoryHigh",
         "MemoryMax", "MemorySwapMax", "MemoryLimit", "TasksMax"),
        memory_limit,
    ),
    "CPUQuota": cpu_quota,
    "CPUQuotaPeriodSec": cpu_quota_period,
    "DeviceAllow": device_allow,
    **dict.fromkeys(
        ("IOReadBandwidthMax", "IOWriteBandwidthMax", "IOReadIOPSMax", "IOWriteIOPSMax",
         "BlockIOReadBandwidth", "BlockIOWriteBandwidth"),
        io_limit,
    ),
    "IODeviceWeight": io_device_weight,
    "BlockIODeviceWeight": io_device_weight,
    "IODeviceLatencyTargetSec": io_device_latency,
    "IPAddressAllow": ip_address_access,
    "IPAddressDeny": ip_address_access,
    "IPIngressFilterPath": ip_filter_path,
    "IPEgressFilterPath": ip_filter_path,
    "BPFProgram": bpf_program,
    "SocketBindAllow": socket_bind,
    "SocketBindDeny": socket_bind,
}  # fmt: skip

#: Whitespace-separated lists whose words may be quoted ("a b" is one word).
LIST_WORDS: Final = frozenset(
    {"DisableControllers", "Delegate", "AllowedCPUs", "StartupAllowedCPUs", "AllowedMemoryNodes",
     "StartupAllowedMemoryNodes"}
)  # fmt: skip
#: Whitespace-separated lists without quoting (joined as they are).
LIST_JOIN: Final = frozenset({"IPAddressAllow", "IPAddressDeny"})
