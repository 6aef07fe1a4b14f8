"""Value checks of systemd 252's execution and sandboxing parsers, for :mod:`sysd._core.lint`.

The ``config_parse_*`` functions of ``src/core/load-fragment.c`` for credentials, capabilities,
system call and address family lists, namespaces, the per-unit directories, the path lists of
the file system sandbox and the like, ported as :mod:`sysd._core.lint_values` ports the others:
``check(key, value, ltype, unit_type)`` returns what systemd logs, in its words.  A message
systemd logs at ``LOG_ERR`` but then ignores (``path_simplify_and_warn()``) is an error that is
not fatal.  Values that contain a specifier systemd resolves are checked for the specifier only:
what it resolves to is known at load time.  Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Final

from . import unitname
from .lint_syscall_names import SYSCALL_GROUPS, SYSCALL_NAMES
from .lint_values import FULL_SPECIFIERS, Problem, _Check, _warn, bad_specifier, has_specifier
from .props._c import (
    CUNESCAPE,
    DONT_COALESCE_SEPARATORS,
    RETAIN_ESCAPE,
    UNESCAPE_SEPARATORS,
    UNQUOTE,
    Bad,
    extract_first_word,
    extract_many_words,
    parse_boolean,
    path_simplify,
)
from .props._kit import SECCOMP_ERROR_NUMBER_KILL, parse_errno
from .props._tables import NAMESPACE_FLAG_BY_NAME

__all__ = [
    "CHECKS",
    "credential_name_valid",
    "fdname_is_valid",
    "names",
    "filename_is_valid",
    "path_simplify_and_warn",
    "words",
]

_WHITESPACE: Final = " \t\n\r"
_EINVAL: Final = "Invalid argument"

PATH_CHECK_ABSOLUTE: Final = 1
PATH_CHECK_RELATIVE: Final = 2


def _error(message: str) -> list[Problem]:
    """``LOG_ERR`` from a parser that then ignores the value (returns 0): not fatal."""
    return [Problem("error", message)]


def words(value: str, flags: int, separators: str | None = None) -> tuple[list[str], bool]:
    """The ``extract_first_word()`` loop: (words, failed) -- failed on bad quoting/escapes."""
    out: list[str] = []
    p: str | None = value
    while True:
        try:
            word, p = extract_first_word(p, separators, flags)
        except Bad:
            return out, True
        if word is None:
            return out, False
        out.append(word)


def names(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``, as a set."""
    return frozenset(text.split())


def filename_is_valid(s: str) -> bool:
    return bool(s) and s not in (".", "..") and "/" not in s and len(s.encode()) <= 255


def fdname_is_valid(s: str) -> bool:
    """``fdname_is_valid()``: printable ASCII but ``:``, at most 255 characters (may be empty)."""
    return all(" " <= c < "\x7f" and c != ":" for c in s) and len(s) <= 255


def credential_name_valid(s: str) -> bool:
    return filename_is_valid(s) and fdname_is_valid(s)


def path_simplify_and_warn(
    path: str, flag: int, key: str, fatal: bool = False
) -> list[Problem] | None:
    """``path_simplify_and_warn()``: the problem, or None when the path is fine.

    ``fatal`` is ``PATH_CHECK_FATAL``: the message says no "ignoring" and the parse stops.
    """
    ign = "" if fatal else ", ignoring"
    absolute = path.startswith("/")
    message = None
    if not absolute and flag & PATH_CHECK_ABSOLUTE:
        message = f"{key}= path is not absolute{ign}: {path}"
    elif absolute and flag & PATH_CHECK_RELATIVE:
        message = f"{key}= path is absolute{ign}: {path}"
    else:
        simple = path_simplify(path)
        if not unitname.path_is_valid(simple):
            size = len(simple.encode("utf-8", "surrogateescape"))
            message = f"{key}= path has invalid length ({size} bytes){ign}."
        elif not unitname.path_is_normalized(simple):
            message = f"{key}= path is not normalized{ign}: {simple}"
    return None if message is None else [Problem("error", message, fatal)]


def _path_is_normalized(path: str) -> bool:
    return unitname.path_is_normalized(path)


# ----------------------------------------------------------------------------- credentials


def _load_credential(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_load_credential: ``ID[:PATH]``."""
    if not value:
        return []
    try:
        word, rest = extract_first_word(value, ":", DONT_COALESCE_SEPARATORS)
    except Bad:
        word = None
    if word is None:
        return _warn(f"Invalid syntax, ignoring: {value}")
    if bad_specifier(word, FULL_SPECIFIERS) is not None:
        return _warn(f'Failed to resolve unit specifiers in "{word}", ignoring: Invalid slot')
    if not has_specifier(word) and not credential_name_valid(word):
        return _warn(f'Credential name "{word}" not valid, ignoring.')
    if rest:
        if bad_specifier(rest, FULL_SPECIFIERS) is not None:
            return _warn(f'Failed to resolve unit specifiers in "{rest}", ignoring: Invalid slot')
        if has_specifier(rest):
            return []
        if not (_path_is_normalized(rest) if rest.startswith("/") else credential_name_valid(rest)):
            return _warn(f'Credential source "{rest}" not valid, ignoring.')
    return []


# ----------------------------------------------------------------------------- lists of names


def _capability_set(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_capability_set: unknown names, bad quoting are skipped without a word."""
    return []


#: seccomp_arch_from_string() as Debian 12 builds it (libseccomp 2.5: PARISC, RISCV64 known).
_SECCOMP_ARCHS: Final = names(
    "native x86 x86-64 x32 arm arm64 mips mips64 mips64-n32 mips-le mips64-le mips64-le-n32 "
    "parisc parisc64 ppc ppc64 ppc64-le riscv64 s390 s390x"
)


def _syscall_archs(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    out: list[Problem] = []
    found, failed = words(value, UNQUOTE)
    for word in found:
        if word not in _SECCOMP_ARCHS:
            out += _warn(f'Failed to parse system call architecture "{word}", ignoring: {_EINVAL}')
    if failed:
        out += _warn(f"Invalid syntax, ignoring: {value}")
    return out


def _syscall_name(name: str) -> list[Problem]:
    """seccomp_parse_syscall_filter(SECCOMP_PARSE_LOG|SECCOMP_PARSE_PERMISSIVE)."""
    if name.startswith("@"):
        if name not in SYSCALL_GROUPS:
            return _warn(f"Unknown system call group, ignoring: {name}")
    elif name not in SYSCALL_NAMES:
        return _warn(f"Failed to parse system call, ignoring: {name}")
    return []


def _errno_or_action(text: str) -> int | None:
    return SECCOMP_ERROR_NUMBER_KILL if text == "kill" else parse_errno(text)


def _syscall_filter(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_syscall_filter: ``[~]NAME[:ERRNO]...`` (names, @groups)."""
    if not value:
        return []
    invert = value.startswith("~")
    rest = value[1:] if invert else value
    out: list[Problem] = []
    found, failed = words(rest, 0)
    for word in found:
        name, colon, errno_text = word.partition(":")
        if not name or (colon and _errno_or_action(errno_text) is None):
            out += _warn(f"Failed to parse syscall:errno, ignoring: {word}")
            continue
        if colon and not invert:
            out += _warn(f"Allow-listed system calls cannot take error number, ignoring: {word}")
            continue
        out += _syscall_name(name)
    if failed:
        out += _warn(f"Invalid syntax, ignoring: {rest}")
    return out


def _syscall_log(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_syscall_log: ``[~]NAME...`` (names, @groups)."""
    if not value:
        return []
    rest = value[1:] if value.startswith("~") else value
    out: list[Problem] = []
    found, failed = words(rest, 0)
    for word in found:
        out += _syscall_name(word)
    if failed:
        out += _warn(f"Invalid syntax, ignoring: {rest}")
    return out


def _syscall_errno(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value or value == "kill":
        return []
    e = parse_errno(value)
    if e is None:
        return _warn(f"Failed to parse error number, ignoring: {value}")
    if e == 0:
        return _warn(f"Invalid error number, ignoring: {value}")
    return []


#: The ``AF_*`` names of <sys/socket.h> (generate-af-list.sh, glibc 2.36), looked up ignoring case.
_ADDRESS_FAMILIES: Final = names(
    """
AF_ALG AF_APPLETALK AF_ASH AF_ATMPVC AF_ATMSVC AF_AX25 AF_BLUETOOTH AF_BRIDGE AF_CAIF AF_CAN
AF_DECnet AF_ECONET AF_FILE AF_IB AF_IEEE802154 AF_INET AF_INET6 AF_IPX AF_IRDA AF_ISDN AF_IUCV
AF_KCM AF_KEY AF_LLC AF_LOCAL AF_MCTP AF_MPLS AF_NETBEUI AF_NETLINK AF_NETROM AF_NFC AF_PACKET
AF_PHONET AF_PPPOX AF_QIPCRTR AF_RDS AF_ROSE AF_ROUTE AF_RXRPC AF_SECURITY AF_SMC AF_SNA AF_TIPC
AF_UNIX AF_VSOCK AF_WANPIPE AF_X25 AF_XDP
""".upper()
)


def _address_families(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value or value == "none":
        return []
    out: list[Problem] = []
    found, failed = words(value[1:] if value.startswith("~") else value, UNQUOTE)
    for word in found:
        if not word.isascii() or word.upper() not in _ADDRESS_FAMILIES:
            out += _warn(f"Failed to parse address family, ignoring: {word}")
    if failed:
        out += _warn(f"Invalid syntax, ignoring: {value.removeprefix('~')}")
    return out


def _restrict_namespaces(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value or parse_boolean(value) is not None:
        return []
    rest = value[1:] if value.startswith("~") else value
    found, failed = words(rest, 0)
    if failed or any(w not in NAMESPACE_FLAG_BY_NAME for w in found):
        return _warn(f"Failed to parse namespace type string, ignoring: {rest}")
    return []


def _mount_flags(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_exec_mount_flags: mount_propagation_flags_from_string()."""
    if value in ("", "shared", "slave", "private"):
        return []
    return _warn(f"Failed to parse mount flag, ignoring: {value}")


def _numa_policy(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if value in ("", "default", "preferred", "bind", "interleave", "local"):
        return []
    return _warn(f"Invalid NUMA policy type, ignoring: {value}")


# ----------------------------------------------------------------------------- paths


def _exec_directories(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_exec_directories: ``NAME[:LINK]`` words, relative paths."""
    if not value:
        return []
    out: list[Problem] = []
    tuples, failed = words(value, UNQUOTE | RETAIN_ESCAPE)
    for t in tuples:
        try:
            (src, dest), _, found = extract_many_words(t, ":", CUNESCAPE | UNESCAPE_SEPARATORS, 2)
        except Bad:
            found, src, dest = 0, None, None
        if found <= 0 or src is None:
            return out + _warn(f"Invalid syntax in {key}=, ignoring: {t}")
        if bad_specifier(src, FULL_SPECIFIERS) is not None:
            out += _warn(f'Failed to resolve unit specifiers in "{src}", ignoring: Invalid slot')
            continue
        if has_specifier(src):
            continue
        problem = path_simplify_and_warn(src, PATH_CHECK_RELATIVE, key)
        if problem:
            out += problem
            continue
        first = path_simplify(src).split("/")[0]
        if first == "private":
            out += _warn(f"{key}= path can't be 'private', ignoring assignment: {t}")
            continue
        if dest:
            if key == "ConfigurationDirectory":
                out += _warn(
                    "Destination parameter is not supported for ConfigurationDirectory, "
                    f"ignoring: {t}"
                )
                continue
            if bad_specifier(dest, FULL_SPECIFIERS) is not None:
                out += _warn(
                    f'Failed to resolve unit specifiers in "{dest}", ignoring: Invalid slot'
                )
                continue
            if not has_specifier(dest):
                out += path_simplify_and_warn(dest, PATH_CHECK_RELATIVE, key) or []
    if failed:
        out += _warn(f"Invalid syntax {key}={value}, ignoring: {_EINVAL}")
    return out


def _namespace_path_strv(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_namespace_path_strv: ``[-][+]PATH`` words, absolute."""
    if not value:
        return []
    out: list[Problem] = []
    found, failed = words(value, UNQUOTE)
    for word in found:
        w = word[1:] if word.startswith("-") else word
        w = w[1:] if w.startswith("+") else w
        if bad_specifier(w, FULL_SPECIFIERS) is not None:
            out += _warn(f"Failed to resolve unit specifiers in {w}: Invalid slot")
            continue
        if not has_specifier(w):
            out += path_simplify_and_warn(w, PATH_CHECK_ABSOLUTE, key) or []
    if failed:
        out += _warn(f"Failed to extract first word, ignoring: {value}")
    return out


_ENV_NAME_CHARS: Final = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
)


def _env_name_is_valid(name: str) -> bool:
    return bool(name) and not name[0].isdigit() and _ENV_NAME_CHARS.issuperset(name)


def _unset_environ(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_unset_environ: names or ``NAME=VALUE`` assignments."""
    if not value:
        return []
    out: list[Problem] = []
    found, failed = words(value, CUNESCAPE | UNQUOTE)
    for word in found:
        if bad_specifier(word, FULL_SPECIFIERS) is not None:
            out += _warn(f"Failed to resolve unit specifiers in {word}, ignoring: Invalid slot")
            continue
        if has_specifier(word):
            continue
        name, _, _ = word.partition("=")
        if not _env_name_is_valid(name):
            out += _warn(f"Invalid environment name or assignment {key}, ignoring: {word}")
    if failed:
        out += _warn(f"Trailing garbage in {key}, ignoring: {value}")
    return out


# ----------------------------------------------------------------------------- users


def _parse_uid(s: str) -> bool:
    """``parse_uid()``: plain decimal (no sign, leading zero or space), a valid UID."""
    if not _UID.fullmatch(s):
        return False
    return int(s) < 2**32 and int(s) not in (0xFFFF, 0xFFFFFFFF)


_UID: Final = re.compile("0|[1-9][0-9]*", re.ASCII)
_DIGITS: Final = re.compile("[0-9]*", re.ASCII)


def valid_user_group_name_relaxed(u: str) -> bool:
    """``valid_user_group_name(u, VALID_USER_ALLOW_NUMERIC|VALID_USER_RELAX)``."""
    if not u:
        return False
    if _parse_uid(u):
        return True
    if u.startswith(" ") or u.endswith(" "):
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in u) or ":" in u or "/" in u:
        return False
    if _DIGITS.fullmatch(u) or (u[0] == "-" and _DIGITS.fullmatch(u[1:])):
        return False
    return u not in (".", "..")


def _user_group_compat(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_user_group_compat (User=, Group=): fatal on a bad specifier or name."""
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        message = f"Failed to resolve unit specifiers in {value}: Invalid slot"
        return [Problem("error", message, True)]
    if not has_specifier(value) and not valid_user_group_name_relaxed(value):
        return [Problem("error", f"Invalid user/group name or numeric ID: {value}", True)]
    if "User" in key and value == "nobody":  # LOG_NOTICE, with the file and line in the text
        return _warn("Special user nobody configured, this is not safe!")
    return []


def _user_group_strv_compat(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_user_group_strv_compat (SupplementaryGroups=): fatal on any bad word."""
    found, failed = words(value, 0)
    for word in found:
        if bad_specifier(word, FULL_SPECIFIERS) is not None:
            return [
                Problem("error", f"Failed to resolve unit specifiers in {word}: Invalid slot", True)
            ]
        if not has_specifier(word) and not valid_user_group_name_relaxed(word):
            return [Problem("error", f"Invalid user/group name or numeric ID: {word}", True)]
    if failed:
        return [Problem("error", f"Invalid syntax: {value}", True)]
    return []


CHECKS: Final[dict[str, _Check]] = {
    "config_parse_load_credential": _load_credential,
    "config_parse_capability_set": _capability_set,
    "config_parse_syscall_archs": _syscall_archs,
    "config_parse_syscall_errno": _syscall_errno,
    "config_parse_syscall_filter": _syscall_filter,
    "config_parse_syscall_log": _syscall_log,
    "config_parse_address_families": _address_families,
    "config_parse_restrict_namespaces": _restrict_namespaces,
    "config_parse_exec_mount_flags": _mount_flags,
    "config_parse_numa_policy": _numa_policy,
    "config_parse_exec_directories": _exec_directories,
    "config_parse_namespace_path_strv": _namespace_path_strv,
    "config_parse_unset_environ": _unset_environ,
    "config_parse_user_group_compat": _user_group_compat,
    "config_parse_user_group_strv_compat": _user_group_strv_compat,
}
