"""The value checks of systemd 252's unit-file parsers, for :mod:`sysd._core.lint`.

One check per ``config_parse_*`` function of ``src/core/load-fragment.c`` and
``src/shared/conf-parser.c`` that sysd ports: ``check(key, value, ltype, unit_type)`` returns
the messages systemd logs for that value (``LOG_WARNING`` and below as warnings, ``LOG_ERR`` as
errors; ``fatal`` when the parser returns an error and systemd stops reading the file), in
systemd's words, ``%m`` included.  :data:`CHECKS` maps the function names to them; a key whose
parser is not there is accepted as written.  Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, Literal, NamedTuple

from ..errors import InvalidCalendarSpecError
from . import timespan, unitname
from .props import execute
from .props._c import (
    CUNESCAPE,
    RETAIN_ESCAPE,
    UINT64_MAX,
    UNESCAPE_RELAX,
    UNQUOTE,
    Bad,
    extract_first_word,
    parse_boolean,
    parse_mode,
    parse_permyriad,
    parse_permyriad_unbounded,
    parse_size,
    safe_atoi,
    safe_atou,
    safe_atou64,
)
from .props._kit import signal_from_string

__all__ = [
    "CHECKS",
    "FULL_SPECIFIERS",
    "NAME_SPECIFIERS",
    "Problem",
    "bad_specifier",
    "has_specifier",
]

_WHITESPACE: Final = " \t\n\r"


class Problem(NamedTuple):
    """One message a parser logs for a value."""

    severity: Literal["warning", "error"]
    message: str
    fatal: bool = False


_Check = Callable[[str, str, str, str], "list[Problem]"]  # (key, value, ltype, unit_type)


def _warn(message: str) -> list[Problem]:
    return [Problem("warning", message)]


def _fatal(message: str) -> list[Problem]:
    return [Problem("error", message, True)]


# ----------------------------------------------------------------------------- specifiers

_ALNUM: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_SYSTEM_SPECIFIERS: Final = "aAbBHlqmMovw"  # COMMON_SYSTEM_SPECIFIERS
_CREDS_SPECIFIERS: Final = "gGuU"  # COMMON_CREDS_SPECIFIERS
#: unit_name_printf()'s table (src/core/unit-printf.c).
NAME_SPECIFIERS: Final = frozenset("ijnNp" + _SYSTEM_SPECIFIERS + _CREDS_SPECIFIERS)
#: unit_full_printf()'s table (also unit_path_printf()).
FULL_SPECIFIERS: Final = frozenset(
    "iIjJnNpPfyYcrRCdELSths" + _SYSTEM_SPECIFIERS + _CREDS_SPECIFIERS + "TV"
)


_SPECIFIER: Final = re.compile("%[%0-9A-Za-z]")


def has_specifier(text: str) -> bool:
    """Whether ``text`` changes when systemd resolves specifiers (``%%`` or ``%`` and a letter or
    digit): checks of what it resolves to are left to load time."""
    return _SPECIFIER.search(text) is not None


def bad_specifier(text: str, table: frozenset[str]) -> str | None:
    """The first ``%X`` ``specifier_printf()`` refuses (-EBADSLT), or None.

    ``%%`` is a percent sign; ``%`` before a character that is no letter or digit, or at the
    end, stays as it is.
    """
    i = text.find("%")
    while i >= 0 and i + 1 < len(text):
        c = text[i + 1]
        if c != "%" and c not in table and c in _ALNUM:
            return "%" + c
        i = text.find("%", i + 2)
    return None


def _specifiers(table: frozenset[str], fmt: str, fatal_ltype: bool = False) -> _Check:
    """A parser that resolves specifiers in its value; ``fmt`` is systemd's message."""

    def check(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
        if bad_specifier(value, table) is None:
            return []
        fatal = fatal_ltype and ltype not in ("0", "false")
        ignoring = "" if fatal else ", ignoring"
        message = fmt.format(value=value, ignoring=ignoring) + ": Invalid slot"
        return _fatal(message) if fatal else _warn(message)

    return check


_SPEC_QUOTED: Final = "Failed to resolve unit specifiers in '{value}'{ignoring}"
_SPEC_BARE: Final = "Failed to resolve unit specifiers in {value}{ignoring}"


# ----------------------------------------------------------------------------- value kinds


def _simple(ok: Callable[[str], bool], what: str) -> _Check:
    """DEFINE_CONFIG_PARSE*: ``"<what>, ignoring: <value>"`` when ``ok(value)`` is false."""

    def check(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
        return [] if ok(value) else _warn(f"{what}, ignoring: {value}")

    return check


def _is_bool(v: str) -> bool:
    return parse_boolean(v) is not None


def _is_usec(v: str) -> bool:
    try:
        timespan.parse_usec(v)
    except ValueError:
        return False
    return True


def _is_sec_def_infinity(v: str) -> bool:
    return not v.strip(_WHITESPACE) or _is_usec(v)


def _is_nsec(v: str) -> bool:
    try:
        timespan.parse_nsec(v)
    except ValueError:
        return False
    return True


def _bool(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_bool: ``ltype`` true makes a bad value fatal."""
    if parse_boolean(value) is not None:
        return []
    if ltype not in ("0", "false"):
        return _fatal(f"Failed to parse boolean value: {value}")
    return _warn(f"Failed to parse boolean value, ignoring: {value}")


def _signal(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    n = signal_from_string(value)
    if n is not None and n > 0:
        return []
    return _warn(f"Failed to parse signal name, ignoring: {value}")


def _enum(values: str, what: str, *, boolean: bool = False, empty_ok: bool = False) -> _Check:
    """DEFINE_CONFIG_PARSE_ENUM: one of ``values`` (and a boolean for the _WITH_BOOLEAN ones)."""
    names = frozenset(values.split())

    def check(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
        if value in names or (empty_ok and not value):
            return []
        if boolean and parse_boolean(value) is not None:
            return []
        return _warn(f"{what}, ignoring: {value}")

    return check


def _kill_mode(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    if value not in ("control-group", "process", "mixed", "none"):
        return _warn(f"Failed to parse kill mode specification, ignoring: {value}")
    if value == "none":
        return _warn(
            "Unit uses KillMode=none. This is unsafe, as it disables systemd's process lifecycle "
            "management for the service. Please update the service to use a safer KillMode=, "
            "such as 'mixed' or 'control-group'. Support for KillMode=none is deprecated and will "
            "eventually be removed."
        )
    return []


_EMERGENCY_ACTIONS: Final = (
    "none", "reboot", "reboot-force", "reboot-immediate", "poweroff", "poweroff-force",
    "poweroff-immediate", "exit", "exit-force",
)  # fmt: skip


def _emergency_action(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_emergency_action for the system manager (every action is allowed)."""
    if value in _EMERGENCY_ACTIONS:
        return []
    return _warn(f"Failed to parse {key}=, ignoring: {value}")


def _timeout(what: str | None) -> _Check:
    """config_parse_service_timeout & co: parse_sec_fix_0()."""

    def check(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
        if _is_usec(value) or (what is None and key == "TimeoutAbortSec" and not value):
            return []
        return _warn(f"Failed to parse {what or key}= parameter, ignoring: {value}")

    return check


def _timeout_abort(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_service_timeout_abort: empty resets, else parse_sec()."""
    if not value.strip(_WHITESPACE) or _is_usec(value):
        return []
    return _warn(f"Failed to parse {key}= setting, ignoring: {value}")


def _unit_deps(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_unit_deps: each word a unit name, specifiers from unit_name_printf()."""
    out: list[Problem] = []
    for word in value.split():
        if bad_specifier(word, NAME_SPECIFIERS) is not None:
            out += _warn(f"Failed to resolve unit specifiers in '{word}', ignoring: Invalid slot")
            continue
        if has_specifier(word):
            continue  # resolved at load time; the result is checked there
        if not unitname.is_valid(word):  # a template gets this unit's instance (or prefix)
            out += _warn(f"Failed to add dependency on {word}, ignoring: Invalid argument")
    return out


def _timer(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: Invalid slot")
    if has_specifier(value):
        return []
    if key == "OnCalendar":
        from .calendar import CalendarSpec

        try:
            CalendarSpec.parse(value)
        except InvalidCalendarSpecError:
            return _warn(f"Failed to parse calendar specification, ignoring: {value}")
        return []
    if not _is_usec(value):
        return _warn(f"Failed to parse timer value, ignoring: {value}")
    return []


def _job_mode_isolate(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if parse_boolean(value) is None:
        return _warn(f"Failed to parse boolean, ignoring: {value}")
    return []


def _warn_compat(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if ltype == "DISABLED_LEGACY":  # LOG_INFO in systemd: printed by verify all the same
        return _warn(f"Support for option {key}= has been removed and it is ignored")
    return []


_DOC_PREFIXES: Final = ("http://", "https://", "file:/", "info:", "man:")


def _documentation(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_documentation: config_parse_strv() words, then documentation_url_is_valid()."""
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: Invalid slot")
    out: list[Problem] = []
    found: list[str] = []
    p: str | None = value
    while True:
        try:
            word, p = extract_first_word(p, None, UNQUOTE | RETAIN_ESCAPE)
        except Bad:
            out += _warn(f"Invalid syntax, ignoring: {value}")
            break
        if word is None:
            break
        found.append(word)
    for word in found:
        rest = next((word[len(x) :] for x in _DOC_PREFIXES if word.startswith(x)), "")
        if not rest or not rest.isascii():
            out += _warn(f"Invalid URL, ignoring: {word}")
    return out


def _condition_string(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    p = value[1:] if value.startswith("|") else value
    p = p[1:] if p.startswith("!") else p
    if bad_specifier(p, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{p}', ignoring: Invalid slot")
    return []


# ----------------------------------------------------------------------------- execution, cgroups

_EINVAL: Final = "Invalid argument"
_ERANGE: Final = "Numerical result out of range"


def _number_error(text: str, signed: bool = False) -> str | None:
    """The %m of safe_atoi()/safe_atou64() for ``text``: None when it parses."""
    n = safe_atoi(text) if signed else safe_atou64(text)
    if n is not None:
        return None
    digits = text.strip(_WHITESPACE).lstrip("+-")  # "-5" is out of range for an unsigned
    return _ERANGE if digits.isdigit() else _EINVAL


def _rlimit(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_rlimit: ``SOFT[:HARD]``, each a number, size, time span or nice level."""
    try:
        execute.rlimit([], key, value)
    except Bad as exc:
        if "not above" in exc.args[0]:
            return _warn(f"Soft resource limit chosen higher than hard limit, ignoring: {value}")
        return _warn(f"Failed to parse resource value, ignoring: {value}")
    return []


def _memory_limit(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_memory_limit: bytes (K, M, G ... base 1024), a percentage, infinity."""
    if value and value != "infinity":
        permyriad = parse_permyriad(value)
        if permyriad is None:
            try:
                n = parse_size(value, 1024)
            except Bad as exc:
                erange = "64 bits" in exc.args[0] or "not negative" in exc.args[0]
                errno_text = _ERANGE if erange else _EINVAL
                return _warn(f"Invalid memory limit '{value}', ignoring: {errno_text}")
        else:
            n = permyriad  # physical_memory_scale(): 0 only for 0%
        if n >= UINT64_MAX or (n <= 0 and key not in _MEMORY_ZERO_OK):
            return _warn(f"Memory limit '{value}' out of range, ignoring.")
    if key == "MemoryLimit":
        return _warn(
            "Unit uses MemoryLimit=; please use MemoryMax= instead. Support for MemoryLimit= will "
            "be removed soon."
        )
    return []


_MEMORY_ZERO_OK: Final = frozenset(
    {"MemorySwapMax", "MemoryLow", "MemoryMin", "DefaultMemoryLow", "DefaultMemoryMin"}
)


def _tasks_max(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value or value == "infinity" or parse_permyriad(value) is not None:
        return []
    error = _number_error(value)
    if error is not None:
        return _warn(f"Invalid maximum tasks value '{value}', ignoring: {error}")
    if safe_atou64(value) in (0, UINT64_MAX):
        return _warn(f"Maximum tasks value '{value}' out of range, ignoring.")
    return []


def _cpu_quota(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value or parse_permyriad_unbounded(value):
        return []
    return _warn(f"Invalid CPU quota '{value}', ignoring.")


def _ranged(
    lo: int, hi: int, bad: str, out_of_range: str, signed: bool = True, empty_ok: bool = True
) -> _Check:
    """parse_nice() & co: a number (``bad`` with %m when not), in lo..hi (else ``out_of_range``)."""

    def check(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
        if not value and empty_ok:
            return []
        error = _number_error(value, signed)
        if error is not None:
            return _warn(bad.format(value=value, error=error))
        n = safe_atoi(value) if signed else safe_atou64(value)
        if n is None or not lo <= n <= hi:
            return _warn(out_of_range.format(value=value))
        return []

    return check


def _weight(lo: int, hi: int, what: str, idle: bool = False, deprecated: bool = False) -> _Check:
    """cg_weight_parse() & co (DEFINE_CONFIG_PARSE_PTR): empty resets, else lo..hi."""

    def check(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
        out: list[Problem] = []
        if deprecated:
            out += _warn(
                f"Unit uses {key}=; please use CPUWeight= instead. Support for {key}= will be "
                "removed soon."
            )
        if not value or (idle and value == "idle"):
            return out
        n = safe_atou64(value)
        if n is None or not lo <= n <= hi:
            out += _warn(f"{what}, ignoring: {value}")
        return out

    return check


def _table_or_number(names: str, maximum: int, what: str, empty_ok: bool = True) -> _Check:
    """``DEFINE_STRING_TABLE_LOOKUP_WITH_FALLBACK``: a name, or a number up to ``maximum``."""
    table = frozenset(names.split())

    def check(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
        if (empty_ok and not value) or value in table:
            return []
        n = safe_atou(value)
        if n is not None and n <= maximum:
            return []
        return _warn(f"{what}, ignoring: {value}")

    return check


_OUTPUTS: Final = frozenset(
    {"inherit", "null", "tty", "journal", "kmsg", "journal+console", "kmsg+console", "socket",
     "fd", "file", "append", "truncate"}
)  # fmt: skip
_INPUTS: Final = frozenset({"null", "tty", "tty-force", "tty-fail", "socket", "fd", "data", "file"})


def _exec_output(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if value.startswith("fd:"):
        return []
    for prefix in ("file:", "append:", "truncate:"):
        if value.startswith(prefix):
            path = value[len(prefix) :]
            if bad_specifier(path, FULL_SPECIFIERS) is not None:
                return _warn(f"Failed to resolve unit specifiers in {path}, ignoring: Invalid slot")
            return []
    if value in ("syslog", "syslog+console"):
        new = value.replace("syslog", "journal")
        return _warn(
            f"Standard output type {value} is obsolete, automatically updating to {new}. "
            "Please update your unit file, and consider removing the setting altogether."
        )
    if value not in _OUTPUTS:
        return _warn(f"Failed to parse output specifier, ignoring: {value}")
    return []


def _exec_input(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if value.startswith("fd:"):
        return []
    if value.startswith("file:"):
        path = value[5:]
        if bad_specifier(path, FULL_SPECIFIERS) is not None:
            return _warn(f"Failed to resolve unit specifiers in '{path}', ignoring: Invalid slot")
        return []
    if value not in _INPUTS:
        return _warn(f"Failed to parse input specifier, ignoring: {value}")
    return []


def _string_is_safe(s: str) -> bool:
    return all(c >= " " and c not in "\x7f\\\"'" for c in s)


def _filename_is_valid(s: str) -> bool:
    return bool(s) and s not in (".", "..") and "/" not in s and len(s.encode()) <= 255


def _next_word(p: str, rvalue: str) -> tuple[str | None, str | None, list[Problem], bool]:
    """extract_first_word_and_warn(UNQUOTE|CUNESCAPE): (word, rest, problems, failed)."""
    try:
        word, rest = extract_first_word(p, None, UNQUOTE | CUNESCAPE)
        return word, rest, [], False
    except Bad:
        pass
    try:
        word, rest = extract_first_word(p, None, UNQUOTE | CUNESCAPE | UNESCAPE_RELAX)
    except Bad:
        return None, None, [Problem("error", f'Unbalanced quoting, ignoring: "{rvalue}"')], True
    return word, rest, _warn(f'Ignoring unknown escape sequences: "{word}"'), False


def _prefix_ok(flags: str, c: str) -> bool:
    """Whether the prefix character ``c`` may follow ``flags`` (the loop in config_parse_exec)."""
    if c in "-@:":
        return c not in flags
    if c == "+":
        return "+" not in flags and "!" not in flags
    return "+" not in flags and flags.count("!") < 2  # "!", then "!!"


def _exec(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_exec: ``[-@:+!]PATH ARGS... [; ...]``, fatal unless ``-`` says ignore."""
    out: list[Problem] = []
    rvalue = value
    p: str | None = value
    while True:
        word, p, problems, failed = _next_word(p or "", rvalue)
        out += problems
        if failed or word is None:
            return out
        if word == ";":
            continue
        f, ignore, flags = word, False, ""
        while f and _prefix_ok(flags, f[0]) and f[0] in "-@:+!":
            flags += f[0]
            ignore = ignore or f[0] == "-"
            f = f[1:]
        ignoring = ", ignoring" if ignore else ""

        def bad(message: str, out: list[Problem] = out, ignore: bool = ignore) -> list[Problem]:
            return out + (_warn(message) if ignore else _fatal(message))

        if bad_specifier(f, FULL_SPECIFIERS) is not None:
            return bad(f"Failed to resolve unit specifiers in '{f}'{ignoring}: Invalid slot")
        if not f:
            return bad(f"Empty path in command line{ignoring}: '{rvalue}'")
        if not _string_is_safe(f):
            return bad(f"Executable name contains special characters{ignoring}: {f}")
        if f.endswith("/"):
            return bad(f"Executable path specifies a directory{ignoring}: {f}")
        if not (unitname.path_is_valid(f) if f.startswith("/") else _filename_is_valid(f)):
            return bad(f"Neither a valid executable name nor an absolute path{ignoring}: {f}")
        argv = 0 if "@" in flags else 1
        semicolon = False
        while p and p.strip(_WHITESPACE):
            if p[0] == ";" and (len(p) == 1 or p[1] in _WHITESPACE):
                p = p[1:].lstrip(_WHITESPACE)
                semicolon = True
                break
            if p.startswith("\\;") and (len(p) == 2 or p[2] in _WHITESPACE):
                p = p[2:].lstrip(_WHITESPACE)
                argv += 1
                continue
            word, p, problems, failed = _next_word(p, rvalue)
            if failed:  # LOG_ERR; the parse stops unless "-" said ignore
                return [*out, problems[0]._replace(fatal=not ignore)]
            out += problems
            if word is None:
                break
            if bad_specifier(word, FULL_SPECIFIERS) is not None:
                return bad(f"Failed to resolve unit specifiers in {word}{ignoring}: Invalid slot")
            argv += 1
        if not argv:
            return bad(f"Empty executable name or zeroeth argument{ignoring}: {rvalue}")
        if not semicolon:
            return out
        rvalue = p or ""


_ENV_NAME_CHARS: Final = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
)


def _environ(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_environ: quoted ``NAME=VALUE`` words, specifiers resolved in each."""
    out: list[Problem] = []
    p: str | None = value
    while True:
        try:
            word, p = extract_first_word(p, None, CUNESCAPE | UNQUOTE)
        except Bad:
            return out + _warn(f"Invalid syntax, ignoring: {value}")
        if word is None:
            return out
        if bad_specifier(word, FULL_SPECIFIERS) is not None:
            out += _warn(f"Failed to resolve specifiers in {word}, ignoring: Invalid slot")
            continue
        if has_specifier(word):
            continue  # what it resolves to is known at load time only
        name, eq, _ = word.partition("=")
        if not eq or not name or name[0].isdigit() or not _ENV_NAME_CHARS.issuperset(name):
            out += _warn(f"Invalid environment assignment, ignoring: {word}")


_EXEC_CHECKS: Final[dict[str, _Check]] = {
    "config_parse_exec": _exec,
    "config_parse_environ": _environ,
    "config_parse_rlimit": _rlimit,
    "config_parse_memory_limit": _memory_limit,
    "config_parse_tasks_max": _tasks_max,
    "config_parse_cpu_quota": _cpu_quota,
    "config_parse_exec_nice": _ranged(
        -20, 19, "Failed to parse nice priority '{value}', ignoring: {error}",
        "Nice priority out of range, ignoring: {value}",
    ),
    "config_parse_exec_oom_score_adjust": _ranged(
        -1000, 1000, "Failed to parse the OOM score adjust value '{value}', ignoring: {error}",
        "OOM score adjust value out of range, ignoring: {value}",
    ),
    "config_parse_exec_cpu_sched_prio": _ranged(
        0, 99, "Failed to parse CPU scheduling priority, ignoring: {value}",
        "CPU scheduling priority is out of range, ignoring: {value}", empty_ok=False,
    ),
    "config_parse_exec_io_priority": _ranged(
        0, 7, "Failed to parse IO priority, ignoring: {value}",
        "Failed to parse IO priority, ignoring: {value}",
    ),
    "config_parse_exec_io_class": _table_or_number(
        "none realtime best-effort idle", 8, "Failed to parse IO scheduling class"
    ),
    "config_parse_exec_cpu_sched_policy": _table_or_number(
        "other batch idle fifo rr", 2**31 - 1, "Failed to parse CPU scheduling policy"
    ),
    "config_parse_log_level": _table_or_number(
        "emerg alert crit err warning notice info debug", 7, "Failed to parse log level",
        empty_ok=False,
    ),
    "config_parse_cg_weight": _weight(1, 10000, "Invalid weight"),
    "config_parse_cg_cpu_weight": _weight(1, 10000, "Invalid CPU weight", idle=True),
    "config_parse_cpu_shares": _weight(2, 262144, "Invalid CPU shares", deprecated=True),
    "config_parse_blockio_weight": _weight(10, 1000, "Invalid block IO weight"),
    "config_parse_exec_output": _exec_output,
    "config_parse_exec_input": _exec_input,
}  # fmt: skip


def _unsigned(v: str) -> bool:
    return safe_atou(v) is not None


def _int(v: str) -> bool:
    return safe_atoi(v) is not None


def _mode(v: str) -> bool:
    return parse_mode(v) is not None


_ENUMS: Final[dict[str, _Check]] = {
    "config_parse_service_type": _enum(
        "simple forking oneshot dbus notify idle exec", "Failed to parse service type"
    ),
    "config_parse_service_exit_type": _enum("main cgroup", "Failed to parse service exit type"),
    "config_parse_service_restart": _enum(
        "no on-success on-failure on-abnormal on-watchdog on-abort always",
        "Failed to parse service restart specifier",
    ),
    "config_parse_service_timeout_failure_mode": _enum(
        "terminate abort kill", "Failed to parse timeout failure mode"
    ),
    "config_parse_collect_mode": _enum(
        "inactive inactive-or-failed", "Failed to parse garbage collection mode"
    ),
    "config_parse_job_mode": _enum(
        "fail replace replace-irreversibly isolate flush ignore-dependencies "
        "ignore-requirements triggering",
        "Failed to parse job mode",
    ),
    "config_parse_notify_access": _enum(
        "none main exec all", "Failed to parse notify access specifier"
    ),
    "config_parse_oom_policy": _enum("continue stop kill", "Failed to parse OOM policy"),
    "config_parse_protect_home": _enum(
        "no yes read-only tmpfs", "Failed to parse protect home value", boolean=True
    ),
    "config_parse_protect_system": _enum(
        "no yes full strict", "Failed to parse protect system value", boolean=True
    ),
    "config_parse_runtime_preserve_mode": _enum(
        "no yes restart", "Failed to parse runtime directory preserve mode", boolean=True
    ),
    "config_parse_exec_keyring_mode": _enum(
        "inherit private shared", "Failed to parse keyring mode"
    ),
    "config_parse_exec_utmp_mode": _enum("init login user", "Failed to parse utmp mode"),
    "config_parse_protect_proc": _enum(
        "default noaccess invisible ptraceable", "Failed to parse /proc/ protection mode"
    ),
    "config_parse_proc_subset": _enum("all pid", "Failed to parse /proc/ subset mode"),
    "config_parse_device_policy": _enum("auto closed strict", "Failed to parse device policy"),
    "config_parse_managed_oom_preference": _enum(
        "none avoid omit", "Failed to parse ManagedOOMPreference="
    ),
}

#: The ``config_parse_*`` ported here (:data:`sysd._core.lint.CHECKS` adds the other modules').
CHECKS: Final[dict[str, _Check]] = {
    **_ENUMS,
    **_EXEC_CHECKS,
    "config_parse_bool": _bool,
    "config_parse_sec": _simple(_is_usec, "Failed to parse sec value"),
    "config_parse_sec_def_infinity": _simple(
        _is_sec_def_infinity, "Failed to parse sec_def_infinity value"
    ),
    "config_parse_sec_fix_0": _simple(_is_usec, "Failed to parse time value"),
    "config_parse_nsec": _simple(_is_nsec, "Failed to parse nsec value"),
    "config_parse_unsigned": _simple(_unsigned, "Failed to parse unsigned value"),
    "config_parse_int": _simple(_int, "Failed to parse int value"),
    "config_parse_mode": _simple(_mode, "Failed to parse mode value"),
    "config_parse_signal": _signal,
    "config_parse_kill_mode": _kill_mode,
    "config_parse_emergency_action": _emergency_action,
    "config_parse_service_timeout": _timeout(None),
    "config_parse_service_timeout_abort": _timeout_abort,
    "config_parse_job_timeout_sec": _timeout("JobTimeoutSec"),
    "config_parse_job_running_timeout_sec": _timeout("JobRunningTimeoutSec"),
    "config_parse_job_mode_isolate": _job_mode_isolate,
    "config_parse_unit_deps": _unit_deps,
    "config_parse_timer": _timer,
    "config_parse_warn_compat": _warn_compat,
    "config_parse_documentation": _documentation,
    "config_parse_unit_condition_string": _condition_string,
    "config_parse_unit_string_printf": _specifiers(FULL_SPECIFIERS, _SPEC_QUOTED),
    "config_parse_reboot_parameter": _specifiers(FULL_SPECIFIERS, _SPEC_QUOTED),
}
