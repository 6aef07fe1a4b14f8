"""``sysd logs``: read the journal as journalctl 252 prints it.

``sysd logs [-u UNIT] [--user-unit UNIT] [-f] [-n N] [-p PRIO] [-S SINCE] [-U UNTIL]
[-b [BOOT]] [-g PATTERN] [-t ID] [-r] [-o MODE] [-H HOST | -M NAME] [FIELD=VALUE...]``

``-H HOST`` / ``-M NAME`` read another machine's journal: ``journalctl -o export`` with
the same filters over ssh or for a local container, parsed into the same entries and
printed here (sysd.journal.entries(host=/machine=)).

Output is journalctl's for the same options, byte for byte, with the differences
listed in docs/cli.md ("Intentional differences from systemd's tools"): JSON objects
list their keys in the entry's order (journalctl's is random); ``-g`` with ``-n``
prints the last matches oldest first (journalctl 252 prints them newest first); ``-U``
with ``-n`` gives the last N entries up to then (journalctl 252: those of the last N
entries that are not after then, usually none).  ``-S`` with ``-n`` gives the first N
entries since then, as journalctl does (the library's ``lines=`` is the last N).
Also here: the journal lines under ``sysd status UNIT`` (:func:`print_unit_journal`, as
``systemctl status`` prints them).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import sys
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import IO, Any, TextIO

from ..errors import InvalidCallError, JournalNotFoundError
from ..journal import (
    OUTPUT_MODES,
    Formatter,
    InvalidJournalFieldError,
    InvalidTimestampError,
    JournalDamageWarning,
    JournalError,
    _files,
    entries,
)
from ..journal._query import compile_grep, mangle_unit, match_terms, priority_levels
from ..journal._time import parse_timestamp
from . import _render as R
from . import print_error, print_notice, print_warning

__all__ = ["add_parsers", "print_unit_journal"]

_QUIET_MODES = frozenset({"export", "json", "json-pretty", "json-sse", "json-seq", "cat"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNSET: Any = object()  # -n not given


# --------------------------------------------------------------------------- arguments


def _timestamp_arg(text: str) -> datetime:
    try:
        usec = parse_timestamp(text)
    except InvalidTimestampError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return _EPOCH + timedelta(microseconds=usec)


def _priority_arg(text: str) -> str:
    try:
        priority_levels(text)
    except InvalidJournalFieldError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _unit_arg(text: str) -> str:
    try:
        return mangle_unit(text)
    except InvalidJournalFieldError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _lines_arg(text: str) -> int | None:
    if text == "all":
        return None
    if text.lstrip("+").isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"lines must be a number >= 0 or 'all', not {text!r}")


_BOOT_DESCRIPTOR = re.compile(r"([0-9a-fA-F]{32})?([+-]?[0-9]+)?")


def _boot_arg(text: str) -> bool | int | str:
    """journalctl 252's parse_boot_descriptor(): an offset, or a boot ID (32 hex digits,
    no dashes) maybe followed by an offset from it (``ID-1``)."""
    value = text.strip()
    m = _BOOT_DESCRIPTOR.fullmatch(value)
    if m is None or (m[1] and m[2] and m[2][0] not in "+-"):
        raise argparse.ArgumentTypeError(f"not a boot ID or offset: {text!r}")
    if m[1]:
        return m[1].lower() + (m[2] if m[2] and int(m[2]) else "")
    offset = int(m[2] or 0)
    return True if offset == 0 else offset


class _Peeking(argparse.Action):
    """An option whose value is optional, as journalctl's -b and -n: a following word that
    is not a value for it (``-b FIELD=value``) is a match instead."""

    def __init__(self, *args: Any, parse: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parse = parse

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
        values: Any, option_string: str | None = None,
    ) -> None:  # fmt: skip
        value = self.const
        if isinstance(values, str):
            try:
                value = self.parse(values)
            except argparse.ArgumentTypeError as exc:
                if "=" not in values and values != "+" and not values.startswith("/"):
                    raise argparse.ArgumentError(self, str(exc)) from None
                namespace.extra_matches = [*getattr(namespace, "extra_matches", []), values]
        setattr(namespace, self.dest, value)


class _ExtendFields(argparse.Action):
    """--output-fields A,B (repeatable): journalctl's strv_split(",") (empty words left out)
    and extend; none at all means every field, as without the option."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
        values: Any, option_string: str | None = None,
    ) -> None:  # fmt: skip
        words = [w for w in str(values).split(",") if w]
        fields = [*(getattr(namespace, self.dest, None) or []), *words]
        setattr(namespace, self.dest, list(dict.fromkeys(fields)))


def _grep_arg(text: str) -> str:
    try:
        compile_grep(text)
    except InvalidJournalFieldError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


# ----------------------------------------------------------------------------- helpers


class _PathError(Exception):
    """A path argument journalctl refuses (exit 1)."""


_TASK_COMM_LEN = 16


def _path_terms(path: str) -> list[str]:
    """journalctl 252's matches for a path argument: an executable's ``_EXE=``; for a
    script ``_COMM=`` (its name as the kernel cuts it) and ``_EXE=`` of the interpreter
    unless that is a symlink.  Device nodes are not supported (docs/cli.md)."""
    try:
        real = os.path.realpath(path, strict=True)
        st = os.lstat(real)
    except OSError as exc:
        raise _PathError(f"Couldn't canonicalize path: {os.strerror(exc.errno or 0)}") from None
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        raise _PathError(f"sysd logs: device node matches are not supported: {path}")
    if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o111:
        raise _PathError(f"File is neither a device node, nor regular file, nor executable: {path}")
    interpreter = _interpreter(real)
    if interpreter is None:
        return [f"_EXE={real}"]
    terms = [f"_COMM={os.path.basename(real)[: _TASK_COMM_LEN - 1]}"]
    try:
        if not stat.S_ISLNK(os.lstat(interpreter).st_mode):
            terms.append(f"_EXE={interpreter}")
    except OSError:
        pass
    return terms


def _interpreter(path: str) -> str | None:
    """executable_is_script(): the first word after ``#!`` on the first line, if any."""
    try:
        with open(path, "rb") as f:
            line = f.readline(4096)
    except OSError:
        return None
    if not line.startswith(b"#!"):
        return None
    words = line[2:].strip().split(None, 1)
    return os.fsdecode(words[0]) if words else None


def _isatty(stream: IO[Any]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _columns() -> int:
    """columns(): $COLUMNS, else the terminal's width, else 80."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return shutil.get_terminal_size((80, 24)).columns


def _highlight(message: bytes | None, pattern: Any) -> tuple[int, int] | None:
    if message is None or pattern is None:
        return None
    text = message.decode("utf-8", "surrogateescape")
    m = pattern.search(text)
    if m is None:
        return None
    start = len(text[: m.start()].encode("utf-8", "surrogateescape"))
    return start, start + len(m.group(0).encode("utf-8", "surrogateescape"))


# --------------------------------------------------------------------------------- logs


def _logs(args: argparse.Namespace) -> int:
    mode: str = args.output
    quiet = args.quiet or mode in _QUIET_MODES
    lines = args.lines
    if lines is _UNSET and args.pager_end:
        lines = 1000  # journalctl -e: unless -n says otherwise
    if lines is _UNSET:
        lines = 10 if args.follow and args.since is None else None
    boot = args.boot
    if boot is None and (args.follow or args.dmesg or args.pager_end):
        boot = True  # -f, -k and -e show this boot only (unless --merge)
    matches: list[str] = []
    if args.dmesg:  # journalctl -k: the kernel's transport, and that with every other match
        matches.append("_TRANSPORT=kernel")
    for term in [*args.matches, *getattr(args, "extra_matches", [])]:
        if not term.startswith("/"):
            matches.append(term)
            continue
        if _remote(args):  # a path names a local executable: not one over there
            print_error(f"sysd logs: path matches are not supported with -H/-M: {term}", prefix="")
            return 1
        try:
            matches += _path_terms(term)
        except _PathError as exc:
            print_error(str(exc), prefix="")
            return 1
    try:
        match_terms(matches)
    except InvalidJournalFieldError as exc:
        print_error(f"sysd logs: {exc}", prefix="")
        return 1  # as journalctl: EXIT_FAILURE
    out = sys.stdout.buffer
    color = R.color_enabled(sys.stdout)
    formatter = Formatter(
        mode,
        full=args.full,
        show_all=args.all,
        color=color,
        utc=args.utc,
        columns=_columns(),
        no_hostname=args.no_hostname,
        utf8=R.glyphs_for(sys.stdout) is R.UNICODE,
        output_fields=args.output_fields,
    )
    pattern = compile_grep(args.grep) if args.grep else None
    # journalctl 252 with --since and --lines: seek to the time, show the first N from there
    # (the library's lines= means the last N); with --grep it reads backwards instead
    limit: int | None = None
    first_n = args.since is not None and lines and not args.reverse and pattern is None
    if first_n and not args.follow:
        limit = lines
    # journalctl 252 reads --grep with --lines as with --reverse: from a cursor, the last N
    # matches at or before it (printed here oldest first, as everywhere: see docs/cli.md)
    cursor = args.cursor or args.after_cursor
    backward = bool(pattern and lines and cursor and not args.reverse and not args.follow)
    shown = 0
    previous_boot: str | None = None
    explain = _catalog_lines(color) if args.catalog and mode in _CATALOG_MODES else None
    units, user_units = args.unit or [], args.user_unit or []
    if args.user:  # journalctl --user: -u names the user's units
        units, user_units = [], [*units, *user_units]
    try:
        reader = entries(
            unit=units or None,
            user_unit=user_units or None,
            priority=args.priority,
            since=args.since,
            until=args.until,
            boot=boot,
            identifier=args.identifier or None,
            grep=pattern,
            matches=matches or None,
            cursor=args.cursor,
            after_cursor=args.after_cursor,
            reverse=args.reverse or backward,
            lines=None if first_n else lines,
            follow=args.follow,
            directory=args.directory,
            user=args.user,
            **_where(args),
        )
    except JournalNotFoundError:
        if _remote(args):
            raise
        if not args.user:
            raise
        # journalctl --user of a user without journal files (root: the system journal has
        # its lines): a notice, nothing to show, success
        if not quiet:
            print_notice("No journal files were found.")
            out.write(b"-- No entries --\n")
            out.flush()
        return 1 if pattern is not None else 0  # --grep: nothing matched
    with reader as it:
        if it.no_such_units:
            print_error("sysd logs: no unit in the journal matches the patterns", prefix="")
            return 1  # journalctl: "Failed to add filter for units: No data available"
        if not args.follow:  # journalctl pages unless it follows, once the filters are set
            from ._pager import open_pager

            open_pager(args)
        collected = iter(list(it)[::-1]) if backward else None
        while True:
            try:
                entry = it.next_nowait() if collected is None else next(collected)
            except StopIteration:
                break
            if entry is None:
                out.flush()
                it.wait()
                continue
            if not quiet:
                if previous_boot is not None and entry.boot_id != previous_boot:
                    on, off = (R.HIGHLIGHT, R.NORMAL) if color else ("", "")
                    out.write(f"{on}-- Boot {entry.boot_id} --{off}\n".encode())
                previous_boot = entry.boot_id
            highlight = (0, 0)  # journalctl always passes a (maybe empty) span: colours show it
            if pattern is not None and color:
                raw = entry.get("MESSAGE")
                found = _highlight(raw.encode() if isinstance(raw, str) else raw, pattern)
                highlight = found or highlight
            try:
                out.write(formatter(entry, highlight=highlight))
            except ValueError as exc:  # journalctl stops at an entry it cannot format
                out.flush()
                print_error(f"sysd logs: {exc}", prefix="")
                return 1
            if explain is not None:
                out.write(explain(entry))
            shown += 1
            if limit is not None and shown >= limit:
                break
    if shown == 0 and not quiet:
        out.write(b"-- No entries --\n")
    out.flush()
    # journalctl --grep, like grep, fails when nothing matched; with -n 0 it fails when its
    # first step found no entry at all (its last sd-journal call returned 0)
    if pattern is not None and shown == 0 and (lines != 0 or not _any(args, matches, boot)):
        return 1
    return 0


# the forms whose entries journalctl -x follows with the catalog text (output_short's and
# output_verbose's OUTPUT_CATALOG)
_CATALOG_MODES = frozenset(
    {"short", "short-full", "short-iso", "short-iso-precise", "short-precise",
     "short-monotonic", "short-unix", "short-delta", "with-unit", "verbose"}
)  # fmt: skip


def _catalog_lines(color: bool) -> Callable[[Any], bytes]:
    """print_catalog(): the entry's catalog text, each line after a shade (or ``--``)."""
    from ..journal import _catalog_id, catalog

    prefix = "\u2591\u2591" if R.glyphs_for(sys.stdout) is R.UNICODE else "--"
    grey, green, normal = (R.GREY, "\x1b[0;32m", R.NORMAL) if color else ("", "", "")
    newline = f"{normal}\n{grey}{prefix}{normal} {green}"

    def explain(entry: Any) -> bytes:
        text = catalog(entry)
        if text is None:
            if "MESSAGE_ID" in entry and _catalog_id(entry.get("MESSAGE_ID")) is None:
                sys.stdout.flush()  # in order with the entry, as journalctl's log line
                print_error("Failed to find catalog entry: Invalid argument", prefix="")
            return b""
        body = text.strip(" \t\n\r").replace("\n", newline)
        return f"{grey}{prefix} {normal}{green}{body}{normal}\n".encode()

    return explain


def _any(args: argparse.Namespace, matches: list[str], boot: Any) -> bool:
    """Whether journalctl's first step for ``-g PATTERN -n 0`` finds an entry: it reads
    -g with -n as with -r, so one selected entry (filters but the pattern) at or before
    the cursor, or --until, or the end."""
    units, user_units = args.unit or [], args.user_unit or []
    if args.user:
        units, user_units = [], [*units, *user_units]
    with entries(
        unit=units or None,
        user_unit=user_units or None,
        priority=args.priority,
        until=args.until,
        boot=boot,
        identifier=args.identifier or None,
        matches=matches or None,
        cursor=args.cursor or args.after_cursor,
        reverse=True,
        lines=1,
        directory=args.directory,
        user=args.user,
        **_where(args),
    ) as it:
        return next(it, None) is not None


def _remote(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "host", None) or getattr(args, "machine", None))


def _where(args: argparse.Namespace) -> dict[str, Any]:
    """``host=``/``machine=`` for entries(): journalctl -o export over ssh or with -M."""
    if not _remote(args):
        return {}
    return {"host": args.host, "machine": args.machine}


def add_parsers(sub: Any) -> None:
    help_text = "show the journal (journalctl)"
    p: argparse.ArgumentParser = sub.add_parser("logs", help=help_text, description=help_text)
    p.add_argument(
        "matches",
        nargs="*",
        metavar="FIELD=VALUE",
        help="matches, '+' for OR; or an executable's path",
    )
    p.add_argument(
        "-u",
        "--unit",
        action="append",
        type=_unit_arg,
        metavar="UNIT",
        help="a system unit's logs (repeatable; globs)",
    )
    p.add_argument(
        "--user-unit",
        action="append",
        type=_unit_arg,
        metavar="UNIT",
        help="a user unit's logs (repeatable; globs)",
    )
    p.add_argument(
        "-t", "--identifier", action="append", metavar="ID", help="SYSLOG_IDENTIFIER (repeatable)"
    )
    p.add_argument(
        "-p",
        "--priority",
        type=_priority_arg,
        metavar="PRIO",
        help="this priority and more important, or a range FROM..TO",
    )
    p.add_argument(
        "-g",
        "--grep",
        type=_grep_arg,
        metavar="PATTERN",
        help="MESSAGE matches this regex (ignoring case unless it has capitals)",
    )
    p.add_argument(
        "-S",
        "--since",
        type=_timestamp_arg,
        metavar="TIME",
        help='entries from TIME on ("2024-05-01 10:00", "yesterday", "-1h")',
    )
    p.add_argument(
        "-U", "--until", type=_timestamp_arg, metavar="TIME", help="entries on or before TIME"
    )
    p.add_argument(
        "-b",
        "--boot",
        nargs="?",
        action=_Peeking,
        const=True,
        default=None,
        parse=_boot_arg,
        metavar="ID|OFFSET",
        help="this boot (or an ID, or -1: the one before)",
    )
    p.add_argument(
        "-n",
        "--lines",
        nargs="?",
        action=_Peeking,
        const=10,
        default=_UNSET,
        parse=_lines_arg,
        metavar="N",
        help="the last N entries (default 10; 'all')",
    )
    p.add_argument("-f", "--follow", action="store_true", help="wait for new entries")
    p.add_argument("-r", "--reverse", action="store_true", help="newest first")
    p.add_argument(
        "-o",
        "--output",
        choices=OUTPUT_MODES,
        default="short",
        metavar="MODE",
        help=f"short (default), short-iso, json, cat, export, ... ({', '.join(OUTPUT_MODES)})",
    )
    p.add_argument(
        "--output-fields",
        action=_ExtendFields,
        default=None,
        metavar="LIST",
        help="the fields to show in the verbose, export, json and cat forms (comma-separated)",
    )
    p.add_argument("-c", "--cursor", metavar="CURSOR", help="start at this entry")
    p.add_argument("--after-cursor", metavar="CURSOR", help="start after this entry")
    p.add_argument("-D", "--directory", metavar="DIR", help="read the journal files in DIR")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "-H",
        "--host",
        metavar="[USER@]HOST[:PORT][/CONTAINER]",
        help="the journal of another host (journalctl -o export over ssh)",
    )
    where.add_argument(
        "-M", "--machine", metavar="NAME", help="the journal of a local container (journalctl -M)"
    )
    p.add_argument(
        "--user",
        action="store_true",
        help="the calling user's own journal; -u then names user units",
    )
    p.add_argument("--utc", action="store_true", help="times in UTC")
    p.add_argument("-a", "--all", action="store_true", help="show unprintable and long fields")
    full = p.add_mutually_exclusive_group()
    full.add_argument(
        "-l",
        "--full",
        dest="full",
        action="store_true",
        default=True,
        help="do not ellipsize (default)",
    )
    full.add_argument("--no-full", dest="full", action="store_false", help="ellipsize")
    p.add_argument("--no-hostname", action="store_true", help="leave out the hostname")
    p.add_argument("-q", "--quiet", action="store_true", help="no '-- No entries --' lines")
    p.add_argument("--no-pager", action="store_true", help="do not pipe output into a pager")
    p.add_argument(
        "-x",
        "--catalog",
        action="store_true",
        help="explain entries with their catalog texts (short and verbose forms)",
    )
    p.add_argument("-k", "--dmesg", action="store_true", help="the kernel's messages of this boot")
    p.add_argument(
        "-e",
        "--pager-end",
        action="store_true",
        help="jump to the end in the pager (this boot, the last 1000 entries unless -n)",
    )
    p.add_argument(
        "-F", "--field", metavar="FIELD", help="list the values FIELD has in the journal"
    )
    p.add_argument(
        "-N", "--fields", action="store_true", help="list the field names in the journal"
    )
    p.add_argument("--list-boots", action="store_true", help="list the boots in the journal")
    p.set_defaults(func=_checked)


def _checked(args: argparse.Namespace) -> int:
    if args.follow and args.reverse:
        print_error("sysd logs: --follow and --reverse do not go together", prefix="")
        return 1
    if args.since and args.until and args.since > args.until:
        print_error("sysd logs: --since must be before --until", prefix="")
        return 1
    if sum(x is not None for x in (args.cursor, args.after_cursor, args.since)) > 1:
        print_error("sysd logs: give only one of --since, --cursor and --after-cursor", prefix="")
        return 1
    if _remote(args):
        listing = args.list_boots or args.fields or args.field is not None
        if listing or args.directory:
            what = "--directory" if args.directory else "-F, -N and --list-boots"
            print_error(f"sysd logs: {what}: not supported with -H/-M", prefix="")
            return 1
        if args.follow and args.until is not None:
            print_error("sysd logs: --follow with --until is not supported with -H/-M", prefix="")
            return 1
    with warnings.catch_warnings():  # restores showwarning
        warnings.showwarning = _show_warning
        try:
            if args.list_boots:
                return _list_boots(args)
            if args.fields:
                return _list_field_names(args)
            if args.field is not None:
                return _list_field(args)
            return _logs(args)
        except InvalidCallError as exc:
            print_error(f"sysd logs: {exc}", prefix="")
            return 1


_default_showwarning = warnings.showwarning


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A damaged file skipped while following is one line on stderr (journalctl: "Journal
    file ... corrupted, ignoring file."), not a Python warning with its source line."""
    if issubclass(category, JournalDamageWarning):
        print_warning(f"sysd logs: {message}")
        return
    _default_showwarning(message, category, filename, lineno, file, line)


# ------------------------------------------------------------------ listing, not entries


def _list_boots(args: argparse.Namespace) -> int:
    """journalctl --list-boots: a table (or JSON with -o json*), oldest first (-r newest)."""
    from ..journal import boots

    found = boots(args.directory, user=args.user)
    if args.reverse:
        found.reverse()
    if not found:
        return 0
    mode: str = args.output
    if mode.startswith("json"):
        import json

        objects = [
            {"index": b.offset, "boot_id": b.boot_id, "first_entry": _usec(b.first),
             "last_entry": _usec(b.last)}
            for b in found
        ]  # fmt: skip
        if mode == "json-pretty":  # systemd's pretty form: tabs, and " : "
            text = "[\n" + ",\n".join(
                "\t{\n" + ",\n".join(f"\t\t{json.dumps(k)} : {json.dumps(v)}"
                                      for k, v in o.items()) + "\n\t}"
                for o in objects
            ) + "\n]\n"  # fmt: skip
        else:
            text = json.dumps(objects, separators=(",", ":")) + "\n"
        if mode == "json-sse":
            text = f"data: {text}\n"
        elif mode == "json-seq":
            text = f"\x1e{text}"
        sys.stdout.write(text)
        return 0
    # IDX is right-aligned; with its header the column is at least as wide as "IDX"
    width = max(len(str(b.offset)) for b in found)
    width = width if args.quiet else max(width, 3)
    style = R.Style(R.color_enabled(sys.stdout))
    rows = [
        [str(b.offset).rjust(width), b.boot_id, R.timestamp_text(b.first) or "",
         R.timestamp_text(b.last) or ""]
        for b in found
    ]  # fmt: skip
    header = ["IDX", "BOOT ID", "FIRST ENTRY", "LAST ENTRY"]
    lines = R.table(header, rows, style=style, show_header=not args.quiet)
    from ._pager import open_pager

    open_pager(args)
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


def _usec(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(microseconds=1)


def _list_field(args: argparse.Namespace) -> int:
    """journalctl -F FIELD: each value once, in sd-journal's order, at most -n of them."""
    from ..journal import field_values

    try:
        values = field_values(args.field, args.directory, user=args.user)
    except InvalidJournalFieldError:
        print_error("Failed to query unique data objects: Invalid argument", prefix="")
        return 1
    lines = args.lines
    if lines is not _UNSET and lines is not None:
        values = values[:lines]
    out = sys.stdout.buffer
    from ._pager import open_pager

    open_pager(args)
    out.write(b"".join(v + b"\n" for v in values))
    out.flush()
    return 0


def _list_field_names(args: argparse.Namespace) -> int:
    """journalctl -N: every field name used, each once, in sd-journal's order."""
    from ..journal import field_names

    names = field_names(args.directory, user=args.user)
    from ._pager import open_pager

    open_pager(args)
    sys.stdout.write("".join(n + "\n" for n in names))
    return 0


# --------------------------------------------------------------------- sysd status


def print_unit_journal(
    unit: str,
    *,
    user: bool,
    lines: int,
    not_before: timedelta | None,
    full: bool,
    color: bool,
    out: IO[bytes] | None = None,
) -> bool:
    """The journal lines ``systemctl status`` prints under a unit; True if any ellipsized.

    ``show_journal_by_unit()``: the unit's matches in this boot, the last ``lines``
    entries, those before ``not_before`` (InactiveExitTimestampMonotonic: when the unit
    last started) left out, a blank line first.  Errors are reported as one line on
    stderr, as systemctl does, not raised.
    """
    if lines <= 0:
        return False
    stream = out if out is not None else sys.stdout.buffer
    formatter = Formatter("short", full=full, color=color, columns=_columns())
    floor = not_before // timedelta(microseconds=1) if not_before else 0
    printed = 0
    kwargs: dict[str, Any] = {"user_unit" if user else "unit": unit}
    try:
        with entries(boot=True, lines=lines, **kwargs) as it:
            while True:
                try:
                    entry = it.next_nowait()
                except StopIteration:
                    break
                if entry is None:
                    break
                if floor and entry.monotonic_usec < floor:
                    continue
                if printed == 0:
                    stream.write(b"\n")
                stream.write(formatter(entry))
                printed += 1
        if printed < lines and floor:
            notice = _cutoff_notice(floor, printed)
            if notice:
                stream.write((b"" if printed else b"\n") + notice.encode() + b"\n")
    except JournalError as exc:
        stream.flush()
        print_error(f"Failed to show journal for {unit}: {exc.text}", prefix="")
        return False
    except ValueError:
        pass
    stream.flush()
    return formatter.ellipsized


def _cutoff_notice(floor: int, printed: int) -> str | None:
    """What show_journal() says when the journal starts after the unit did."""
    from ..journal._reader import Entries

    with Entries(lines=0) as probe:
        cutoff = probe.cutoff_monotonic()
    if cutoff is None or floor >= cutoff[0]:
        return None
    noaccess = os.getuid() != 0 and any(
        not os.access(path, os.R_OK) for path in _files.default_files()
    )
    if printed == 0 and noaccess:
        return "Warning: some journal files were not opened due to insufficient permissions."
    if not noaccess:
        return "Notice: journal has been rotated since unit was started, output may be incomplete."
    return (
        "Warning: journal has been rotated since unit was started and some journal files were "
        "not opened due to insufficient permissions, output may be incomplete."
    )
