"""The ``sysd`` command: a thin shell over the library.

Each verb lives in a module of this package that defines
``add_parsers(sub: argparse._SubParsersAction) -> None``; every parser it adds
sets ``func=`` to a callable taking the parsed namespace and returning the exit
status.  Bad arguments exit 2 before anything connects to a bus.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ..errors import SysdError

# Modules that contribute verbs, in help order.
_VERB_MODULES = (
    "sysd.cli.basic",
    "sysd.cli.units",
    "sysd.cli.setprop",
    "sysd.cli.sandbox",
    "sysd.cli.escape",
    "sysd.cli.calendar",
    "sysd.cli.timers",
    "sysd.cli.logs",
    "sysd.cli.run",
)


# Which module defines a verb, so that a command loads only what it needs (a one-shot
# `sysd status` should not import every verb's dependencies).  tests/cli checks that
# this matches what the modules register.
_VERB_INDEX = {
    "sysd.cli.basic": ("call", "manager", "version"),
    "sysd.cli.units": (
        "cat", "daemon-reexec", "daemon-reload", "disable", "enable", "freeze", "is-active",
        "is-enabled", "is-failed", "kill", "list", "list-jobs", "list-unit-files", "mask",
        "reload", "reload-or-restart", "reset-failed", "restart", "show", "start", "status",
        "stop", "thaw", "try-reload-or-restart", "try-restart", "unmask",
    ),
    "sysd.cli.setprop": ("set-property",),
    "sysd.cli.sandbox": ("sandbox",),
    "sysd.cli.escape": ("escape",),
    "sysd.cli.calendar": ("calendar", "cron"),
    "sysd.cli.timers": ("timers",),
    "sysd.cli.logs": ("logs",),
    "sysd.cli.run": ("run",),
}  # fmt: skip
_MODULE_OF = {verb: module for module, verbs in _VERB_INDEX.items() for verb in verbs}


def _module_for(argv: Sequence[str]) -> str | None:
    """The module of the verb in argv (the first word not an option), if it is known."""
    for word in argv:
        if not word.startswith("-"):
            return _MODULE_OF.get(word)
        if word in ("-h", "--help"):
            return None
    return None


def build_parser(modules: Sequence[str] = _VERB_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sysd", description="systemd from Python: a thin shell over the sysd library."
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a verb module not written yet
            if exc.name != name:
                raise
            continue
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    module = _module_for(words)
    parser = build_parser([module] if module else _VERB_MODULES)
    args = parser.parse_args(words)
    try:
        rc: int = args.func(args)
    except SysdError as exc:
        print(f"sysd: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `sysd list | head`: the reader left; stay quiet like systemctl
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return rc
