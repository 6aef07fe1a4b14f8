"""Value checks of systemd 252's path and unit-name parsers, for :mod:`sysd._core.lint`.

``RootDirectory=``-like paths (``config_parse_unit_path_printf``, fatal for some keys),
``EnvironmentFile=``, ``RequiresMountsFor=``, ``WorkingDirectory=``, ``Path*=`` of .path units,
``Sockets=``, ``Service=``, ``Slice=``, the ``Unit=`` of .timer and .path units and ``BusName=``,
ported from ``src/core/load-fragment.c``.  These replace the specifier-only checks
:mod:`sysd._core.lint_values` had for them.  :data:`NAMED_CHECKS` take the unit's own name as
a fifth argument (systemd's messages name it, or compare with it).  Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from . import unitname
from .lint_sandbox import PATH_CHECK_ABSOLUTE, path_simplify_and_warn, words
from .lint_values import (
    FULL_SPECIFIERS,
    NAME_SPECIFIERS,
    Problem,
    _Check,
    _warn,
    bad_specifier,
    has_specifier,
)
from .props._c import UNQUOTE

__all__ = ["CHECKS", "NAMED_CHECKS", "bus_name_is_valid"]

_EINVAL: Final = "Invalid argument"
_SLOT: Final = "Invalid slot"


def _fatal(message: str) -> list[Problem]:
    return [Problem("error", message, True)]


def _unit_path_printf(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_unit_path_printf (ltype true: fatal) then config_parse_path()."""
    fatal = ltype not in ("0", "false")
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        if fatal:
            return _fatal(f"Failed to resolve unit specifiers in '{value}': {_SLOT}")
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: {_SLOT}")
    if not value or has_specifier(value):
        return []
    return path_simplify_and_warn(value, PATH_CHECK_ABSOLUTE, key, fatal=fatal) or []


def _unit_path_strv_printf(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_unit_path_strv_printf (Symlinks=): the first bad path ends the list."""
    if not value:
        return []
    found, failed = words(value, UNQUOTE)
    for word in found:
        if bad_specifier(word, FULL_SPECIFIERS) is not None:
            return _warn(f"Failed to resolve unit specifiers in '{word}', ignoring: {_SLOT}")
        if has_specifier(word):
            continue
        problem = path_simplify_and_warn(word, PATH_CHECK_ABSOLUTE, key)
        if problem:
            return problem
    return _warn(f"Invalid syntax, ignoring: {value}") if failed else []


def _requires_mounts_for(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    out: list[Problem] = []
    found, failed = words(value, UNQUOTE)
    for word in found:
        if bad_specifier(word, FULL_SPECIFIERS) is not None:
            out += _warn(f"Failed to resolve unit specifiers in '{word}', ignoring: {_SLOT}")
        elif not has_specifier(word):
            out += path_simplify_and_warn(word, PATH_CHECK_ABSOLUTE, key) or []
    if failed:
        out += _warn(f"Invalid syntax, ignoring: {value}")
    return out


def _env_file(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_unit_env_file: ``[-]PATH``, absolute."""
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: {_SLOT}")
    if has_specifier(value):
        return []
    return path_simplify_and_warn(value.removeprefix("-"), PATH_CHECK_ABSOLUTE, key) or []


def _working_directory(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_working_directory: ``[-]PATH`` or ``~``; fatal without ``-``."""
    missing_ok = value.startswith("-")
    path = value[1:] if missing_ok else value
    if not value or path == "~":
        return []
    if bad_specifier(path, FULL_SPECIFIERS) is not None:
        message = f"Failed to resolve unit specifiers in working directory path '{path}'"
        if missing_ok:
            return _warn(message + f", ignoring: {_SLOT}")
        return _fatal(message + f": {_SLOT}")
    if has_specifier(path):
        return []
    return path_simplify_and_warn(path, PATH_CHECK_ABSOLUTE, key, fatal=not missing_ok) or []


def _path_spec(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_path_spec (PathExists= & co of .path units): an absolute path."""
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in {value}, ignoring: {_SLOT}")
    if has_specifier(value):
        return []
    return path_simplify_and_warn(value, PATH_CHECK_ABSOLUTE, key) or []


def _service_sockets(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_service_sockets (Sockets=): .socket unit names."""
    out: list[Problem] = []
    found, failed = words(value, 0)
    for word in found:
        if bad_specifier(word, NAME_SPECIFIERS) is not None:
            out += _warn(f"Failed to resolve unit specifiers in '{word}', ignoring: {_SLOT}")
            continue
        if has_specifier(word):
            continue
        if not word.endswith(".socket"):
            out += _warn(f"Unit must be of type socket, ignoring: {word}")
            continue
        if not unitname.is_valid(word):  # a template gets this unit's instance (or prefix)
            out += 2 * _warn(f"Failed to add dependency on {word}, ignoring: {_EINVAL}")
    if failed:
        out += _warn(f"Trailing garbage in sockets, ignoring: {value}")
    return out


def _load_error(name: str) -> str | None:
    """The error manager_load_unit() gives for a name that no unit can have, or None."""
    kind = unitname.NameKind
    if unitname.is_valid(name, kind.PLAIN | kind.INSTANCE):
        return None
    if unitname.is_valid(name, kind.TEMPLATE):
        return f"Unit name {name} is missing the instance name."
    return f"Unit name {name} is not valid."


def _socket_service(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_socket_service (Service= of .socket units)."""
    if bad_specifier(value, NAME_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in {value}, ignoring: {_SLOT}")
    if has_specifier(value):
        return []
    if not value.endswith(".service"):
        return _warn(f"Unit must be of type service, ignoring: {value}")
    error = _load_error(value)
    return _warn(f"Failed to load unit {value}, ignoring: {error}") if error else []


def bus_name_is_valid(p: str) -> bool:
    """``sd_bus_service_name_is_valid()``: a well-known name (``a.b``) or a unique (``:1.2``)."""
    if not p:
        return False
    unique = p[0] == ":"
    dot, found_dot = True, False
    for c in p[1:] if unique else p:
        if c == ".":
            if dot:
                return False
            found_dot = dot = True
            continue
        alpha = c.isascii() and c.isalpha()
        if not (alpha or ((not dot or unique) and c.isascii() and c.isdigit()) or c in "_-"):
            return False
        dot = False
    return len(p) <= 255 and not dot and found_dot


def _bus_name(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in {value}, ignoring: {_SLOT}")
    if has_specifier(value) or bus_name_is_valid(value):
        return []
    return _warn(f"Invalid bus name, ignoring: {value}")


def _condition_path(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_unit_condition_path: ``[|][!]PATH``, absolute."""
    if not value:
        return []
    p = value[1:] if value.startswith("|") else value
    p = p[1:] if p.startswith("!") else p
    if bad_specifier(p, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in {p}, ignoring: {_SLOT}")
    if has_specifier(p):
        return []
    return path_simplify_and_warn(p, PATH_CHECK_ABSOLUTE, key) or []


CHECKS: Final[dict[str, _Check]] = {
    "config_parse_unit_condition_path": _condition_path,
    "config_parse_unit_path_printf": _unit_path_printf,
    "config_parse_unit_path_strv_printf": _unit_path_strv_printf,
    "config_parse_unit_requires_mounts_for": _requires_mounts_for,
    "config_parse_unit_env_file": _env_file,
    "config_parse_working_directory": _working_directory,
    "config_parse_path_spec": _path_spec,
    "config_parse_service_sockets": _service_sockets,
    "config_parse_socket_service": _socket_service,
    "config_parse_bus_name": _bus_name,
}


# ----------------------------------------------------------------------------- the unit's name

_NamedCheck = Callable[[str, str, str, str, str], "list[Problem]"]


def _unit_slice(key: str, value: str, ltype: str, unit_type: str, name: str) -> list[Problem]:
    """config_parse_unit_slice: load the slice, then unit_set_slice()."""
    if bad_specifier(value, NAME_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in {value}, ignoring: {_SLOT}")
    if has_specifier(value):
        return []
    error = _load_error(value)
    if error:
        return _warn(f"Failed to load slice unit {value}, ignoring: {error}")
    if unit_type == "slice" or not value.endswith(".slice"):
        return _warn(f"Failed to assign slice {value} to unit {name}, ignoring: {_EINVAL}")
    return []


def _trigger_unit(key: str, value: str, ltype: str, unit_type: str, name: str) -> list[Problem]:
    """config_parse_trigger_unit (Unit= of .timer and .path units)."""
    if bad_specifier(value, NAME_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in {value}, ignoring: {_SLOT}")
    if has_specifier(value):
        return []
    if not unitname.is_valid(value):
        return _warn(f"Unit type not valid, ignoring: {value}")
    if value == name:
        return _warn(f"Units cannot trigger themselves, ignoring: {value}")
    return []


#: Checks that take the unit's name too: ``check(key, value, ltype, unit_type, unit_name)``.
NAMED_CHECKS: Final[dict[str, _NamedCheck]] = {
    "config_parse_unit_slice": _unit_slice,
    "config_parse_trigger_unit": _trigger_unit,
}
