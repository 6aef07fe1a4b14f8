"""Value checks of systemd 252's cgroup parsers, for :mod:`sysd._core.lint`.

Per-device IO settings (``IOReadBandwidthMax=``, ``IODeviceWeight=``, the deprecated
``BlockIO*=``), CPU sets (``AllowedCPUs=``), systemd-oomd settings, BPF programs,
``SocketBindAllow=``, ``RestrictNetworkInterfaces=`` and ``DisableControllers=``, ported from
``src/core/load-fragment.c`` as :mod:`sysd._core.lint_values` ports the others.  Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .lint_sandbox import PATH_CHECK_ABSOLUTE, names, path_simplify_and_warn, words
from .lint_values import (
    FULL_SPECIFIERS,
    Problem,
    _Check,
    _is_usec,
    _warn,
    bad_specifier,
    has_specifier,
)
from .props._c import (
    DONT_COALESCE_SEPARATORS,
    UNQUOTE,
    Bad,
    extract_first_word,
    parse_permyriad,
    parse_range,
    parse_size,
    safe_atoi,
    safe_atou64,
)

__all__ = ["CHECKS", "cpu_set_problems", "ifname_valid"]

_EINVAL: Final = "Invalid argument"
_ERANGE: Final = "Numerical result out of range"
_DIGITS: Final = frozenset("0123456789")


def _weight_error(text: str, lo: int, hi: int) -> str | None:
    """cg_weight_parse() & co on a non-empty value: the %m of the error, or None."""
    n = safe_atou64(text)
    if n is None:
        stripped = text.strip(" \t\n\r").lstrip("+")
        return _ERANGE if stripped.lstrip("-").isdigit() else _EINVAL
    return None if lo <= n <= hi else _ERANGE


def _device(
    what: str,
    value_problem: Callable[[str], str | None],
    node: str = "node",
    deprecated: bool = False,
) -> _Check:
    """The ``PATH VALUE`` parsers: config_parse_io_limit & co."""

    def check(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
        out: list[Problem] = []
        if deprecated:
            out += _warn(
                f"Unit uses {key}=; please use IO*= settings instead. Support for {key}= will be "
                "removed soon."
            )
        if not value:
            return out
        try:
            path, rest = extract_first_word(value, None, UNQUOTE)
        except Bad:
            return out + _warn(
                f"Failed to extract device {node} and {what} from '{value}', ignoring."
            )
        if path is None or not rest:
            return out + _warn(f"Invalid device {node} or {what} specified in '{value}', ignoring.")
        if bad_specifier(path, FULL_SPECIFIERS) is not None:
            return out + _warn(
                f"Failed to resolve unit specifiers in '{path}', ignoring: Invalid slot"
            )
        if not has_specifier(path):
            problem = path_simplify_and_warn(path, 0, key)
            if problem:
                return out + problem
        message = value_problem(rest)
        return out + (_warn(message) if message else [])

    return check


def _io_limit(p: str) -> str | None:
    if p == "infinity":
        return None
    try:
        ok = parse_size(p, 1000) > 0
    except Bad:
        ok = False
    return None if ok else f"Invalid IO limit '{p}', ignoring."


def _blockio_bandwidth(p: str) -> str | None:
    try:
        ok = parse_size(p, 1000) > 0
    except Bad:
        ok = False
    return None if ok else f"Invalid Block IO Bandwidth '{p}', ignoring."


def _io_weight(p: str) -> str | None:
    error = _weight_error(p, 1, 10000)
    return f"IO weight '{p}' invalid, ignoring: {error}" if error else None


def _blockio_weight(p: str) -> str | None:
    error = _weight_error(p, 10, 1000)
    return f"Invalid block IO weight '{p}', ignoring: {error}" if error else None


def _latency(p: str) -> str | None:
    return None if _is_usec(p) else f"Failed to parse timer value, ignoring: {p}"


# ----------------------------------------------------------------------------- CPU sets


def cpu_set_problems(key: str, value: str) -> list[Problem]:
    """parse_cpu_set_full(warn=true): ``N``, ``N-M``, separated by spaces or commas."""
    out: list[Problem] = []
    p: str | None = value
    while True:
        try:
            word, p = extract_first_word(p, " \t\n\r,", UNQUOTE)
        except Bad:
            return [*out, Problem("error", f"Invalid value for {key}: {value}")]
        if word is None:
            return out
        try:
            bounds = parse_range(word)
        except Bad:
            bounds = None
        if bounds is None:
            return [*out, Problem("error", f"Failed to parse CPU affinity '{word}'")]
        lower, upper = bounds
        if lower > upper:
            out += _warn(f"Range '{word}' is invalid, {lower} > {upper}, ignoring.")
        elif upper >= 8192:
            message = f"Cannot add CPU {upper} to set: {_ERANGE}"
            return [*out, Problem("error", message)]


def _allowed_cpuset(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_allowed_cpuset (AllowedCPUs=, AllowedMemoryNodes=)."""
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: Invalid slot")
    if has_specifier(value):
        return []
    return cpu_set_problems(key, value)


# ----------------------------------------------------------------------------- systemd-oomd


def _managed_oom(check: Callable[[str], str | None]) -> _Check:
    def run(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
        if unit_type not in ("service", "scope", "slice"):  # can_set_managed_oom
            return _warn(f"{key}= is not supported for this unit type, ignoring.")
        message = check(value) if value else None
        return _warn(message) if message else []

    return run


def _oom_mode(value: str) -> str | None:
    return None if value in ("auto", "kill") else f"Invalid syntax, ignoring: {value}"


def _oom_pressure(value: str) -> str | None:
    if parse_permyriad(value) is not None:
        return None
    return f"Failed to parse memory pressure limit value, ignoring: {value}"


# ----------------------------------------------------------------------------- the others

_CONTROLLERS: Final = names(
    "cpu cpuacct cpuset io blkio memory devices pids bpf-firewall bpf-devices bpf-foreign "
    "bpf-socket-bind bpf-restrict-network-interfaces"
)


def _disable_controllers(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    found, failed = words(value, 0)
    if failed or not any(w in _CONTROLLERS for w in found):
        return _warn(f"Invalid cgroup string: {value}, ignoring")
    return []


def _bpf_progs(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_ip_filter_bpf_progs: an absolute path (whether the kernel supports BPF
    firewalls is the machine's business: not checked)."""
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: Invalid slot")
    if has_specifier(value):
        return []
    return path_simplify_and_warn(value, PATH_CHECK_ABSOLUTE, key) or []


_BPF_ATTACH_TYPES: Final = names(
    "ingress egress sock_create sock_ops device bind4 bind6 connect4 connect6 post_bind4 "
    "post_bind6 sendmsg4 sendmsg6 sysctl recvmsg4 recvmsg6 getsockopt setsockopt"
)


def _bpf_foreign_program(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_bpf_foreign_program: ``ATTACH-TYPE:PATH``."""
    if not value:
        return []
    try:
        word, p = extract_first_word(value, ":", 0)
    except Bad:
        return _warn(f"Failed to parse foreign BPF program, ignoring: {value}")
    if word is None or not p:
        return _warn(f"Invalid syntax in {key}=, ignoring: {value}")
    if word not in _BPF_ATTACH_TYPES:
        return _warn(f"Unknown BPF attach type={word}, ignoring: {value}")
    if bad_specifier(p, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{p}', ignoring: {value}")
    if has_specifier(p):
        return []
    return path_simplify_and_warn(p, PATH_CHECK_ABSOLUTE, key) or []


def _port_range_ok(token: str) -> bool:
    if token == "any":
        return True
    try:
        bounds = parse_range(token)
    except Bad:
        return False
    if bounds is None:
        return False
    lower, upper = bounds
    return 0 < lower <= upper <= 65535


_SOCKET_BIND_TOKENS: Final[tuple[Callable[[str], bool], ...]] = (
    lambda t: t in ("ipv4", "ipv6"),
    lambda t: t in ("tcp", "udp"),
    _port_range_ok,
)


def _socket_bind_item_ok(s: str) -> bool:
    """parse_socket_bind_item(): ``[ipv4|ipv6:][tcp|udp:]PORTS|any``, in that order."""
    if not s:
        return False
    i = 0
    ok = True
    p: str | None = s
    while True:
        try:
            token, p = extract_first_word(p, ":", DONT_COALESCE_SEPARATORS)
        except Bad:
            return False
        if token is None:
            break
        if not token:
            return False
        while i < len(_SOCKET_BIND_TOKENS):
            ok = _SOCKET_BIND_TOKENS[i](token)
            i += 1
            if ok:
                break
        if i == len(_SOCKET_BIND_TOKENS):
            break
    return ok and p is None


def _cgroup_socket_bind(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value or _socket_bind_item_ok(value):
        return []
    return _warn(f"Unable to parse {key}= assignment, ignoring: {value}")


def ifname_valid(p: str) -> bool:
    """``ifname_valid()``: a kernel interface name (no index, no alias, under 16 bytes)."""
    if not p:
        return False
    n = safe_atoi(p)
    if n is not None and n > 0:
        return False
    if len(p.encode("utf-8", "surrogateescape")) >= 16 or p in (".", "..", "all", "default"):
        return False
    if any(not (" " < c < "\x7f") or c in ":/%" for c in p):
        return False
    return not _DIGITS.issuperset(p)


def _restrict_network_interfaces(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    rest = value[1:] if value.startswith("~") else value
    out: list[Problem] = []
    found, failed = words(rest, UNQUOTE)
    for word in found:
        if not ifname_valid(word):
            out += _warn(f"Invalid interface name, ignoring: {word}")
    if failed:
        out += _warn(f"Trailing garbage in {key}, ignoring: {rest}")
    return out


CHECKS: Final[dict[str, _Check]] = {
    "config_parse_io_limit": _device("bandwidth", _io_limit),
    "config_parse_io_device_weight": _device("weight", _io_weight, node="path"),
    "config_parse_io_device_latency": _device("latency", _latency, node="path"),
    "config_parse_blockio_device_weight": _device("weight", _blockio_weight, deprecated=True),
    "config_parse_blockio_bandwidth": _device("bandwidth", _blockio_bandwidth, deprecated=True),
    "config_parse_allowed_cpuset": _allowed_cpuset,
    "config_parse_managed_oom_mode": _managed_oom(_oom_mode),
    "config_parse_managed_oom_mem_pressure_limit": _managed_oom(_oom_pressure),
    "config_parse_disable_controllers": _disable_controllers,
    "config_parse_ip_filter_bpf_progs": _bpf_progs,
    "config_parse_bpf_foreign_program": _bpf_foreign_program,
    "config_parse_cgroup_socket_bind": _cgroup_socket_bind,
    "config_parse_restrict_network_interfaces": _restrict_network_interfaces,
}
