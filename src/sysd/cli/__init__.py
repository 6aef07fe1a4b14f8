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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sysd", description="systemd from Python: a thin shell over the sysd library."
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    for name in _VERB_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a verb module not written yet
            if exc.name != name:
                raise
            continue
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
