"""``sysd id128``: systemd-id128(1), on :mod:`sysd.id128`.

The same verbs, options, output and exit status as systemd 252's ``systemd-id128``:
``new``, ``machine-id``, ``boot-id``, ``invocation-id``, ``show [NAME|UUID...]``;
``-u/--uuid`` for the UUID form, ``-p/--pretty`` for code samples, ``-a/--app-specific=ID``
for the app-specific machine or boot ID.  Errors are one line on stderr in systemd's
words, exit status 1.
"""

from __future__ import annotations

import argparse
import errno as _errno
import os
import sys
import uuid

from .. import id128
from .._core import gpt
from ..errors import Id128Error, InvalidId128Error
from . import colors_enabled, print_error

__all__ = ["add_parsers"]

_VERBS = ("new", "machine-id", "boot-id", "invocation-id", "show", "help")


class _Fail(Exception):
    pass


def _strerror(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if isinstance(exc, InvalidId128Error):
        code = _errno.EINVAL
    return os.strerror(code) if isinstance(code, int) else str(exc)


def _highlight() -> tuple[str, str]:
    return ("\x1b[0;1;39m", "\x1b[0m") if colors_enabled() else ("", "")


def _sample(name: str, ident: uuid.UUID) -> str:
    """id128_pretty_print_sample(), without terminal links (as systemd off a terminal)."""
    on, off = _highlight()
    make = ",".join(f"{b:02x}" for b in ident.bytes)
    return (
        f"As string:\n{on}{ident.hex}{off}\n\n"
        f"As UUID:\n{on}{ident}{off}\n\n"
        f"As systemd-id128(1) macro:\n{on}#define {name} SD_ID128_MAKE({make}){off}\n\n"
        f"As Python constant:\n>>> import uuid\n"
        f">>> {on}{name} = uuid.UUID('{ident.hex}'){off}\n"
    )


def _print(ident: uuid.UUID, mode: str) -> None:
    if mode == "uuid":
        sys.stdout.write(f"{ident}\n")
    elif mode == "pretty":
        sys.stdout.write(_sample("XYZ", ident))
    else:
        sys.stdout.write(f"{ident.hex}\n")


def _show(names: list[str], mode: str) -> None:
    """verb_show(): the whole table, or the names/UUIDs given; pretty samples are printed
    as they come (an unknown name stops there), the table at the end."""
    import platform

    machine = platform.machine()
    rows: list[tuple[str, uuid.UUID]] = []
    for text in names or [name for name, _ in gpt.partition_types(machine)]:
        if id128.is_valid(text):
            value = id128.parse(text)
            name = gpt.type_name(value, machine) or "XYZ"
        else:
            found = gpt.type_uuid(text, machine)
            if found is None:
                raise _Fail(f'Unknown identifier "{text}".')
            name, value = text, found
        if mode == "pretty":
            _pretty_row(name, value, first=not rows)
        rows.append((name, value))
    if mode == "pretty":
        return
    width = max(len("NAME"), *(len(name) for name, _ in rows))
    on, off = ("\x1b[4m", "\x1b[0m") if colors_enabled() else ("", "")
    lines = [f"{on}{'NAME'.ljust(width)} ID{off}"]
    for name, value in rows:
        lines.append(f"{name.ljust(width)} {value if mode == 'uuid' else value.hex}")
    sys.stdout.write("\n".join(lines) + "\n")


def _pretty_row(name: str, value: uuid.UUID, *, first: bool) -> None:
    sys.stdout.write(_sample(name.replace("-", "_").upper(), value))
    if not first:
        sys.stdout.write("\n")


def _run(args: argparse.Namespace) -> int:
    verb: str | None = args.id128_verb
    words: list[str] = args.id128_args
    mode = "pretty" if args.id128_pretty else "uuid" if args.id128_uuid else "plain"
    try:
        app = None
        if args.id128_app is not None:
            try:
                app = id128.parse(args.id128_app)
            except InvalidId128Error:
                raise _Fail(
                    f'Failed to parse "{args.id128_app}" as application-ID: Invalid argument'
                ) from None
            if app == id128.NULL:
                app = None  # systemd-id128: a null app ID means "not app-specific"
        if verb is None:
            raise _Fail("Command verb required.")
        if verb not in _VERBS:
            raise _Fail(f"Unknown command verb {verb}.")
        if words and verb not in ("show", "help"):
            raise _Fail("Too many arguments.")
        if verb == "help":
            args.id128_parser.print_help()
        elif verb == "new":
            _print(id128.random(), mode)
        elif verb == "machine-id":
            try:
                _print(id128.machine_id(app_specific=app), mode)
            except Id128Error as exc:
                what = "app-specific " if app else ""
                raise _Fail(f"Failed to get {what}machine-ID: {_strerror(exc)}") from None
        elif verb == "boot-id":
            try:
                _print(id128.boot_id(app_specific=app), mode)
            except Id128Error as exc:
                what = "app-specific " if app else ""
                raise _Fail(f"Failed to get {what}boot-ID: {_strerror(exc)}") from None
        elif verb == "invocation-id":
            if app is not None:
                raise _Fail('Verb "invocation-id" cannot be combined with --app-specific=.')
            try:
                found = id128.invocation_id()
            except (Id128Error, InvalidId128Error) as exc:
                raise _Fail(f"Failed to get invocation-ID: {_strerror(exc)}") from None
            if found is None:
                raise _Fail(f"Failed to get invocation-ID: {os.strerror(_errno.ENXIO)}")
            _print(found, mode)
        else:
            _show(words, mode)
    except _Fail as exc:
        sys.stdout.flush()
        print_error(str(exc), prefix="")
        return 1
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sysd id128``."""
    parser = sub.add_parser(
        "id128",
        help="generate and print 128-bit IDs (like systemd-id128)",
        description="Generate and print 128-bit identifiers; the same verbs, options and "
        "output as systemd-id128(1). Verbs: new, machine-id, boot-id, invocation-id, "
        "show [NAME...].",
    )
    parser.add_argument("id128_verb", nargs="?", metavar="VERB", help="what to print")
    parser.add_argument("id128_args", nargs="*", metavar="NAME", help="for show: names or IDs")
    parser.add_argument(
        "-p", "--pretty", dest="id128_pretty", action="store_true", help="print code samples"
    )
    parser.add_argument(
        "-a",
        "--app-specific",
        dest="id128_app",
        metavar="ID",
        help="the app-specific machine or boot ID for this application ID",
    )
    parser.add_argument(
        "-u", "--uuid", dest="id128_uuid", action="store_true", help="print in UUID format"
    )
    parser.set_defaults(func=_run, id128_parser=parser)
    # getopt permutes: `show -p esp swap` takes options between the names.
    setattr(parser, "parse_args", parser.parse_intermixed_args)  # noqa: B010
