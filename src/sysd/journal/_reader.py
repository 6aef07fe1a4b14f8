"""Reading the journal: :class:`Entries`, the iterator behind :func:`sysd.journal.entries`.

Where reading starts and stops follows journalctl 252 (``src/journal/journalctl.c``):
matches in its order, ``since`` by seeking, ``until`` by stopping, ``lines`` by
skipping back from the tail, ``after_cursor`` by stepping past the cursor's entry.

Following polls the reader every few milliseconds as well as watching sd-journal's
inotify descriptor: journald writes entries into memory-mapped files and tells
inotify readers about them only on its 250 ms ``post_change`` timer, so a reader that
waits for inotify alone sees entries up to half a second late.  A poll that finds
nothing costs one ``sd_journal_next()`` (a few microseconds per open file), but waking
up costs the process far more than that; so the reader polls fast only while entries
arrive and backs off to :data:`IDLE_POLL_INTERVAL` when none come (:func:`poll_delay`):
a quiet follower wakes a few times a second, whatever the machine's speed.

Damage: sd-journal silently leaves out a file it cannot open, and drops a file it cannot
iterate any more (truncated or zeroed under the reader).  The reader checks its files
(:class:`_files.Health`) when it opens them, when it reaches the end, and while
following whenever inotify or the SIGBUS handler says something changed; a damaged
file is reported after the entries read before: :class:`JournalCorruptError`, or while
following a :class:`JournalDamageWarning` (counted, as journalctl -f skips the file) and
following goes on.

The reading itself is a state machine with a non-blocking step (:meth:`Entries._pull`),
shared by the blocking iterator and the asyncio one (:mod:`sysd.journal.aio`).
"""

from __future__ import annotations

import errno as _errno
import os
import re
import select
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from enum import Enum
from fnmatch import fnmatchcase
from typing import Any, Final, NamedTuple

from .._interrupt import CriticalSection
from ..errors import InvalidCallError
from . import _files, _sigbus
from ._entry import Entry
from ._errors import (
    InvalidJournalFieldError,
    JournalCorruptError,
    JournalDamageWarning,
    JournalError,
    JournalNotFoundError,
    JournalPermissionError,
)
from ._lib import SD_JOURNAL_CURRENT_USER, SD_JOURNAL_LOCAL_ONLY, Journal
from ._query import (
    PRIORITY_NAMES,
    SYSTEM_UNIT_FIELDS,
    USER_UNIT_FIELDS,
    compile_grep,
    field_valid,
    is_glob,
    mangle_unit,
    match_terms,
    priority_levels,
    unit_matches,
)
from ._time import to_usec

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "IDLE_POLL_INTERVAL",
    "Entries",
    "ReaderStatistics",
    "State",
    "poll_delay",
]

DEFAULT_POLL_INTERVAL: Final = 0.004  # seconds between polls while entries arrive
IDLE_POLL_INTERVAL: Final = 0.25  # the longest wait between polls (journald's post_change)
_FAST_POLLS: Final = 16  # empty polls at the fast rate after the last entry (64 ms)
_BACKOFF: Final = 1.5  # then each empty poll waits this much longer, up to the idle rate
_MAX_SKIPS: Final = 3  # damaged-entry errors in a row, no entry between, before giving up
_BATCH: Final = 256  # entries per step: bounds the time one step holds the caller
_BOOT_ID_RE: Final = re.compile(
    r"(?P<id>[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})"
    r"(?P<offset>[+-][0-9]+)?"
)


def poll_delay(interval: float, idle_polls: int) -> float:
    """Seconds a follower waits before polling again after ``idle_polls`` polls in a row
    found nothing: ``interval`` for a while after the last entry, then longer and longer,
    up to :data:`IDLE_POLL_INTERVAL` (or ``interval`` if that is longer)."""
    extra = idle_polls - _FAST_POLLS
    if extra <= 0:
        return interval
    return min(max(interval, IDLE_POLL_INTERVAL), interval * _BACKOFF ** min(extra, 64))


class ReaderStatistics(NamedTuple):
    """What a reader did (``Entries.statistics()``)."""

    skipped_files: int  # damaged files skipped while following (a warning each)
    skipped_entries: int  # damaged entries skipped while following (a warning each)
    wakeups: int  # times a follower woke up to poll (timer or inotify)
    idle_polls: int  # polls in a row that found nothing
    poll_interval: float  # the wait before the next poll, as things are now
    file_checks: int  # times the journal files were checked for damage


class State(Enum):
    MORE = "more"  # more entries may be read right away
    WAIT = "wait"  # caught up: following, wait for the journal to change
    DONE = "done"  # nothing more will come


def _current_boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip().replace("-", "")
    except OSError:
        return None


def _names(value: str | Iterable[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    names = list(value)
    if not all(isinstance(v, str) for v in names):
        raise InvalidCallError(f"{what} must be a str or a list of str")
    return names


def _describe(d: _files.Damage) -> str:
    if d.problem == "truncated":
        return f"{d.path} (truncated: {d.size} of {d.expected} bytes)"
    return f"{d.path} ({d.problem}, {d.size} bytes)"


class Entries(Iterator[Entry]):
    """Journal entries, oldest first (newest first with ``reverse=True``).

    Created by :func:`sysd.journal.entries`, which documents the arguments.  Iterate
    it; :meth:`close` it (or use ``with``) to release the journal files before the
    iterator is exhausted or garbage-collected.  ``cursor`` is the cursor of the
    last entry returned, to resume with ``after_cursor=``.
    """

    def __init__(
        self,
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
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        user: bool = False,
    ) -> None:
        self._journal: Journal | None = None
        self._workdir: str | None = None
        #: True when ``unit``/``user_unit`` named no unit the journal knows (only globs,
        #: and they matched nothing): nothing is read; journalctl fails then.
        self.no_such_units = False
        self._poll: Any = None
        self._fd = -1
        self._state = State.MORE
        self._last: Entry | None = None  # the last entry returned
        self._read_last: Entry | None = None  # the last entry read from the journal
        # ---- check everything before touching the journal (bad arguments: ValueError)
        self._units = [mangle_unit(u) for u in _names(unit, "unit")]
        self._user_units = [mangle_unit(u) for u in _names(user_unit, "user_unit")]
        self._identifiers = _names(identifier, "identifier")
        self._priorities = priority_levels(priority) if priority is not None else None
        self._terms = match_terms(matches) if matches is not None else []
        self._since = to_usec(since) if since is not None else None
        self._until = to_usec(until) if until is not None else None
        if self._since is not None and self._until is not None and self._since > self._until:
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
        if poll_interval <= 0:
            raise InvalidCallError("poll_interval must be > 0")
        if user and directory is not None:
            raise InvalidCallError("user reads this machine's journal: not with directory")
        self._user = bool(user)
        self._cursor_arg = cursor if cursor is not None else after_cursor
        self._after_cursor = after_cursor is not None
        self._reverse = reverse
        self._lines = lines
        self._follow = follow
        self._boot = boot
        self._grep = compile_grep(grep) if grep is not None else None
        self._fields: list[bytes] | None = None
        if fields is not None:
            names = [fields] if isinstance(fields, str) else list(fields)
            for name in names:
                if not isinstance(name, str) or not field_valid(name):
                    raise InvalidJournalFieldError(f"invalid field name {name!r}", field=str(name))
            self._fields = [n.encode() for n in dict.fromkeys(names)]
        self._directory = os.fspath(directory) if directory is not None else None
        self.poll_interval = poll_interval
        # ---- reading state
        self._buffer: list[Entry] = []  # reversed: pop() gives the next entry
        self._forward = not reverse
        self._current = False  # the journal stands on an entry not read yet
        self._remaining: int | None = None
        self._error: JournalError | None = None
        self._damaged: list[_files.Damage] = []
        self._damage_reported = False
        # ---- damage found while following, and the cost of waiting
        self._health: _files.Health | None = None
        self._faults = _sigbus.faults()
        self._check_due = False  # the files may have changed: check them at the end
        self._warnings: list[JournalDamageWarning] = []  # to issue after the entries read
        self.skipped_files = 0
        self.skipped_entries = 0
        self._failures = 0  # damaged-entry errors in a row while following
        self._wakeups = 0
        self._idle_polls = 0
        self._open()

    @classmethod
    def for_unit(
        cls,
        name: str,
        *,
        scope: str = "system",
        lines: int | None = 10,
        follow: bool = False,
        **kwargs: Any,
    ) -> Entries:
        """A unit's logs as ``Unit.logs()`` reads them.

        ``scope`` is the unit's manager's (``sd.target.scope``): ``"user"`` reads a user
        unit's logs, ``"remote"`` raises JournalError (the journal is read locally).
        """
        from . import _unit_kwargs

        return cls(**_unit_kwargs(name, scope, lines, follow, kwargs))

    # ------------------------------------------------------------------ opening

    def _open(self) -> None:
        try:
            # the handle and the health check's file reads are bounded local I/O: a Ctrl-C
            # meanwhile is raised once the handle is stored, and closed below (blocking
            # code; before, one landing between sd_journal_open and the store leaked it)
            with CriticalSection():
                self._journal = self._open_journal()
            self._apply_matches(self._journal)
            self._position(self._journal)
            if self._follow:
                # watch from now on, as journalctl does before reading: a file damaged
                # while the first entries are read is then noticed
                self._poll = select.poll()
                self._poll.register(self.fileno(), select.POLLIN)
        except BaseException:
            self.close()
            raise

    def _open_journal(self) -> Journal:
        directory = self._directory
        if directory is None:
            self._health = _files.Health(self._default_files)
            self._found(self._health.check())
            flags = SD_JOURNAL_LOCAL_ONLY | (SD_JOURNAL_CURRENT_USER if self._user else 0)
            journal = Journal.open(flags)
            if journal.usage() == 0:
                journal.close()
                raise self._nothing_to_read(None)
            return journal
        if not os.path.isdir(directory):
            if os.path.exists(directory):
                raise JournalNotFoundError(
                    f"{directory} is not a directory", path=directory, errno=_errno.ENOTDIR,
                    hint="directory= takes a directory of journal files",
                )  # fmt: skip
            raise JournalNotFoundError(
                f"no journal directory {directory}", path=directory, errno=_errno.ENOENT,
                hint="check the path given as directory=",
            )  # fmt: skip
        paths = list(_files.directory_files(directory))
        self._health = _files.Health(lambda: _files.directory_files(directory))
        self._found(self._health.check())
        if self._damaged:  # not following: read what is left of them, then the error
            journal = self._open_with_copies(paths, directory)
        else:  # following: sd-journal leaves damaged files out, and watches the directory
            journal = Journal.open_directory(directory)
        if journal.usage() == 0 and not self._damaged and not self.skipped_files:
            journal.close()
            raise self._nothing_to_read(directory)
        return journal

    def _open_with_copies(self, paths: list[str], directory: str) -> Journal:
        """Damaged files are read from fixed-up copies, the others as they are."""
        bad = {d.path for d in self._damaged}
        fds: list[int] = []
        self._workdir = _files.make_workdir()
        try:
            for path in paths:
                try:
                    if path in bad:
                        fd = _files.readable_copy(path, self._workdir)
                        if fd is not None:
                            fds.append(fd)
                    else:
                        fds.append(os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY))
                except OSError:
                    continue
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        if not fds:
            raise self._damage_error()
        return Journal.open_fds(fds, directory)

    def _default_files(self) -> list[str]:
        """This machine's journal files; with ``user`` the calling user's only (the files
        SD_JOURNAL_CURRENT_USER opens: ``user-UID.journal``, ``user-UID@...``)."""
        paths = list(_files.default_files())
        if not self._user:
            return paths
        uid = os.getuid()
        mine = (f"user-{uid}.", f"user-{uid}@")
        return [p for p in paths if os.path.basename(p).startswith(mine)]

    def _nothing_to_read(self, directory: str | None) -> JournalError:
        paths = list(_files.directory_files(directory)) if directory else self._default_files()
        if directory is None and not paths and not self._user:
            for root in ("/run/log/journal", "/var/log/journal"):
                if os.path.isdir(root) and not os.access(root, os.R_OK | os.X_OK):
                    paths.append(root)
        unreadable = [p for p in paths if not os.access(p, os.R_OK)]
        if unreadable:
            return JournalPermissionError(
                f"no journal files could be opened: {len(unreadable)} exist but may not be read "
                f"by this user (uid {os.getuid()})",
                path=directory or unreadable[0],
                errno=_errno.EACCES,
            )
        if directory is not None:
            return JournalNotFoundError(
                f"no journal files in {directory}", path=directory, errno=_errno.ENOENT,
                hint="journal files end in .journal or .journal~",
            )  # fmt: skip
        if self._user:
            return JournalNotFoundError(
                f"no journal files of user {os.getuid()} (user-{os.getuid()}.journal) in "
                "/run/log/journal or /var/log/journal",
                errno=_errno.ENOENT,
                hint="the system's users (root among them) log into the system journal",
            )
        return JournalNotFoundError(
            "no journal files found in /run/log/journal or /var/log/journal", errno=_errno.ENOENT
        )

    def _found(self, damaged: list[_files.Damage]) -> None:
        """Damaged files found: an error after the entries, or (following) warnings."""
        if not damaged:
            return
        if not (self._follow and self._forward):
            self._damaged += damaged
            return
        cursor = self._read_last.cursor if self._read_last is not None else None
        for d in damaged:
            self.skipped_files += 1
            text = f"journal file {_describe(d)}: ignoring the file, following goes on"
            warning = JournalDamageWarning(text, path=d.path, problem=d.problem, cursor=cursor)
            self._warnings.append(warning)

    def _check_files(self) -> None:
        """At the end of what there is: look for files damaged since the last look."""
        health = self._health
        if health is None:
            return
        if self._follow:  # only when inotify or the SIGBUS handler saw a change
            faults = _sigbus.faults()
            if not self._check_due and faults == self._faults:
                return
            self._faults = faults
            self._check_due = False
        self._found(health.check())

    def _issue_warnings(self) -> None:
        pending, self._warnings = self._warnings, []
        for warning in pending:
            warnings.warn(warning, stacklevel=4)

    def _damage_error(self) -> JournalCorruptError:
        paths = tuple(d.path for d in self._damaged)
        parts = [_describe(d) for d in self._damaged]
        return JournalCorruptError(
            "damaged journal file" + ("s" if len(parts) > 1 else "") + ": " + ", ".join(parts),
            path=paths[0] if paths else None,
            paths=paths,
            errno=_errno.EBADMSG,
            cursor=self._read_last.cursor if self._read_last is not None else None,
        )

    # ------------------------------------------------------------------ matches

    def _apply_matches(self, j: Journal) -> None:
        if self._boot is not None and self._boot is not False:
            boot_id = self._resolve_boot(j)
            j.add_match(f"_BOOT_ID={boot_id}".encode())
            j.add_conjunction()
        if self._units or self._user_units:
            self._add_units(j)
        if self._identifiers:
            for name in self._identifiers:
                j.add_match(f"SYSLOG_IDENTIFIER={name}".encode())
                j.add_disjunction()
            j.add_conjunction()
        if self._priorities is not None and len(set(self._priorities)) < len(PRIORITY_NAMES):
            # journalctl's add_priorities(): all eight levels add no match, so entries
            # without a PRIORITY field (written raw to the native socket) stay in
            for level in self._priorities:
                j.add_match(f"PRIORITY={level}".encode())
            j.add_conjunction()
        for term in self._terms:
            if term == b"+":
                j.add_disjunction()
            else:
                j.add_match(term)

    def _add_units(self, j: Journal) -> None:
        count = 0
        uid = os.getuid()
        for names, user, fields in (
            (self._units, False, SYSTEM_UNIT_FIELDS),
            (self._user_units, True, USER_UNIT_FIELDS),
        ):
            plain = [n for n in names if not is_glob(n)]
            patterns = [n for n in names if is_glob(n)]
            if patterns:
                found: dict[str, None] = {}
                for field in fields:
                    for raw in j.unique(field):
                        value = raw.decode("utf-8", "replace")
                        if any(fnmatchcase(value, p) for p in patterns):
                            found[value] = None
                plain += list(found)
            for name in plain:
                for term in unit_matches(name, user=user, uid=uid):
                    if term == "+":
                        j.add_disjunction()
                    else:
                        j.add_match(term.encode())
                j.add_disjunction()
                count += 1
        if count == 0:
            # journalctl: "Failed to add filter for units: No data available"
            self.no_such_units = True
            self._state = State.DONE
        j.add_conjunction()

    def _resolve_boot(self, j: Journal) -> str:
        boot = self._boot
        if isinstance(boot, str):  # an ID, maybe with an offset from it: in the journal?
            m = _BOOT_ID_RE.fullmatch(boot)
            assert m is not None  # checked in __init__
            boot_id = m["id"].replace("-", "").lower()
            ids = [b for b, _ in self.list_boots(j)]
            index = ids.index(boot_id) + int(m["offset"] or 0) if boot_id in ids else -1
            if not 0 <= index < len(ids):
                raise JournalNotFoundError(
                    f"no boot {boot} in the journal ({len(ids)} boots recorded)",
                    path=self._directory,
                    errno=_errno.ENODATA,
                    hint="see sysd.journal.list_boots()",
                )
            return ids[index]
        offset = 0 if boot is True else int(boot)  # type: ignore[arg-type]
        if offset == 0 and self._directory is None:
            current = _current_boot_id()
            if current:
                return current
        boots = self.list_boots(j)
        index = offset - 1 if offset > 0 else len(boots) - 1 + offset
        if not boots or not 0 <= index < len(boots):
            raise JournalNotFoundError(
                f"no boot {offset:+d} in the journal ({len(boots)} boots recorded)",
                path=self._directory,
                errno=_errno.ENODATA,
                hint="0 is the last boot, -1 the one before; 1 the first",
            )
        return boots[index][0]

    @staticmethod
    def list_boots(j: Journal) -> list[tuple[str, int]]:
        """(boot id, first realtime µs) of every boot in the files, oldest first."""
        boots = []
        for raw in j.unique("_BOOT_ID"):
            boot_id = raw.decode("ascii", "replace")
            j.flush_matches()
            j.add_match(b"_BOOT_ID=" + raw)
            j.seek_head()
            if j.next():
                boots.append((boot_id, j.realtime()))
        j.flush_matches()
        boots.sort(key=lambda b: b[1])
        return boots

    @staticmethod
    def boot_ranges(j: Journal) -> list[tuple[str, int, int]]:
        """(boot id, first and last realtime µs) of every boot in the files, oldest first."""
        ranges = []
        for boot_id, first in Entries.list_boots(j):
            j.add_match(b"_BOOT_ID=" + boot_id.encode())
            j.seek_tail()
            last = j.realtime() if j.previous() else first
            j.flush_matches()
            ranges.append((boot_id, first, last))
        return ranges

    # ----------------------------------------------------------------- position

    def _position(self, j: Journal) -> None:
        if self._state is State.DONE:
            return
        lines = self._lines
        if lines == 0 and not self._follow:  # none, whatever the position (journalctl -n 0)
            self._state = State.DONE
            return
        cursor = self._cursor_arg
        if cursor is not None:
            j.seek_cursor(cursor)
            step = j.next if self._forward else j.previous
            have = step()
            if have and self._after_cursor and j.test_cursor(cursor):
                have = step()
            self._current = have
            self._remaining = None if self._follow else lines
            if not have and not self._follow:
                self._state = State.DONE
            return
        if self._reverse:
            if self._until is not None:
                j.seek_realtime(self._until + 1)
            else:
                j.seek_tail()
            self._current = j.previous()
            self._remaining = lines
            if not self._current:
                self._state = State.DONE
            return
        if lines is None:
            if self._since is not None:
                j.seek_realtime(self._since)
                self._current = j.next()
            else:
                j.seek_head()
                self._current = j.next()
            return
        # the last `lines` entries, then (following) whatever comes
        if lines == 0:
            j.seek_tail()
            j.previous()
            self._current = False
            if not self._follow:
                self._state = State.DONE
            return
        if self._grep is not None:
            self._collect_backward(j, lines)
            return
        if self._until is not None:
            j.seek_realtime(self._until + 1)
        else:
            j.seek_tail()
        self._current = j.previous_skip(lines) > 0
        self._remaining = None if self._follow else lines

    def _collect_backward(self, j: Journal, lines: int) -> None:
        """``grep`` with ``lines``: the last matches, found walking back from the tail."""
        if self._until is not None:
            j.seek_realtime(self._until + 1)
        else:
            j.seek_tail()
        have = j.previous()
        newest = None
        found: list[Entry] = []
        if have:
            probe, _, error = j.read_batch(1, current=True, fields=[b"MESSAGE"])
            newest = probe[0].cursor if probe else None
            if error is not None:
                self._error = error
            matcher = self._matcher()
            current = True
            while len(found) < lines and self._error is None:
                batch, at_end, error = j.read_batch(
                    _BATCH, forward=False, current=current, fields=self._fields,
                    message_filter=matcher,
                )  # fmt: skip
                current = False
                for entry in batch:
                    if self._since is not None and entry.realtime_usec < self._since:
                        at_end = True
                        break
                    found.append(entry)
                    if len(found) == lines:
                        break
                if error is not None:
                    self._error = error
                if at_end:
                    break
        found.reverse()
        self._buffer = found[::-1]
        if not self._follow or self._error is not None:
            self._state = State.DONE
            return
        if newest is not None:
            j.seek_cursor(newest)
            j.next()  # stand on the newest entry seen; the next step reads past it
        else:
            j.seek_tail()
        self._current = False
        self._since = None  # only new entries from here

    def _matcher(self) -> Callable[[bytes | None], bool] | None:
        pattern = self._grep
        if pattern is None:
            return None
        search = pattern.search

        def matches(message: bytes | None) -> bool:
            if message is None:
                return False
            return search(message.decode("utf-8", "surrogateescape")) is not None

        return matches

    # ------------------------------------------------------------------ reading

    def _pull(self, budget: int = _BATCH) -> list[Entry]:
        """Entries available now (maybe none), oldest first; updates :attr:`state`.

        Never waits.  Raises the pending error once the entries before it are out.
        """
        if self._buffer:
            buffered = self._buffer[::-1]
            self._buffer = []
            return buffered
        if self._warnings:
            self._issue_warnings()
        if self._error is not None:
            pending, self._error = self._error, None
            self._state = State.DONE
            self.close()
            raise pending
        j = self._journal
        if self._state is State.DONE or j is None:
            return []
        if self._poll is not None and self._poll.poll(0):
            j.process()  # take in renames and deletions (rotation) before reading on
            self._check_due = True
        if self._follow:  # files damaged since the last step: say so before reading on
            self._check_files()
            if self._warnings:
                self._issue_warnings()
        batch, at_end, error = j.read_batch(
            budget, forward=self._forward, current=self._current, fields=self._fields,
            message_filter=self._matcher(),
        )  # fmt: skip
        self._current = False
        out: list[Entry] = []
        since, until = self._since, self._until
        remaining = self._remaining
        forward = self._forward
        done = False
        if since is None and until is None and (remaining is None or remaining > len(batch)):
            out = batch  # the common case: nothing to check per entry
            if remaining is not None:
                remaining -= len(batch)
            batch = []
        timed = since is not None or until is not None
        for entry in batch:
            if timed:
                rt = entry.realtime_usec
                if forward:
                    if until is not None and rt > until:
                        done = True
                        break
                    if since is not None and rt < since:
                        continue
                else:
                    if since is not None and rt < since:
                        done = True
                        break
                    if until is not None and rt > until:
                        continue
            out.append(entry)
            if remaining is not None:
                remaining -= 1
                if remaining <= 0:
                    done = True
                    break
        self._remaining = remaining
        if out:
            self._read_last = out[-1]
            self._failures = 0
            self._idle_polls = 0
        elif at_end and error is None:
            self._idle_polls += 1
        if error is not None and not done:
            self._error_cursor(error)
            if self._follow and forward and self._failures < _MAX_SKIPS:
                # as journalctl -f: skip it, say so, follow on (a bounded number of
                # times in a row: sd-journal may stand still on it)
                self._failures += 1
                self.skipped_entries += 1
                text = f"{error.text}: skipped, following goes on"
                cursor = getattr(error, "cursor", None)
                warning = JournalDamageWarning(
                    text, path=error.path, problem="damaged entry", cursor=cursor
                )
                self._warnings.append(warning)
                self._state = State.MORE
            else:
                self._error = error
        elif done:
            self._state = State.DONE
        elif at_end:
            self._check_files()
            if self._damaged and not self._damage_reported:
                self._damage_reported = True
                self._error = self._damage_error()
            elif self._follow and forward:
                self._state = State.WAIT
            else:
                self._state = State.DONE
        else:
            self._state = State.MORE
        return out

    def _error_cursor(self, error: JournalError) -> None:
        if isinstance(error, JournalCorruptError) and error.cursor is None:
            error.cursor = self._read_last.cursor if self._read_last is not None else None

    @property
    def cursor(self) -> str | None:
        """The cursor of the last entry returned (None before the first): resume after it
        with ``after_cursor=``."""
        return self._last.cursor if self._last is not None else None

    @property
    def state(self) -> State:
        return self._state

    def statistics(self) -> ReaderStatistics:
        """Counters of what the reader skipped and how often it woke up (trio's habit)."""
        return ReaderStatistics(
            skipped_files=self.skipped_files,
            skipped_entries=self.skipped_entries,
            wakeups=self._wakeups,
            idle_polls=self._idle_polls,
            poll_interval=self._poll_delay(),
            file_checks=self._health.checks if self._health is not None else 0,
        )

    def _poll_delay(self) -> float:
        """How long to wait before polling again (fast while entries arrive)."""
        return poll_delay(self.poll_interval, self._idle_polls)

    # ------------------------------------------------------------------ waiting

    def fileno(self) -> int:
        """sd-journal's inotify descriptor (readable when files change)."""
        if self._fd < 0:
            if self._journal is None:
                raise JournalError("the journal reader is closed")
            self._fd = self._journal.get_fd()
        return self._fd

    def _process(self) -> None:
        """Let sd-journal take in file changes (rotation, new files, deletions)."""
        if self._journal is not None:
            self._journal.process()
            self._check_due = True
            if self._state is State.WAIT:
                self._state = State.MORE

    def _wait(self, timeout: float | None) -> None:
        """Block until the journal may have changed, at most ``timeout`` seconds."""
        j = self._journal
        if j is None:
            return
        if self._poll is None:
            self._poll = select.poll()
            self._poll.register(self.fileno(), select.POLLIN)
        delay = self._poll_delay()
        wait = delay if timeout is None else min(timeout, delay)
        wake = j.timeout_usec()
        if wake != 2**64 - 1:
            wait = min(wait, max(0.0, wake / 1e6 - time.monotonic()))
        events = self._poll.poll(max(0, int(wait * 1000 + 0.999)))
        self._wakeups += 1
        if events or wake != 2**64 - 1:
            self._process()
        self._state = State.MORE

    # ---------------------------------------------------------------- iterating

    def __iter__(self) -> Entries:
        return self

    def __next__(self) -> Entry:
        buffer = self._buffer
        if buffer:
            entry = buffer.pop()
            self._last = entry
            return entry
        while True:
            if self._state is State.DONE and self._error is None:
                self.close()
                raise StopIteration
            entries = self._pull()
            if entries:
                entries.reverse()
                self._buffer = entries
                entry = entries.pop()
                self._last = entry
                return entry
            if self._state is State.WAIT:
                self._wait(None)

    def cutoff_monotonic(self, boot_id: str | None = None) -> tuple[int, int] | None:
        """The first and last monotonic timestamps (µs) of a boot (default: this one)
        in the journal files, matches aside; None when the boot has no entries."""
        boot = boot_id or _current_boot_id()
        if self._journal is None or not boot:
            return None
        return self._journal.cutoff_monotonic(boot.replace("-", ""))

    def wait(self, timeout: float | None = None) -> None:
        """Block until new entries may be there (following), at most ``timeout`` seconds.

        For loops built on :meth:`next_nowait`; returns at once when not following.
        """
        if self._state is State.WAIT:
            self._wait(timeout)

    def next_nowait(self) -> Entry | None:
        """The next entry if one is there now; None when following and caught up.

        Raises ``StopIteration`` at the end (not following).
        """
        buffer = self._buffer
        if buffer:
            entry = buffer.pop()
            self._last = entry
            return entry
        entries = self._pull()
        if entries:
            entries.reverse()
            self._buffer = entries
            entry = entries.pop()
            self._last = entry
            return entry
        if self._state is State.DONE and self._error is None:
            self.close()
            raise StopIteration
        return None

    def close(self) -> None:
        """Release the journal files (idempotent)."""
        if self._poll is not None:
            try:
                self._poll.unregister(self._fd)
            except (KeyError, ValueError, OSError):
                pass
            self._poll = None
        journal, self._journal = self._journal, None
        self._fd = -1
        if journal is not None:
            journal.close()
        workdir, self._workdir = self._workdir, None
        if workdir is not None:
            _files.remove_workdir(workdir)
        if self._state is not State.DONE:
            self._state = State.DONE

    @property
    def closed(self) -> bool:
        return self._journal is None

    def __enter__(self) -> Entries:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        where = self._directory or "the journal"
        return f"<Entries of {where} ({'closed' if self.closed else self._state.value})>"
