"""Services: ``bus_append_service_property()`` and the command line parser ``Exec*=`` shares."""

from __future__ import annotations

from typing import Final

from . import _tables as T
from ._c import CUNESCAPE, UNQUOTE, Bad, dbus_str, dbus_strv, extract_first_word, split_words
from ._kit import (
    Assignment,
    Handler,
    Out,
    boolean,
    exit_status_from_string,
    parse_sec,
    sec_rename,
    signal_from_string,
    string,
    u32,
)

__all__ = ["EXEC_PREFIX_CHARS", "HANDLERS", "LIST_WORDS", "exec_command"]

IGNORE_FAILURE: Final = 1 << 0
FULLY_PRIVILEGED: Final = 1 << 1
NO_SETUID: Final = 1 << 2
AMBIENT_MAGIC: Final = 1 << 3
NO_ENV_EXPAND: Final = 1 << 4
_EX_ONLY: Final = NO_ENV_EXPAND | FULLY_PRIVILEGED | NO_SETUID | AMBIENT_MAGIC

#: Characters with a meaning at the start of an ``Exec*=`` value.
EXEC_PREFIX_CHARS: Final = "-@:+!"


def exec_command(out: Out, field: str, eq: str) -> None:
    """``bus_append_exec_command()``: ``[-@:+!]... [@PATH] ARGV0 ARGS...``.

    ``ExecFoo=`` turns into ``ExecFooEx=`` (``a(sasas)``) when a prefix needs the flag list
    (``:``, ``+``, ``!``, ``!!``); ``-`` alone stays ``a(sasb)``.  An empty command line is an
    empty array (which resets the list).
    """
    flags = 0
    explicit_path = False
    i = 0
    n = len(eq)
    while i < n:
        c = eq[i]
        if c == "-":
            if flags & IGNORE_FAILURE:
                break
            flags |= IGNORE_FAILURE
        elif c == "@":
            if explicit_path:
                break
            explicit_path = True
        elif c == ":":
            if flags & NO_ENV_EXPAND:
                break
            flags |= NO_ENV_EXPAND
        elif c == "+":
            if flags & (FULLY_PRIVILEGED | NO_SETUID | AMBIENT_MAGIC):
                break
            flags |= FULLY_PRIVILEGED
        elif c == "!":
            if flags & (FULLY_PRIVILEGED | AMBIENT_MAGIC):
                break
            if flags & NO_SETUID:
                flags = (flags & ~NO_SETUID) | AMBIENT_MAGIC
            else:
                flags |= NO_SETUID
        else:
            break
        i += 1
    command = eq[i:]

    name = field
    ex = field.endswith("Ex")
    if not ex and flags & _EX_ONLY:
        ex = True
        name = field + "Ex"

    path: str | None = None
    if explicit_path:
        path, rest = extract_first_word(command, None, UNQUOTE | CUNESCAPE)
        if rest is None:
            # systemd 252 aborts on an assertion here; refuse it instead.
            raise Bad("@PATH followed by argv[0], e.g. @/bin/busybox sh -c 'echo hi'")
        command = rest
    argv = dbus_strv(split_words(command, UNQUOTE | CUNESCAPE))

    entries: list[tuple[str, list[str], object]] = []
    if argv:
        executable = dbus_str(path) if path is not None else argv[0]
        if ex:
            options = [T.EXEC_COMMAND_FLAG_NAMES[b] for b in range(5) if flags & (1 << b)]
            entries.append((executable, argv, options))
        else:
            entries.append((executable, argv, bool(flags & IGNORE_FAILURE)))
    out.append(Assignment(name, "a(sasas)" if ex else "a(sasb)", entries))


def exit_status_set(out: Out, field: str, eq: str) -> None:
    """SuccessExitStatus= & co: exit statuses (0-255 or names) and signals -> ``(aiai)``."""
    statuses: list[int] = []
    signals: list[int] = []
    for word in split_words(eq, UNQUOTE):
        n = exit_status_from_string(word)
        if n is not None:
            statuses.append(n)
            continue
        n = signal_from_string(word)
        if n is None:
            raise Bad("exit statuses (0-255 or names such as INVALIDARGUMENT) and signal names")
        signals.append(n)
    out.append(Assignment(field, "(aiai)", (statuses, signals)))


def timeout_sec(out: Out, field: str, eq: str) -> None:
    """TimeoutSec= sets both TimeoutStartUSec and TimeoutStopUSec."""
    usec = parse_sec(eq)
    out.append(Assignment("TimeoutStartUSec", "t", usec))
    out.append(Assignment("TimeoutStopUSec", "t", usec))


HANDLERS: Final[dict[str, Handler]] = {
    **dict.fromkeys(
        ("PIDFile", "Type", "ExitType", "Restart", "BusName", "NotifyAccess",
         "USBFunctionDescriptors", "USBFunctionStrings", "OOMPolicy", "TimeoutStartFailureMode",
         "TimeoutStopFailureMode"),
        string,
    ),
    **dict.fromkeys(
        ("PermissionsStartOnly", "RootDirectoryStartOnly", "RemainAfterExit", "GuessMainPID"),
        boolean,
    ),
    **dict.fromkeys(
        ("RestartSec", "TimeoutStartSec", "TimeoutStopSec", "TimeoutAbortSec", "RuntimeMaxSec",
         "RuntimeRandomizedExtraSec", "WatchdogSec"),
        sec_rename,
    ),
    "TimeoutSec": timeout_sec,
    "FileDescriptorStoreMax": u32,
    **dict.fromkeys(
        ("ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecConditionEx",
         "ExecStartPreEx", "ExecStartEx", "ExecStartPostEx", "ExecReload", "ExecStop",
         "ExecStopPost", "ExecReloadEx", "ExecStopEx", "ExecStopPostEx"),
        exec_command,
    ),
    **dict.fromkeys(
        ("RestartPreventExitStatus", "RestartForceExitStatus", "SuccessExitStatus"),
        exit_status_set,
    ),
}  # fmt: skip

LIST_WORDS: Final = frozenset(
    {"RestartPreventExitStatus", "RestartForceExitStatus", "SuccessExitStatus"}
)
