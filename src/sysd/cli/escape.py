"""``sysd escape``: systemd-escape(1), on :mod:`sysd.unitname`.

Same options, output and exit status as systemd 252's ``systemd-escape``:
one result per argument on a single line separated by spaces, warnings and
errors on stderr in systemd's words, exit status 1 on any error (output
already written for earlier arguments stays, without the final newline, as
systemd-escape leaves it).  Unknown options are argparse errors (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, Any

from .. import unitname
from ..errors import InvalidUnitNameError
from . import print_error, print_warning

__all__ = ["add_parsers"]

_EINVAL = "Invalid argument"  # strerror(EINVAL): every library failure here is -EINVAL


class _Fail(Exception):
    """An error systemd-escape reports with exit status 1."""


class _Ordered(argparse.Action):
    """Record --suffix=/--template= in command-line order: getopt checks each as it comes."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        seen: list[tuple[str, str]] = list(getattr(namespace, self.dest) or [])
        seen.append((option_string or "", str(values)))
        setattr(namespace, self.dest, seen)


def _write(text: str, stream: IO[str] | None = None) -> None:
    """Write to stdout (or ``stream``); bytes that are not UTF-8 (lone surrogates: the
    argument's own bytes) go out raw, as systemd-escape writes them."""
    stream = sys.stdout if stream is None else stream
    try:
        stream.write(text)
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
        buffer = getattr(stream, "buffer", None)
        if buffer is None:
            stream.write(raw.decode("utf-8", "replace"))
        else:
            stream.flush()
            buffer.write(raw)
            buffer.flush()


def _warn(text: str) -> None:
    """A warning as systemd's log functions write it (cut at each newline or carriage
    return, the argument's own bytes raw): see :func:`sysd.cli.print_warning`."""
    print_warning(text)


def _options(args: argparse.Namespace) -> tuple[str | None, str | None]:
    suffix: str | None = None
    template: str | None = None
    for option, value in args.escape_ordered or []:
        if option == "--suffix":
            if value not in unitname.UNIT_TYPES:
                raise _Fail(f'Invalid unit suffix type "{value}".')
            suffix = value
        else:
            if not unitname.is_template(value):
                raise _Fail(f"Template name {value} is not valid.")
            template = value
    if not args.strings:
        raise _Fail("Not enough arguments.")
    action: str = args.escape_action
    if template and suffix:
        raise _Fail("--suffix= and --template= may not be combined.")
    if (template or suffix) and action == "mangle":
        raise _Fail("--suffix= and --template= are not compatible with --mangle.")
    if suffix and action == "unescape":
        raise _Fail("--suffix is not compatible with --unescape.")
    if args.path and action == "mangle":
        raise _Fail("--path may not be combined with --mangle.")
    if args.instance and action != "unescape":
        raise _Fail("--instance must be used in conjunction with --unescape.")
    if args.instance and template:
        raise _Fail("--instance may not be combined with --template.")
    return suffix, template


def _escape_path(s: str) -> str:
    try:
        e = unitname.escape_path(s)
    except InvalidUnitNameError:
        if not unitname.path_is_valid(s):
            raise _Fail(f"Input '{s}' is not a valid file system path, failed to escape.") from None
        if not s.startswith("/"):
            raise _Fail(
                f"Input '{s}' is not an absolute file system path, failed to escape."
            ) from None
        if not unitname.path_is_normalized(s):
            raise _Fail(
                f"Input '{s}' is not a normalized file system path, failed to escape."
            ) from None
        raise _Fail(f"Failed to escape string: {_EINVAL}") from None
    # It worked, but say so when the result will not unescape to the same path.
    if not unitname.path_is_valid(s):
        _warn(
            f"Input '{s}' is not a valid file system path, "
            "escaping is likely not going be reversible."
        )
    elif not s.startswith("/"):
        _warn(
            f"Input '{s}' is not an absolute file system path, "
            "escaping is likely not going to be reversible."
        )
    return e


def _unescape_path(name: str) -> str:
    """unit_name_path_unescape() as C runs it: the unescaped string is a C string, so a
    ``\\x00`` ends it, and only what comes before is checked and printed (``a\\x00b``
    gives ``/a``).  The library refuses a NUL instead (a path cannot hold one)."""
    text = unitname.unescape(name) if name != "-" else ""
    if "\0" not in text:
        return unitname.unescape_path(name)
    text = text.split("\0", 1)[0]
    # the checks of unit_name_path_unescape(), on what is left
    if text.startswith("/") or text.endswith("/"):
        raise InvalidUnitNameError(f"escaped path {name!r} starts or ends with '-'")
    path = "/" + text
    if not unitname.path_is_normalized(path):
        raise InvalidUnitNameError(f"escaped path {name!r} is not a normalized path")
    return path


def _one(s: str, args: argparse.Namespace, suffix: str | None, template: str | None) -> str:
    action: str = args.escape_action
    if action == "escape":
        e = _escape_path(s) if args.path else unitname.escape(s)
        if template:
            try:
                return unitname.replace_instance(template, e)
            except InvalidUnitNameError:
                raise _Fail(f"Failed to replace instance: {_EINVAL}") from None
        return f"{e}.{suffix}" if suffix else e

    if action == "unescape":
        name = s
        if template or args.instance:
            try:
                inst = unitname.instance(s)
            except InvalidUnitNameError:
                raise _Fail(f"Failed to extract instance: {_EINVAL}") from None
            if not inst:
                raise _Fail(f"Unit {s} is missing the instance name.")
            try:
                its_template = unitname.template(s)
            except InvalidUnitNameError:
                raise _Fail(f"Failed to extract template: {_EINVAL}") from None
            if template and template != its_template:
                raise _Fail(
                    f"Unit {s} template {its_template} does not match "
                    f"specified template {template}."
                )
            name = inst
        try:
            return _unescape_path(name) if args.path else unitname.unescape(name)
        except InvalidUnitNameError:
            raise _Fail(f"Failed to unescape string: {_EINVAL}") from None

    try:
        return unitname.mangle(s)
    except InvalidUnitNameError:
        raise _Fail(f"Failed to mangle name: {_EINVAL}") from None


def _run(args: argparse.Namespace) -> int:
    try:
        suffix, template = _options(args)
        for index, s in enumerate(args.strings):
            result = _one(s, args, suffix, template)
            # C prints the C string: an unescaped NUL byte ends it.
            _write((" " if index else "") + result.split("\0", 1)[0])
    except _Fail as exc:
        sys.stdout.flush()
        print_error(str(exc), prefix="")  # systemd's log splits it at newlines, as here
        return 1
    _write("\n")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sysd escape``."""
    parser = sub.add_parser(
        "escape",
        help="escape strings for use in unit names (like systemd-escape)",
        description="Escape strings for usage in systemd unit names, or undo it; "
        "the same options and output as systemd-escape(1).",
        epilog='Example: sysd escape --template=systemd-nspawn@.service "My Container 1"',
    )
    parser.add_argument(
        "--suffix",
        metavar="SUFFIX",
        dest="escape_ordered",
        action=_Ordered,
        help="unit suffix (type) to append to escaped strings",
    )
    parser.add_argument(
        "--template",
        metavar="TEMPLATE",
        dest="escape_ordered",
        action=_Ordered,
        help="insert strings as instance into template",
    )
    parser.add_argument(
        "--instance",
        action="store_true",
        help="with --unescape, show just the instance part",
    )
    parser.add_argument(
        "-u",
        "--unescape",
        dest="escape_action",
        action="store_const",
        const="unescape",
        default="escape",
        help="unescape strings",
    )
    parser.add_argument(
        "-m",
        "--mangle",
        dest="escape_action",
        action="store_const",
        const="mangle",
        help="mangle strings",
    )
    parser.add_argument(
        "-p",
        "--path",
        action="store_true",
        help="when escaping/unescaping assume the string is a path",
    )
    parser.add_argument("strings", nargs="*", metavar="NAME", help="strings to process")
    parser.set_defaults(func=_run, escape_ordered=None)
