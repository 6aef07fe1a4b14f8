"""The ``sysd`` command: a thin shell over the library.

Each verb lives in a module of this package that defines
``add_parsers(sub: argparse._SubParsersAction) -> None``; every parser it adds
sets ``func=`` to a callable taking the parsed namespace and returning the exit
status.  Bad arguments exit 1, as systemd's tools do, before anything connects to a bus.

Start-up time matters (``sysd is-active`` in a shell loop): this module imports no verb
module, no part of the library and not argparse until it knows which verb runs, and
``sysd --help``/``--version`` are answered from the tables below.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: `sysd --help` imports no typing
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, NoReturn

__all__ = [
    "cli_hint",
    "colors_enabled",
    "error_text",
    "lazy_module",
    "main",
    "print_error",
    "print_notice",
    "print_warning",
]

# Which module defines a verb and the verb's line in `sysd --help`, in help order, so that
# a command loads only what it needs (a one-shot `sysd status` should not import every
# verb's dependencies): groups of verbs, each with its module (a module may define more
# than one group).  tests/cli checks that this matches what the modules register.
_VERBS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "sysd.cli.basic",
        (
            ("version", "print systemd's version (over D-Bus)"),
            ("manager", "show the manager's properties"),
            ("call", "call any D-Bus method (arguments as JSON values)"),
        ),
    ),
    (
        "sysd.cli.introspect",
        (
            (
                "introspect",
                "show an object's interfaces, methods, properties (with values) and signals",
            ),
        ),
    ),
    ("sysd.cli.units", (("status", "show the runtime status of units, or of the manager"),)),
    (
        "sysd.cli.lists",
        (
            ("list", "list loaded units (systemctl list-units); the default verb"),
            ("list-unit-files", "list installed unit files"),
            ("list-jobs", "list queued jobs"),
        ),
    ),
    (
        "sysd.cli.units",
        (
            ("show", "show unit properties as Name=value"),
            ("cat", "show unit files and drop-ins"),
        ),
    ),
    (
        "sysd.cli.control",
        (
            ("start", "start units and wait for the jobs"),
            ("stop", "stop units and wait for the jobs"),
            ("restart", "restart units and wait for the jobs"),
            ("reload", "reload units and wait for the jobs"),
            ("try-restart", "try-restart units and wait for the jobs"),
            ("reload-or-restart", "reload-or-restart units and wait for the jobs"),
            ("try-reload-or-restart", "try-reload-or-restart units and wait for the jobs"),
            ("kill", "send a signal to the processes of units"),
            ("reset-failed", "reset the failed state (all failed units)"),
            ("freeze", "freeze the processes of units (cgroup v2)"),
            ("thaw", "thaw the processes of units (cgroup v2)"),
            ("enable", "enable unit files"),
            ("disable", "disable unit files"),
            ("mask", "mask unit files"),
            ("unmask", "unmask unit files"),
            ("daemon-reload", "reload unit files and the manager configuration"),
            ("daemon-reexec", "re-execute the manager"),
        ),
    ),
    (
        "sysd.cli.ensure",
        (("ensure", "bring units to a desired state, doing only what is missing"),),
    ),
    (
        "sysd.cli.units",
        (
            ("is-active", "exit 0 when any unit is active, else 3"),
            ("is-failed", "exit 0 when any unit failed, else 1"),
            ("is-enabled", "exit 0 when any unit file is enabled, else 1"),
        ),
    ),
    (
        "sysd.cli.setprop",
        (("set-property", "change unit properties at run time (CPUQuota=20%, MemoryMax=1G, ...)"),),
    ),
    (
        "sysd.cli.sandbox",
        (("sandbox", "run commands against a throwaway real systemd (needs root)"),),
    ),
    (
        "sysd.cli.escape",
        (("escape", "escape strings for use in unit names (like systemd-escape)"),),
    ),
    (
        "sysd.cli.id128",
        (("id128", "generate and print 128-bit IDs: machine, boot, invocation (systemd-id128)"),),
    ),
    (
        "sysd.cli.calendar",
        (
            ("calendar", "normalise calendar specs and show their next elapses (systemd-analyze)"),
            ("cron", "translate a cron expression into OnCalendar= lines and a timer unit"),
        ),
    ),
    (
        "sysd.cli.login",
        (
            ("sessions", "list login sessions (loginctl list-sessions)"),
            ("users", "list logged-in and lingering users (loginctl list-users)"),
            ("seats", "list seats (loginctl list-seats)"),
        ),
    ),
    (
        "sysd.cli.machines",
        (
            ("machines", "list registered containers and VMs (machinectl list)"),
            ("images", "list container and VM images (machinectl list-images)"),
        ),
    ),
    ("sysd.cli.timers", (("timers", "list timers: next and last elapse, what they activate"),)),
    (
        "sysd.cli.analyze",
        (("analyze", "boot analysis: time, blame, critical-chain, plot (systemd-analyze)"),),
    ),
    (
        "sysd.cli.lint",
        (("lint", "check unit files offline: unknown keys, bad values (systemd-analyze verify)"),),
    ),
    ("sysd.cli.logs", (("logs", "show the journal (journalctl)"),)),
    (
        "sysd.cli.watch",
        (
            ("watch", "print unit state changes and manager events as they happen"),
            ("wait", "wait until units reach a state (exit 0; 1 on timeout, 3 if failed)"),
        ),
    ),
    (
        "sysd.cli.run",
        (
            (
                "run",
                "run a command in a transient service, scope or timer/socket/path (systemd-run)",
            ),
        ),
    ),
)
_VERB_MODULES = tuple(dict.fromkeys(module for module, _ in _VERBS))
_VERB_INDEX = {
    name: tuple(verb for module, verbs in _VERBS if module == name for verb, _ in verbs)
    for name in _VERB_MODULES
}
_MODULE_OF = {verb: module for module, verbs in _VERBS for verb, _ in verbs}

# systemctl without a verb lists units.
DEFAULT_VERB = "list"

# Options that may stand before the verb (systemctl takes every option anywhere) and take
# a value, so that the value is not mistaken for the verb: `sysd -H host list`.
_GLOBAL_VALUE_OPTIONS = frozenset(
    {"-H", "--host", "-M", "--machine", "--address", "--timeout", "-n", "--lines"}
)

# The exit status for bad arguments: systemd's tools exit EXIT_FAILURE (1), also for an
# unknown verb (`Unknown command verb foo.`) and a value they cannot parse.
USAGE_ERROR = 1

_USAGE = """\
usage: sysd [OPTIONS...] [VERB] [ARGS...]

systemd from Python: a thin shell over the sysd library.
Without a verb, sysd lists the loaded units (sysd list). Options may come before or
after the verb; `sysd VERB --help` shows the options of a verb.

global options:
  -h, --help            show this help and exit
  --version             print sysd's version and exit
  --user                talk to the calling user's manager
  --system              talk to the system manager (default)
  -H, --host [USER@]HOST[:PORT][/CONTAINER]
                        over ssh; several hosts: a,b[1-3] / @hosts.txt /
                        inventory.ini[:pattern] (docs/fleet.md)
  -M, --machine NAME    a local container
  --address ADDRESS     any D-Bus address (unix:path=..., unixexec:...)
  --timeout SEC         the deadline of each call (default 25)
  --no-pager            do not pipe long output into a pager
  --json                machine-readable output

verbs:
"""


# ------------------------------------------------------------------------- error lines

_RED = "\x1b[0;1;31m"  # systemd's ANSI_HIGHLIGHT_RED, for log lines at LOG_ERR and worse
_YELLOW = "\x1b[0;1;38;5;185m"  # ANSI_HIGHLIGHT_YELLOW (252), for LOG_WARNING
_BOLD = "\x1b[0;1;39m"  # ANSI_HIGHLIGHT, for LOG_NOTICE
_NORMAL = "\x1b[0m"


def colors_enabled() -> bool:
    """systemd's ``colors_enabled()``: ``$SYSTEMD_COLORS`` decides when set, else not with
    ``$NO_COLOR`` or ``TERM=dumb``, else only when stdout and stderr are terminals."""
    forced = os.environ.get("SYSTEMD_COLORS", "").strip().lower()
    if forced in ("1", "yes", "y", "true", "t", "on", "16", "256", "24bit"):
        return True
    if forced in ("0", "no", "n", "false", "f", "off"):
        return False
    if "NO_COLOR" in os.environ or os.environ.get("TERM", "dumb") == "dumb":
        return False
    return _isatty(sys.stdout) and _isatty(sys.stderr)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def print_error(text: str, prefix: str = "sysd: ") -> None:
    """An error line on stderr, ``prefix`` first, bold red on a terminal as systemctl's.

    Every error line of every verb goes through here (systemd's ``log_error()``): each
    line of ``text`` (cut at newlines and carriage returns, empty pieces left out, as
    systemd's log does) is coloured on its own; bytes that are not UTF-8 (lone surrogates:
    an argument's own bytes) are written raw, as systemd's tools write them.
    """
    _log_lines(text, prefix, _RED)


def print_warning(text: str) -> None:
    """A warning line on stderr as systemd's ``log_warning()``: yellow on a terminal."""
    _log_lines(text, "", _YELLOW)


def print_notice(text: str) -> None:
    """A notice line on stderr as systemd's ``log_notice()``: bold on a terminal."""
    _log_lines(text, "", _BOLD)


def _log_lines(text: str, prefix: str, on: str) -> None:
    pieces = [p for p in text.replace("\r", "\n").split("\n") if p] or ([] if text else [""])
    color = colors_enabled()
    out = "".join(f"{on}{prefix}{p}{_NORMAL}\n" if color else f"{prefix}{p}\n" for p in pieces)
    stream = sys.stderr
    try:
        stream.write(out)
    except UnicodeEncodeError:
        buffer = getattr(stream, "buffer", None)
        raw = out.encode("utf-8", "surrogateescape")
        if buffer is None:
            stream.write(raw.decode("utf-8", "replace"))
        else:
            stream.flush()
            buffer.write(raw)
    stream.flush()


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it on first attribute access."""

    class LazyModule:
        def __getattr__(self, attr: str) -> Any:
            import importlib

            module = importlib.import_module(name)
            self.__dict__.update(module.__dict__)
            return getattr(module, attr)

    return LazyModule()


def error_text(exc: BaseException) -> str:
    """An error as systemctl words it after "Failed to VERB UNIT: ": a D-Bus error's
    message without its name ("Unit x.service not found.", systemd's
    ``bus_error_message()``), then sysd's hint for the command line, if any."""
    from ..errors import DBusError, SysdError

    if isinstance(exc, DBusError):
        text = exc.message or exc.name
    elif isinstance(exc, SysdError):
        text = exc.text
    else:
        return str(exc)
    hint = cli_hint(exc)
    return f"{text} (hint: {hint})" if hint else text


def cli_hint(exc: BaseException) -> str | None:
    """An error's hint in the command line's words (``--interactive``, not
    ``interactive=True``); None when there is none."""
    from .. import errors as E

    if isinstance(exc, E.InteractiveAuthorizationRequiredError):
        return "run as root, add a polkit rule, or pass --interactive to let polkit ask"
    if isinstance(exc, E.AccessDeniedError):
        return "run as root or add a polkit rule"
    if isinstance(exc, E.BusTimeoutError):
        return "pass --timeout SEC to wait longer"
    hint = getattr(exc, "hint", None)
    return hint if isinstance(hint, str) and hint else None


# ------------------------------------------------------------------------ the parser


class UsageError(Exception):
    """Bad arguments: reported as one line (``sysd VERB: why``), exit status USAGE_ERROR."""


def _parser_class() -> type[argparse.ArgumentParser]:
    import argparse

    class Parser(argparse.ArgumentParser):
        """argparse with systemd's way of refusing arguments: one line, no usage dump."""

        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{self.prog}: {message}")

        def _get_formatter(self) -> argparse.HelpFormatter:
            # argparse makes a formatter for every add_argument(), and its default width
            # costs an import of shutil (with zlib, bz2 and lzma): ask the terminal here.
            return self.formatter_class(prog=self.prog, width=_columns() - 2)  # type: ignore[call-arg]

    return Parser


def _columns() -> int:
    value = os.environ.get("COLUMNS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        return os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1).columns
    except (OSError, ValueError):
        return 80


class _Ignored:
    """What add_parser() returns for the verbs not run: takes every call, builds nothing."""

    def __getattr__(self, name: str) -> Any:
        return self._call

    def _call(self, *args: Any, **kwargs: Any) -> _Ignored:
        return self


class _OneVerb:
    """Stands in for argparse's subparsers action and builds the parser of one verb only.

    A module adds all its verbs (control.py: 17 parsers, ~230 options), which can cost
    more than the rest of a one-shot command; the others get an _Ignored.
    """

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.parser: argparse.ArgumentParser | None = None

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        kwargs.pop("help", None)
        kwargs.pop("aliases", None)
        if name != self.verb:
            return _Ignored()
        self.parser = _parser_class()(prog=f"sysd {name}", **kwargs)
        return self.parser


def _help_text() -> str:
    width = max(len(v) for v in _MODULE_OF) + 2
    lines = [f"  {verb:<{width}}{text}" for _, verbs in _VERBS for verb, text in verbs]
    return _USAGE + "\n".join(lines) + "\n"


def _split_verb(words: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
    """``(options before the verb, verb, words after it)``.

    The verb is the first word that is not an option or an option's value.  A word after an
    option of unknown arity counts as its value unless it is a verb's name.
    """
    before: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            return before, None, list(words[i + 1 :])
        if word.startswith("-") and word != "-":
            before.append(word)
            if word in _GLOBAL_VALUE_OPTIONS and i + 1 < len(words):
                before.append(words[i + 1])
                i += 1
            i += 1
            continue
        prev = words[i - 1] if i else ""
        takes_value = (
            before
            and prev.startswith("-")
            and "=" not in prev
            and prev not in _GLOBAL_FLAGS
            and word not in _MODULE_OF
        )
        if takes_value:
            before.append(word)
            i += 1
            continue
        return before, word, list(words[i + 1 :])
    return before, None, []


_GLOBAL_FLAGS = frozenset(
    {
        "--user", "--system", "--private", "--no-private", "--interactive",
        "--no-ask-password", "--json", "--no-pager", "-l", "--full", "-a", "--all",
        "-q", "--quiet", "--no-legend", "--plain", "--failed", "--no-block", "-h", "--help",
        "--version",
    }
)  # fmt: skip


def bind_dash_values(parser: argparse.ArgumentParser, words: Sequence[str]) -> list[str]:
    """Join an option that takes one value to a next word that begins with ``-``.

    getopt, and so journalctl and systemctl, take the word after an option that needs a
    value as that value whatever it looks like (``-S -1h``, ``-u -.slice``); argparse
    refuses it as "expected one argument".  ``-S -1h`` becomes ``-S=-1h`` (argparse splits
    an option at ``=`` for short options too).  Stops at ``--`` and, for a verb that takes
    a command line (``run``), at the first positional word.
    """
    import argparse

    takes_value = {
        option
        for action in parser._actions
        if action.option_strings and action.nargs in (None, 1)
        if not isinstance(action, argparse._HelpAction | argparse._VersionAction)
        for option in action.option_strings
    }
    remainder = any(
        not action.option_strings and action.nargs == argparse.REMAINDER
        for action in parser._actions
    )
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            out.extend(words[i:])
            break
        if word in takes_value and i + 1 < len(words):
            value = words[i + 1]
            if value.startswith("-") and value not in {"-", "--"}:
                out.append(f"{word}={value}")
            else:
                out.extend((word, value))
            i += 2
            continue
        if remainder and not word.startswith("-"):
            out.extend(words[i:])
            break
        out.append(word)
        i += 1
    return out


def build_parser(modules: Sequence[str] = _VERB_MODULES) -> argparse.ArgumentParser:
    import importlib

    parser = _parser_class()(
        prog="sysd", description="systemd from Python: a thin shell over the sysd library."
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    for name in modules:
        module = importlib.import_module(name)
        module.add_parsers(sub)
    return parser


def _did_you_mean(word: str) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(_MODULE_OF), n=1, cutoff=0.6)
    return f", did you mean '{close[0]}'?" if close else "."


def parse(words: Sequence[str]) -> argparse.Namespace:
    """The namespace for a command line, or UsageError; exits for --help and --version."""
    before, verb, after = _split_verb(words)
    if any(w in ("-h", "--help") for w in before):
        sys.stdout.write(_help_text())
        raise SystemExit(0)
    if "--version" in before:
        from .. import __version__

        print(f"sysd {__version__}")
        raise SystemExit(0)
    if verb is None:
        verb = DEFAULT_VERB
    module = _MODULE_OF.get(verb)
    if module is None:
        raise UsageError(f"sysd: Unknown command verb {verb}{_did_you_mean(verb)}")
    one = _OneVerb(verb)
    __import__(module)  # not importlib.import_module(): -X importtime would not see it
    sys.modules[module].add_parsers(one)
    assert one.parser is not None, verb
    args = one.parser.parse_args(bind_dash_values(one.parser, [*before, *after]))
    args.verb = verb
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command line (``sys.argv`` when None); the exit status.

    As the program itself (``argv`` None) it ends the process when done, without the
    interpreter's teardown, if nothing is left to run at exit (see :func:`_exit_now`)."""
    rc = _main(sys.argv[1:] if argv is None else list(argv))
    if argv is None:
        _exit_now(rc)
    return rc


def _exit_now(rc: int) -> None:
    """``os._exit(rc)`` when that loses nothing: no atexit callback registered, no thread
    but this one, stdout and stderr flushed.  Freeing every module at exit costs a
    one-shot `sysd is-active` about a sixth of its time; its connection is closed by now.
    """
    import atexit

    threading = sys.modules.get("threading")
    # atexit._ncallbacks is CPython's; where it is missing, take the normal (slower) exit
    ncallbacks = getattr(atexit, "_ncallbacks", None)
    if ncallbacks is None or ncallbacks():
        return
    if threading is not None and threading.active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(rc)


_INVENTORIES = (".ini", ".yml", ".yaml", ".cfg", ".inventory")


def _fleet_words(words: Sequence[str]) -> bool:
    """``-H`` names several hosts (``a,b``, ``@file``, ``web[1-3]``, ``inventory.ini[:pat]``)
    or ``--rolling`` is asked: the command goes to :mod:`sysd.cli.fleet` (imported only
    then: the one-shot single-host path stays light)."""
    hosts = []
    for i, word in enumerate(words):
        if word == "--":
            break
        if word in ("-H", "--host") and i + 1 < len(words):
            hosts.append(words[i + 1])
        elif word.startswith("--host="):
            hosts.append(word[7:])
        elif word.startswith("-H") and len(word) > 2:
            hosts.append(word[2:].removeprefix("="))
        elif word == "--rolling":
            return True
    return any(
        "," in h or h.startswith("@") or "[" in h or h.partition(":")[0].endswith(_INVENTORIES)
        for h in hosts
    )


def _main(words: list[str]) -> int:
    if _fleet_words(words):
        from .fleet import main as fleet_main

        return fleet_main(words)
    try:
        args = parse(words)
    except UsageError as exc:
        print_error(str(exc), prefix="")
        return USAGE_ERROR
    except KeyboardInterrupt:  # Ctrl-C while the verb's module loads: no traceback either
        return 130
    from ..errors import SysdError

    try:
        rc: int = args.func(args)
    except UsageError as exc:
        print_error(str(exc), prefix="")
        return USAGE_ERROR
    except SysdError as exc:
        hint = cli_hint(exc)
        print_error(f"{exc.text} (hint: {hint})" if hint else exc.text)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `sysd list | head`: the reader left; stay quiet like systemctl
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    finally:
        if "sysd.cli._pager" in sys.modules:
            from . import _pager

            _pager.close()
    return rc
