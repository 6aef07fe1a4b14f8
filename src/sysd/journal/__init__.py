"""The systemd journal: read it, follow it, write to it.

Reading is backed by sd-journal in ``libsystemd.so.0`` through ctypes (no build
step); writing speaks journald's native protocol directly::

    import sysd.journal

    for entry in sysd.journal.entries(unit="nginx.service", since="-1h", priority="warning"):
        print(entry.timestamp, entry.message)

    sysd.journal.send("backup done", priority="notice", BACKUP_BYTES=1234)

    import logging
    logging.getLogger().addHandler(sysd.journal.JournalHandler())

Async following lives in :mod:`sysd.journal.aio` (``sysd.journal.aio_follow``).
``import sysd.journal`` loads neither ctypes' view of libsystemd nor asyncio: the
library is loaded on first read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ._entry import _EPOCH, Entry, Value
from ._errors import (
    InvalidJournalFieldError,
    InvalidTimestampError,
    JournalCorruptError,
    JournalDamageWarning,
    JournalError,
    JournalNotFoundError,
    JournalPermissionError,
    LibsystemdNotFoundError,
)
from ._format import OUTPUT_MODES, Formatter
from ._query import PRIORITY_NAMES, unit_matches
from ._time import parse_timestamp
from ._writer import send, send_fields

if TYPE_CHECKING:
    from ._handler import JournalHandler, priority_for_level
    from ._lib import Journal
    from ._reader import Entries
    from ._remote import AsyncRemoteEntries, RemoteEntries, RemoteTarget
    from .aio import AsyncEntries

__all__ = [
    "OUTPUT_MODES",
    "PRIORITY_NAMES",
    "AsyncEntries",
    "AsyncRemoteEntries",
    "Boot",
    "Entries",
    "Entry",
    "Formatter",
    "InvalidJournalFieldError",
    "InvalidTimestampError",
    "JournalCorruptError",
    "JournalDamageWarning",
    "JournalError",
    "JournalHandler",
    "JournalNotFoundError",
    "JournalPermissionError",
    "LibsystemdNotFoundError",
    "RemoteEntries",
    "RemoteTarget",
    "Value",
    "aio_follow",
    "boots",
    "catalog",
    "entries",
    "field_names",
    "field_values",
    "list_boots",
    "parse_timestamp",
    "priority_for_level",
    "send",
    "send_fields",
    "unit_matches",
]


def entries(
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
    directory: str | os.PathLike[str] | None = None,
    poll_interval: float | None = None,
    user: bool = False,
    host: str | None = None,
    machine: str | None = None,
    ssh_config: str | None = None,
    sudo: bool = False,
) -> Entries | RemoteEntries:
    """Journal entries, oldest first: an iterator of :class:`Entry` (close it, or use ``with``).

    What to read (all given filters must hold):

    ``unit`` / ``user_unit``
        A unit's logs as ``journalctl -u`` / ``--user-unit`` select them (see
        :func:`unit_matches`); a bare name gets ``.service``; globs match the units the
        journal knows; several names: any of them.
    ``priority``
        ``"warning"`` (or 4) means warning and more important; ``"err..warning"`` or
        ``(3, 4)`` a range.  Entries without a PRIORITY field are left out, except when
        the levels asked for are all eight (``"debug"``, ``"0..7"``): then, as for
        ``journalctl -p debug``, nothing is filtered.
    ``since`` / ``until``
        A :class:`~datetime.datetime` (naive = local time), or text as journalctl takes
        it: ``"2024-05-01 10:00"``, ``"yesterday"``, ``"-1h"``, ``"@1714550400"``...
    ``boot``
        ``True`` or ``0``: the current boot (with ``directory``, the last boot in it);
        ``-1`` the one before, ``1`` the first; or a boot ID, maybe with an offset from
        it (``"ID-1"``).  A boot the journal does not hold: JournalNotFoundError.
    ``identifier``
        ``SYSLOG_IDENTIFIER`` (one or several).
    ``grep``
        A regular expression searched in MESSAGE (case-insensitive unless it has
        capitals, as journalctl).
    ``matches``
        Raw ``"FIELD=value"`` terms, ``"+"`` between alternatives (journalctl's
        positional arguments).
    ``directory``
        Read the journal files in this directory instead of the system's.
    ``user``
        Read only the calling user's own journal (``user-UID.journal`` and its archived
        files: what the user's manager and its units logged), as ``journalctl --user``.
        Their units' logs are selected with ``user_unit=``.  When the user has no journal
        files: JournalNotFoundError.  Not with ``directory``.

    Where to start and stop:

    ``lines``
        Only the last N entries (with ``until``: the last N up to then; with ``since``:
        the last N, those since then; with ``cursor``: the first N from it; with
        ``grep``: the last N matches).  (``journalctl -S TIME -n N`` shows the first N
        since then: ``sysd logs`` does, reading with ``lines=None`` and stopping
        after N.)
    ``cursor`` / ``after_cursor``
        Start at (just after) an entry's :attr:`Entry.cursor`.  A cursor whose entry
        was since deleted (vacuum, rotation) resumes at the next entry after it.
    ``reverse``
        Newest first.
    ``follow``
        After the existing entries (``lines=0``: none of them), wait for new ones, forever
        (until closed).  Polls every ``poll_interval`` seconds (default 4 ms) while
        entries arrive, backing off to every 250 ms when none come, besides watching
        inotify, since journald tells inotify watchers about new entries up to 250 ms
        late.  Rotation, vacuuming and journald restarts are followed.  A damaged file
        (found when following starts, or damaged later) is skipped with a
        :class:`JournalDamageWarning` and counted (``statistics().skipped_files``), as
        journalctl -f skips it, and following goes on.
    ``fields``
        Read only these fields (the rest stay on disk).

    Another machine's journal:

    ``host`` / ``machine``
        Read it with ``journalctl -o export`` run over ssh (``[user@]host[:port]``, maybe
        ``/container``; ``ssh_config``: an ``ssh -F`` file, default ``$SYSD_SSH_CONFIG``;
        ``sudo``: run it through ``sudo -n``) or for a local container
        (``journalctl -M``), with the same filters: a :class:`RemoteEntries` of the
        same :class:`Entry` objects.  Not with ``directory``; ``follow`` not with
        ``until``.  The process ends when the iterator is closed.  Its failures:
        :class:`~sysd.errors.RemoteJournalError` (``status`` 255: ssh failed).

    Errors: ``InvalidJournalFieldError`` / ``InvalidTimestampError`` / ``InvalidCallError``
    (ValueErrors) for bad arguments, before anything is opened;
    ``JournalNotFoundError`` when there is no journal; ``JournalPermissionError``
    when its files may not be read; ``JournalCorruptError`` after the last readable
    entry when a file is truncated or its header is damaged (before reading, or under
    the reader: truncated or zeroed while it reads), or when libsystemd reports a
    damaged entry (damage inside a file that libsystemd can step over, it skips, as
    journalctl does) — while following, a warning instead (see ``follow``);
    ``LibsystemdNotFoundError`` when libsystemd.so.0 is missing.

    The iterator is not thread-safe: use it from one thread at a time.
    """
    from ._reader import DEFAULT_POLL_INTERVAL, Entries

    if host is not None or machine is not None:
        from ._remote import RemoteEntries, RemoteTarget

        return RemoteEntries(
            RemoteTarget(host=host, machine=machine, ssh_config=ssh_config, sudo=sudo),
            unit=unit, user_unit=user_unit, priority=priority, since=since, until=until,
            boot=boot, identifier=identifier, grep=grep, matches=matches, cursor=cursor,
            after_cursor=after_cursor, reverse=reverse, lines=lines, follow=follow,
            fields=fields, directory=directory, user=user,
        )  # fmt: skip
    return Entries(
        unit=unit, user_unit=user_unit, priority=priority, since=since, until=until, boot=boot,
        identifier=identifier, grep=grep, matches=matches, cursor=cursor,
        after_cursor=after_cursor, reverse=reverse, lines=lines, follow=follow, fields=fields,
        directory=directory,
        poll_interval=DEFAULT_POLL_INTERVAL if poll_interval is None else poll_interval,
        user=user,
    )  # fmt: skip


def _unit_kwargs(
    name: str, scope: str, lines: int | None, follow: bool, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The ``entries()`` arguments for a unit's logs, by the scope of its manager."""
    if scope in ("remote",):
        raise JournalError(
            f"the logs of {name} are on another machine",
            hint="the journal is read from local files; use journalctl on that host",
        )
    key = "user_unit" if scope == "user" else "unit"
    return {key: name, "lines": lines, "follow": follow, **kwargs}


def list_boots(directory: str | os.PathLike[str] | None = None) -> list[tuple[str, datetime]]:
    """The boots recorded in the journal (boot ID, first entry's time), oldest first."""
    from ._reader import Entries

    reader = Entries(directory=directory, lines=0)
    try:
        journal = reader._journal
        assert journal is not None
        boots = Entries.list_boots(journal)
    finally:
        reader.close()
    return [(boot, _EPOCH + timedelta(microseconds=usec)) for boot, usec in boots]


class Boot(NamedTuple):
    """One boot in the journal, as ``journalctl --list-boots`` lists it."""

    offset: int  # 0 the last boot, -1 the one before, ... (as -b takes it)
    boot_id: str  # 32 hex digits
    first: datetime  # the boot's first and last entries (aware, UTC)
    last: datetime


def boots(directory: str | os.PathLike[str] | None = None, *, user: bool = False) -> list[Boot]:
    """The boots recorded in the journal, oldest first, with their first and last entries."""
    ranges = _with_journal(directory, user, lambda j, entries: entries.boot_ranges(j))
    n = len(ranges)
    return [
        Boot(i - n + 1, boot, _EPOCH + timedelta(microseconds=first),
             _EPOCH + timedelta(microseconds=last))
        for i, (boot, first, last) in enumerate(ranges)
    ]  # fmt: skip


_UNIQUE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


def field_values(
    field: str, directory: str | os.PathLike[str] | None = None, *, user: bool = False
) -> list[bytes]:
    """Every value ``field`` has in the journal (``journalctl -F``), each once."""
    # sd_journal_query_unique()'s rule (looser than a field's in an entry: no length cap,
    # digits first allowed), checked here so that the error is typed and names the field
    if not field or field.startswith("__") or field.strip(_UNIQUE_CHARS):
        raise InvalidJournalFieldError(
            f"invalid field name {field!r}: A-Z, 0-9 and _, not starting with __"
        )
    return _with_journal(directory, user, lambda j, entries: j.unique(field))


def field_names(
    directory: str | os.PathLike[str] | None = None, *, user: bool = False
) -> list[str]:
    """Every field name used in the journal (``journalctl -N``), each once."""
    return _with_journal(directory, user, lambda j, entries: j.field_names())


_CATALOG_VARIABLE = re.compile(r"@([A-Z_]+)@")
_REPLACE_VAR_MAX = 4096  # a longer field stays @NAME@'s name (PATH_MAX in sd-journal)
_ID128 = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def _catalog_id(value: Any) -> str | None:
    """A MESSAGE_ID as sd_id128_from_string() reads it (plain or UUID form): 32 hex
    digits, or None when it is not an ID."""
    if not isinstance(value, str) or not _ID128.fullmatch(value):
        return None
    return value.replace("-", "").lower()


def catalog(entry: Entry) -> str | None:
    """The catalog text explaining ``entry`` (``journalctl -x``), None when there is none.

    As ``sd_journal_get_catalog()``: the text for the entry's MESSAGE_ID from the catalog
    database, each ``@FIELD@`` replaced by the entry's value of that field (by the name
    when the entry lacks it or the value is too long).
    """
    message_id = _catalog_id(entry.get("MESSAGE_ID"))
    if message_id is None:
        return None
    from ._lib import catalog_for_message_id

    text = catalog_for_message_id(message_id)
    if text is None:
        return None

    def value(m: re.Match[str]) -> str:
        name = m[1]
        try:
            raw = entry.raw(name)
        except KeyError:
            return name
        if len(name) + 1 + len(raw) > _REPLACE_VAR_MAX:
            return name
        return raw.decode("utf-8", "replace")

    return _CATALOG_VARIABLE.sub(value, text)


_T = TypeVar("_T")


def _with_journal(
    directory: str | os.PathLike[str] | None,
    user: bool,
    use: Callable[[Journal, type[Entries]], _T],
) -> _T:
    from ._reader import Entries

    reader = Entries(directory=directory, lines=0, user=user)
    try:
        journal = reader._journal
        assert journal is not None
        return use(journal, Entries)
    finally:
        reader.close()


def __getattr__(name: str) -> Any:
    # The reader (ctypes), the async twin (asyncio) and the logging handler (logging, whose
    # import and atexit hook a one-shot `sysd status` would pay for) load on first use.
    if name in ("JournalHandler", "priority_for_level"):
        from . import _handler

        return getattr(_handler, name)
    if name == "Entries":
        from ._reader import Entries

        return Entries
    if name in ("RemoteEntries", "AsyncRemoteEntries", "RemoteTarget"):
        from . import _remote

        return getattr(_remote, name)
    if name == "AsyncEntries":
        from .aio import AsyncEntries

        return AsyncEntries
    if name == "aio_follow":
        from .aio import follow

        return follow
    if name == "aio":
        import importlib

        return importlib.import_module(".aio", __name__)
    raise AttributeError(f"module 'sysd.journal' has no attribute {name!r}")
