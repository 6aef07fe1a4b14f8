"""journalctl's export format, read incrementally; and the journalctl options that select
what :func:`sysd.journal.entries` selects (no I/O: the remote reader runs the process).

The format (systemd 252, ``output_export()`` in src/shared/logs-show.c and
docs/JOURNAL_EXPORT_FORMATS.md)::

    __CURSOR=s=...;i=...;b=...;m=...;t=...;x=...\\n
    __REALTIME_TIMESTAMP=1714550400123456\\n
    __MONOTONIC_TIMESTAMP=21415215982\\n
    _BOOT_ID=6c7c6013a26343b29e964691ff25d04c\\n
    MESSAGE=a text field\\n                      (printable UTF-8, no newline)
    MESSAGE\\n<u64 little-endian length><bytes>\\n  (anything else: binary-safe)
    \\n                                          (a blank line ends the entry)

journalctl prints the entry's ``_BOOT_ID`` field as the header line (the field itself is
left out of the body), so the parser puts ``_BOOT_ID=...`` first among the entry's
items, as systemd's own importer (journal-importer.c) stores it: an entry read this
way has the same fields and values, byte for byte, as one read from the journal
files; only the place of ``_BOOT_ID`` in :attr:`Entry.data` may differ (journald
stores fields in the order of their data objects in the file).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from ..errors import InvalidCallError, JournalStreamError
from ..journal._entry import Entry
from ..journal._query import (
    PRIORITY_NAMES,
    compile_grep,
    field_valid,
    mangle_unit,
    match_terms,
    priority_levels,
)
from ..journal._time import to_usec

__all__ = ["DATA_SIZE_MAX", "ExportParser", "Plan", "parse_export", "plan"]

# journal-importer.h: the largest field a reader of the export format takes
DATA_SIZE_MAX: Final = 1024 * 1024 * 768
_LINE: Final = 0  # reading a line: a field, or the blank line that ends the entry
_SIZE: Final = 1  # a binary field's length (8 bytes, little endian)
_DATA: Final = 2  # its bytes
_NEWLINE: Final = 3  # the newline after them


def _name_ok(name: bytes) -> bool:
    """journal_field_valid(..., allow_protected=true), on bytes."""
    try:
        text = name.decode("ascii")
    except UnicodeDecodeError:
        return False
    return field_valid(text)


class ExportParser:
    """Entries from export-format bytes fed in chunks of any size (one byte at a time too).

    >>> p = ExportParser()
    >>> p.feed(b"__CURSOR=c\\n__REALTIME_TIMESTAMP=5\\nMESSAGE=hi\\nX\\n\\3\\0\\0\\0\\0\\0\\0\\0a")
    []
    >>> [e.data for e in p.feed(b"\\nb\\n\\n")]
    [[b'MESSAGE=hi', b'X=a\\nb']]
    >>> p.close()

    :meth:`close` says whether the stream ended between entries (it raises
    JournalStreamError inside one).  Malformed input raises JournalStreamError with
    ``offset``, the stream position of the bad byte.
    """

    __slots__ = (
        "_boot", "_buf", "_cursor", "_items", "_monotonic", "_name", "_offset", "_pos",
        "_realtime", "_scan", "_size", "_state", "max_size",
    )  # fmt: skip

    def __init__(self, *, max_size: int = DATA_SIZE_MAX) -> None:
        self.max_size = max_size
        self._buf = bytearray()
        self._pos = 0  # where parsing stands in _buf
        self._scan = 0  # where the search for the next newline goes on
        self._offset = 0  # stream position of _buf[0]
        self._state = _LINE
        self._name = b""  # the binary field being read
        self._size = 0
        self._new_entry()

    def _new_entry(self) -> None:
        self._items: list[bytes] = []
        self._cursor: str | None = None
        self._realtime: int | None = None
        self._monotonic: int | None = None
        self._boot: bytes | None = None

    @property
    def in_entry(self) -> bool:
        """True when part of an entry was read and its end not yet."""
        started = self._items or self._cursor is not None or self._realtime is not None
        return bool(started or self._monotonic is not None or self._boot is not None
                    or self._state != _LINE or self._pos < len(self._buf))  # fmt: skip

    def _fail(self, why: str, at: int) -> JournalStreamError:
        return JournalStreamError(
            f"not journalctl's export format at byte {self._offset + at}: {why}",
            offset=self._offset + at,
        )

    def feed(self, data: bytes | bytearray | memoryview) -> list[Entry]:
        """Take the next bytes of the stream; the entries they complete, in order."""
        buf = self._buf
        buf += data
        out: list[Entry] = []
        pos = self._pos
        end = len(buf)
        try:
            while pos < end:
                state = self._state
                if state == _LINE:
                    nl = buf.find(b"\n", max(pos, self._scan))
                    if nl < 0:
                        self._scan = end
                        if end - pos > self.max_size + 64:
                            raise self._fail("a line longer than the largest field", pos)
                        break
                    self._scan = 0
                    if nl == pos:  # a blank line: the entry is complete
                        pos += 1
                        if self._items or self._cursor is not None:
                            out.append(self._entry())
                        self._new_entry()
                        continue
                    line = bytes(buf[pos:nl])
                    name, eq, value = line.partition(b"=")
                    if not _name_ok(name):
                        raise self._fail(f"invalid field name {name[:64]!r}", pos)
                    pos = nl + 1
                    if not eq:  # a binary field: its size, data and a newline follow
                        self._name = name
                        self._state = _SIZE
                    elif name[:2] == b"__" or name == b"_BOOT_ID":
                        self._header(name, value, line, pos - len(line) - 1)
                    else:
                        self._items.append(line)
                elif state == _SIZE:
                    if end - pos < 8:
                        break
                    size = int.from_bytes(buf[pos : pos + 8], "little")
                    if size > self.max_size:
                        raise self._fail(f"a field of {size} bytes (at most {self.max_size})", pos)
                    pos += 8
                    self._size = size
                    self._state = _DATA
                elif state == _DATA:
                    size = self._size
                    if end - pos < size:
                        break
                    self._items.append(self._name + b"=" + bytes(buf[pos : pos + size]))
                    pos += size
                    self._state = _NEWLINE
                else:  # _NEWLINE
                    if buf[pos] != 0x0A:
                        raise self._fail("no newline after a binary field's data", pos)
                    pos += 1
                    self._state = _LINE
        finally:
            # drop what was read (the newline search goes on where it stood)
            if pos:
                del buf[:pos]
                self._offset += pos
                if self._scan:
                    self._scan -= pos
                pos = 0
            self._pos = pos
        return out

    def _header(self, name: bytes, value: bytes, line: bytes, at: int) -> None:
        try:
            if name == b"__CURSOR":
                self._cursor = value.decode("ascii")
            elif name == b"__REALTIME_TIMESTAMP":
                self._realtime = int(value.decode("ascii"))
            elif name == b"__MONOTONIC_TIMESTAMP":
                self._monotonic = int(value.decode("ascii"))
            elif name == b"_BOOT_ID":
                boot = bytes.fromhex(value.decode("ascii"))
                if len(boot) != 16:
                    raise ValueError("not 128 bits")
                self._boot = boot
                self._items.append(line)  # a field too (the importer stores it as one)
            # other __ lines: metadata a later journalctl may add; skipped, as the importer does
        except (UnicodeDecodeError, ValueError):
            raise self._fail(f"invalid {name.decode()} {value[:64]!r}", at) from None

    def _entry(self) -> Entry:
        return Entry(self._items, self._realtime, self._monotonic, self._boot, self._cursor)

    def close(self) -> None:
        """The stream ended: raise JournalStreamError if it ended inside an entry.

        journalctl ends every entry with a blank line, so a stream cut short (the
        connection dropped, the process killed) is told from a complete one.
        """
        if self.in_entry:
            raise self._fail("the stream ended inside an entry", len(self._buf))


def parse_export(data: bytes) -> list[Entry]:
    """Every entry of a complete export-format stream (JournalStreamError if it is not one)."""
    parser = ExportParser()
    entries = parser.feed(data)
    parser.close()
    return entries


# ------------------------------------------------------------------- what to ask for


@dataclass
class Plan:
    """How to get :func:`sysd.journal.entries`'s selection out of ``journalctl -o export``.

    ``args`` are journalctl's options after ``journalctl`` (matches last, after ``--``);
    the rest is what the reader does with the entries it parses: ``since``/``until``
    (µs) drop entries outside the window (``stop_after_until``: the first one past
    ``until`` ends the stream), ``grep`` keeps the entries whose MESSAGE matches, at
    most ``limit`` entries are kept, and ``reverse_buffer``: they come newest first and
    are handed out oldest first once all are in.  ``empty``: nothing can match; the
    process is not run.  ``then``: a second pass that follows (options without the
    start: the reader adds ``--after-cursor``/``--lines=0``, then ``matches``).
    """

    args: list[str]
    follow: bool = False
    since: int | None = None
    until: int | None = None
    stop_after_until: bool = False
    grep: re.Pattern[str] | None = None
    limit: int | None = None
    reverse_buffer: bool = False
    fields: list[bytes] | None = None
    empty: bool = False
    units: list[str] = field(default_factory=list)
    then: list[str] | None = None
    matches: list[str] = field(default_factory=list)


_BOOT_ID_RE: Final = re.compile(
    r"(?P<id>[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})"
    r"(?P<offset>[+-][0-9]+)?"
)


def _names(value: str | Iterable[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise InvalidCallError(f"{what} must be a str or a list of str") from None
    if not all(isinstance(v, str) for v in names):
        raise InvalidCallError(f"{what} must be a str or a list of str")
    return names


def _seconds(usec: int) -> str:
    """``@SECONDS.FRACTION``: journalctl's parse_timestamp() takes it to the µs."""
    return f"@{usec // 1_000_000}.{usec % 1_000_000:06d}"


def _plain(text: str, what: str) -> str:
    if "\0" in text:
        raise InvalidCallError(f"{what} must not contain NUL: {text[:80]!r}")
    return text


def plan(
    *,
    unit: str | Iterable[str] | None = None,
    user_unit: str | Iterable[str] | None = None,
    priority: int | str | Sequence[int | str] | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    boot: bool | int | str | None = None,
    identifier: str | Iterable[str] | None = None,
    grep: str | re.Pattern[str] | None = None,
    matches: Iterable[str] | None = None,
    cursor: str | None = None,
    after_cursor: str | None = None,
    reverse: bool = False,
    lines: int | None = None,
    follow: bool = False,
    fields: Iterable[str] | None = None,
    user: bool = False,
) -> Plan:
    """The journalctl options (and the reader's own steps) for ``entries()``'s arguments.

    Everything is checked as :class:`sysd.journal.Entries` checks it (typed ValueErrors,
    before anything runs); every value goes to journalctl as one ``--option=value``
    word, matches after ``--``, so no value can pass for an option.  Times are turned
    into µs here (relative and local times by this machine's clock and zone) and sent
    as ``@SECONDS.FRACTION``.  ``grep`` is applied here, not by journalctl (Python's
    :mod:`re`, as the local reader).  Where journalctl 252 reads differently from the
    local reader (``lines`` with ``since``/``until``: journalctl shows the first N
    since then, the library the last N), the plan reads newest first with ``-r -n N``
    and turns the result round.
    """
    units = [mangle_unit(u) for u in _names(unit, "unit")]
    user_units = [mangle_unit(u) for u in _names(user_unit, "user_unit")]
    identifiers = [_plain(i, "identifier") for i in _names(identifier, "identifier")]
    levels = priority_levels(priority) if priority is not None else None
    terms = match_terms(matches) if matches is not None else []
    since_us = to_usec(since) if since is not None else None
    until_us = to_usec(until) if until is not None else None
    if since_us is not None and until_us is not None and since_us > until_us:
        raise InvalidCallError("since must not be after until")
    if cursor is not None and after_cursor is not None:
        raise InvalidCallError("give cursor or after_cursor, not both")
    if (cursor is not None or after_cursor is not None) and since is not None:
        raise InvalidCallError("give only one of since, cursor and after_cursor")
    if follow and reverse:
        raise InvalidCallError("follow and reverse do not go together")
    if lines is not None and (isinstance(lines, bool) or lines < 0):
        raise InvalidCallError(f"lines must be a count >= 0 or None, not {lines!r}")
    if isinstance(boot, str) and not _BOOT_ID_RE.fullmatch(boot):
        raise InvalidCallError(
            f"boot must be a boot ID (32 hex digits), maybe with an offset (ID-1), not {boot!r}"
        )
    if follow and until_us is not None:
        raise InvalidCallError(
            "a remote journal is not followed up to a time: give until or follow, not both"
        )
    pattern = compile_grep(grep) if grep is not None else None
    wanted: list[bytes] | None = None
    if fields is not None:
        names = [fields] if isinstance(fields, str) else list(fields)
        for name in names:
            if not isinstance(name, str) or not field_valid(name):
                from ..errors import InvalidJournalFieldError

                raise InvalidJournalFieldError(f"invalid field name {name!r}", field=str(name))
        wanted = [n.encode() for n in dict.fromkeys(names)]
    mark = cursor if cursor is not None else after_cursor
    if mark is not None:
        _plain(mark, "cursor")

    args = ["--output=export", "--no-pager", "--quiet"]
    if user:
        args.append("--user")
    if boot is not None and boot is not False:
        if isinstance(boot, str):
            m = _BOOT_ID_RE.fullmatch(boot)
            assert m is not None
            offset = int(m["offset"] or 0)
            args.append(f"--boot={m['id'].replace('-', '').lower()}{offset:+d}" if offset
                        else f"--boot={m['id'].replace('-', '').lower()}")  # fmt: skip
        else:
            args.append(f"--boot={0 if boot is True else int(boot)}")
    args += [f"--unit={u}" for u in units]
    args += [f"--user-unit={u}" for u in user_units]
    args += [f"--identifier={i}" for i in identifiers]
    if levels is not None and len(set(levels)) < len(PRIORITY_NAMES):
        args.append(f"--priority={min(levels)}..{max(levels)}")
    if wanted is not None:
        args.append("--output-fields=" + ",".join(n.decode() for n in wanted))

    p = Plan(args=args, follow=follow, grep=pattern, fields=wanted, units=units + user_units)
    if lines == 0 and not follow:
        p.empty = True
        return p
    # journalctl counts -n N on every entry it shows; grep is ours: then we count
    count = None if pattern is not None else lines
    if mark is not None:
        # as the library: from the cursor on (back from it with reverse), the first N;
        # until ends a forward read (journalctl too) and is a filter going back
        args.append(f"--after-cursor={mark}" if after_cursor is not None else f"--cursor={mark}")
        if reverse:
            args.append("--reverse")
        if until_us is not None and not reverse:
            args.append(f"--until={_seconds(until_us)}")
        p.until = until_us
        p.stop_after_until = not reverse
        p.limit = None if follow else lines
        args.append("--lines=all" if follow or count is None else f"--lines={count}")
        if follow:
            args.append("--follow")
    elif reverse:
        # journalctl -r -U T starts before T (sd_journal_seek_realtime_usec): ask for
        # T + 1 µs, keep those at or before T (the library's seek_realtime(until + 1))
        args.append("--reverse")
        if until_us is not None:
            args.append(f"--until={_seconds(until_us + 1)}")
        if since_us is not None:
            args.append(f"--since={_seconds(since_us)}")
        p.since, p.until = since_us, until_us
        p.limit = lines
        args.append("--lines=all" if count is None else f"--lines={count}")
    elif follow:
        # the last N (those since then), then whatever comes: journalctl -f -n N, the
        # since window applied here (journalctl -S -n shows the first N since then)
        if lines is None:
            if since_us is not None:
                args.append(f"--since={_seconds(since_us)}")
            args.append("--lines=all")
        elif pattern is None:
            args.append(f"--lines={lines}")
            p.since = since_us
        else:
            # the last N matches, then new ones: a first pass reads back from the end
            # (newest first, turned round); then ``then`` follows after the newest
            # entry that pass saw (``--after-cursor``; ``--lines=0`` if it saw none)
            p.then = [*args, "--follow", "--lines=all"]
            args += ["--reverse", "--lines=all"]
            p.since, p.limit, p.reverse_buffer, p.follow = since_us, lines, True, False
        if p.then is None:
            args.append("--follow")
    elif lines is None:
        if since_us is not None:
            args.append(f"--since={_seconds(since_us)}")
        if until_us is not None:
            args.append(f"--until={_seconds(until_us)}")
        args.append("--lines=all")
        p.since, p.until, p.stop_after_until = since_us, until_us, True
    elif since_us is None and until_us is None and pattern is None:
        args.append(f"--lines={lines}")
    else:
        # the last N (at or before until, since then; or the last N matches): newest
        # first from until, turned round at the end
        args.append("--reverse")
        if until_us is not None:
            args.append(f"--until={_seconds(until_us + 1)}")
        if since_us is not None:
            args.append(f"--since={_seconds(since_us)}")
        args.append("--lines=all" if count is None else f"--lines={count}")
        p.since, p.until = since_us, until_us
        p.limit = lines
        p.reverse_buffer = True
    if terms:
        words = ["--", *(t.decode("utf-8", "surrogateescape") for t in terms)]
        args += words
        p.matches = words
    return p
