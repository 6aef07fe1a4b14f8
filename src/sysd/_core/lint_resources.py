"""Value checks of systemd 252's cgroup, socket and exit-status parsers, for :mod:`sysd._core.lint`.

``DeviceAllow=``, ``IPAddressAllow=``/``IPAddressDeny=``, ``Delegate=``, ``SuccessExitStatus=``
and the like, and the simpler socket settings (buffer sizes, file descriptor names, time
stamping, ``BindIPv6Only=``, ``IPTOS=``), ported from ``src/core/load-fragment.c``,
``src/shared/conf-parser.c`` and ``src/shared/in-addr-prefix-util.c`` as
:mod:`sysd._core.lint_values` ports the others.  Pure: no I/O.
"""

from __future__ import annotations

import re
import socket
from typing import Final

from . import unitname
from .lint_sandbox import (
    PATH_CHECK_ABSOLUTE,
    fdname_is_valid,
    names,
    path_simplify_and_warn,
    words,
)
from .lint_values import FULL_SPECIFIERS, Problem, _Check, _warn, bad_specifier, has_specifier
from .props._c import (
    UNQUOTE,
    Bad,
    extract_first_word,
    parse_boolean,
    parse_size,
    path_simplify,
    safe_atou,
    safe_atou8,
)
from .props._kit import exit_status_from_string, signal_from_string
from .props._tables import IP_TOS_BY_NAME
from .unitname import _path_startswith

__all__ = ["CHECKS"]

_EINVAL: Final = "Invalid argument"
_ERANGE: Final = "Numerical result out of range"


def _valid_device_node_path(path: str) -> bool:
    b = path.encode("utf-8", "surrogateescape")
    if all(_path_startswith(b, p) is None for p in (b"/dev/", b"/run/systemd/inaccessible/")):
        return False
    return not path.endswith("/") and unitname.path_is_normalized(path)


def _device_allow(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_device_allow: ``PATH|block-X|char-X [rwm]``."""
    if not value:
        return []
    try:
        path, rights = extract_first_word(value, None, UNQUOTE)
    except Bad:
        path, rights = None, None
    if not path:
        return _warn(f"Failed to extract device path and rights from '{value}', ignoring.")
    if bad_specifier(path, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{path}', ignoring: Invalid slot")
    if has_specifier(path):
        return []
    if not path.startswith(("block-", "char-")):
        problem = path_simplify_and_warn(path, 0, key)
        if problem:
            return problem
        simple = path_simplify(path)
        if not _valid_device_node_path(simple):
            return _warn(f"Invalid device node path '{simple}', ignoring.")
    if rights and not set(rights) <= set("rwm"):
        return _warn(f"Invalid device rights '{rights}', ignoring.")
    return []


def _is_localhost(word: str) -> bool:
    w = word.lower() if word.isascii() else word
    names = ("localhost", "localhost.", "localhost.localdomain", "localhost.localdomain.")
    return w in names or w.endswith(tuple("." + n for n in names))


def _prefix_valid(word: str) -> bool:
    """in_addr_prefix_from_string_auto(PREFIXLEN_FULL): ``ADDRESS[/LEN]``, IPv4 or IPv6."""
    address, slash, length = word.partition("/")
    for family, bits in ((socket.AF_INET, 32), (socket.AF_INET6, 128)):
        try:
            socket.inet_pton(family, address)
        except (OSError, ValueError):
            continue
        if not slash:
            return True
        n = safe_atou8(length)
        return n is not None and n <= bits
    return False


def _in_addr_prefixes(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_in_addr_prefixes (AF_UNSPEC): addresses with prefixes, or the shortcuts."""
    if not value:
        return []
    out: list[Problem] = []
    found, failed = words(value, 0)
    for word in found:
        if word in ("any", "link-local", "multicast") or _is_localhost(word):
            continue
        if not _prefix_valid(word):
            out += _warn(f"Address prefix is invalid, ignoring assignment: {word}")
    if failed:
        out += _warn(f"Invalid syntax, ignoring: {value}")
    return out


def _set_status(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_set_status: exit statuses (0..255, names) and signals."""
    out: list[Problem] = []
    found, failed = words(value, 0)
    for word in found:
        if exit_status_from_string(word) is None and signal_from_string(word) is None:
            out += _warn(f"Failed to parse value, ignoring: {word}")
    if failed:
        out += _warn(f"Failed to parse {key}={value}, ignoring: {_EINVAL}")
    return out


def _iec_size(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    try:
        parse_size(value, 1024)
    except Bad as exc:
        erange = "64 bits" in exc.args[0] or "not negative" in exc.args[0]
        error = _ERANGE if erange else _EINVAL
        return _warn(f"Failed to parse size value '{value}', ignoring: {error}")
    return []


def _fdname(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: Invalid slot")
    if not has_specifier(value) and not fdname_is_valid(value):
        return _warn(f"Invalid file descriptor name, ignoring: {value}")
    return []


_TIMESTAMPING: Final = frozenset({"off", "us", "ns", "nsec", "usec", "µs", "μs"})


def _socket_timestamping(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if value in _TIMESTAMPING or parse_boolean(value) is not None:
        return []
    return _warn(f"Failed to parse timestamping precision, ignoring: {value}")


def _socket_bind(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_socket_bind (BindIPv6Only=): a boolean, default, both, ipv6-only."""
    if parse_boolean(value) is not None or value in ("default", "both", "ipv6-only"):
        return []
    return _warn(f"Failed to parse bind IPv6 only value, ignoring: {value}")


def _ip_tos(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value or value in IP_TOS_BY_NAME:
        return []
    n = safe_atou(value)
    if n is not None and n <= 0xFF:
        return []
    return _warn(f"Failed to parse IP TOS value, ignoring: {value}")


_CONTROLLERS: Final = names(
    "cpu cpuacct cpuset io blkio memory devices pids bpf-firewall bpf-devices bpf-foreign "
    "bpf-socket-bind bpf-restrict-network-interfaces"
)


def _delegate(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_delegate: services and scopes only; a boolean or controller names."""
    if unit_type not in ("service", "scope"):
        return _warn("Delegate= setting not supported for this unit type, ignoring.")
    if not value or parse_boolean(value) is not None:
        return []
    out: list[Problem] = []
    found, failed = words(value, UNQUOTE)
    for word in found:
        if word not in _CONTROLLERS:
            out += _warn(f"Invalid controller name '{word}', ignoring")
    if failed:
        out += _warn(f"Invalid syntax, ignoring: {value}")
    return out


def _tty_size(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_tty_size: empty resets, else config_parse_unsigned."""
    if not value or safe_atou(value) is not None:
        return []
    return _warn(f"Failed to parse unsigned value, ignoring: {value}")


# ----------------------------------------------------------------------------- Listen*=

_ENAMETOOLONG: Final = "File name too long"
_NUMBER: Final = re.compile(r"[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]*|[1-9][0-9]*)")


def _atou(text: str, bits: int = 32, refuse_whitespace: bool = False) -> int | str:
    """safe_atou()/safe_atou16_full(): the number, or the %m of its error."""
    if refuse_whitespace and text[:1] in " \t\n\r":
        return _EINVAL
    n = safe_atou(text)
    if n is None:
        return _ERANGE if _NUMBER.fullmatch(text.lstrip(" \t\n\r")) else _EINVAL
    return n if n < (1 << bits) else _ERANGE


def _ip_port(text: str) -> int | str:
    """parse_ip_port(): 1..65535."""
    n = _atou(text, 16, refuse_whitespace=True)
    return _EINVAL if n == 0 else n


def _inet(family: socket.AddressFamily, text: str) -> bool:
    try:
        socket.inet_pton(family, text)
    except (OSError, ValueError):
        return False
    return True


def _ip_address_port(s: str) -> str | None:
    """in_addr_port_ifindex_name_from_string_auto() (no server name), then "no port, no go"."""
    if "#" in s:
        return _EINVAL
    m = s.rfind(":")
    port: int | str = 0
    if m >= 0:
        if s.startswith("["):
            if s[m - 1] != "]":
                return _EINVAL
            port = _ip_port(s[m + 1 :])
            if isinstance(port, str):
                return port
            if not _inet(socket.AF_INET6, s[1 : m - 1]):
                return _EINVAL
        elif not _inet(socket.AF_INET6, s):
            if not _inet(socket.AF_INET, s[:m]):
                return _EINVAL
            port = _ip_port(s[m + 1 :])
            if isinstance(port, str):
                return port
    elif not _inet(socket.AF_INET, s):
        return _EINVAL
    return _EINVAL if port == 0 else None


def socket_address_error(s: str) -> tuple[str | None, bool]:
    """socket_address_parse(): (the %m of its error or None, whether it is AF_UNIX)."""
    if s[:1] in ("/", "@"):
        size = len(s.encode("utf-8", "surrogateescape"))
        if size < 2:
            return _EINVAL, True
        if size + 1 > 108:  # sizeof(sun_path)
            return (_EINVAL if s[0] == "@" else _ENAMETOOLONG), True
        return None, True
    if s.startswith("vsock:"):
        cid, colon, port = s[6:].partition(":")
        if not colon:
            return _EINVAL, False
        for number in (port, cid) if cid else (port,):
            n = _atou(number)
            if isinstance(n, str):
                return n, False
        return None, False
    just_port = _ip_port(s)
    if just_port == _ERANGE:
        return _ERANGE, False
    if isinstance(just_port, int):
        return None, False
    return _ip_address_port(s), False


_NETLINK_FAMILIES: Final = names(
    "route firewall inet-diag nflog xfrm selinux iscsi audit fib-lookup connector netfilter "
    "ip6-fw dnrtmsg kobject-uevent generic scsitransport ecryptfs rdma"
)


def _netlink_error(s: str) -> str | None:
    """socket_address_parse_netlink(): ``FAMILY [GROUP]``."""
    try:
        word, rest = extract_first_word(s, None, 0)
    except Bad:
        return _EINVAL
    if word is None:
        return _EINVAL
    if word not in _NETLINK_FAMILIES:
        n = safe_atou(word)
        if n is None or n > 2**31 - 1:
            return _EINVAL
    if rest:
        n2 = _atou(rest)
        if isinstance(n2, str):
            return n2
    return None


def _socket_listen(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_socket_listen: a socket address, a netlink family, or a path."""
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: Invalid slot")
    if has_specifier(value):
        return []  # resolved at load time (or an interface name, which needs the machine)
    if ltype != "SOCKET_SOCKET":
        return path_simplify_and_warn(value, PATH_CHECK_ABSOLUTE, key) or []
    k = value
    if key == "ListenNetlink":
        error = _netlink_error(value)
    else:
        if unitname._path_startswith(k.encode("utf-8", "surrogateescape"), b"/var/run/"):
            k = "/run/" + k[len("/var/run/") :].lstrip("/")  # patch_var_run()
        error, unix = socket_address_error(k)
        if error is None and key == "ListenSequentialPacket" and not unix:
            return _warn(f"Address family not supported, ignoring: {value}")
    if error is not None:
        return _warn(f"Failed to parse address value in '{k}', ignoring: {error}")
    return []


def _pid_file(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_pid_file: relative to /run; a path that is not normalized is fatal."""
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: Invalid slot")
    if has_specifier(value):
        return []
    path = value if value.startswith("/") else "/run/" + value
    problem = path_simplify_and_warn(path, PATH_CHECK_ABSOLUTE, key)
    return [problem[0]._replace(fatal=True)] if problem else []


def var_run_notice(func: str, key: str, value: str, ltype: str) -> str | None:
    """patch_var_run(): the notice systemd logs for a file below /etc whose ``PIDFile=`` or
    ``ListenStream=``-like path is below /var/run/ (None when there is none)."""
    if has_specifier(value) or (not value.startswith("/") and func != "pid_file"):
        return None
    if func == "pid_file":
        path = path_simplify(value if value.startswith("/") else "/run/" + value)
    elif func == "socket_listen" and (ltype == "SOCKET_FIFO" or key in _INET_LISTEN):
        path = path_simplify(value) if ltype == "SOCKET_FIFO" else value
    else:
        return None
    rest = unitname._path_startswith(path.encode("utf-8", "surrogateescape"), b"/var/run/")
    if rest is None:
        return None
    new = "/run/" + rest.decode("utf-8", "surrogateescape")
    return (
        f"{key}= references a path below legacy directory /var/run/, updating {path} \u2192 "
        f"{new}; please update the unit file accordingly."
    )


_INET_LISTEN: Final = frozenset({"ListenStream", "ListenDatagram", "ListenSequentialPacket"})


CHECKS: Final[dict[str, _Check]] = {
    "config_parse_pid_file": _pid_file,
    "config_parse_socket_listen": _socket_listen,
    "config_parse_device_allow": _device_allow,
    "config_parse_in_addr_prefixes": _in_addr_prefixes,
    "config_parse_set_status": _set_status,
    "config_parse_iec_size": _iec_size,
    "config_parse_fdname": _fdname,
    "config_parse_socket_timestamping": _socket_timestamping,
    "config_parse_socket_bind": _socket_bind,
    "config_parse_ip_tos": _ip_tos,
    "config_parse_delegate": _delegate,
    "config_parse_tty_size": _tty_size,
}
