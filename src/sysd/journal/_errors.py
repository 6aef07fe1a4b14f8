"""The journal's errors (they live in :mod:`sysd.errors` with the rest of the tree) and
its one warning."""

from __future__ import annotations

from ..errors import (
    InvalidJournalFieldError,
    InvalidTimestampError,
    JournalCorruptError,
    JournalError,
    JournalNotFoundError,
    JournalPermissionError,
    LibsystemdNotFoundError,
)

__all__ = [
    "InvalidJournalFieldError",
    "InvalidTimestampError",
    "JournalCorruptError",
    "JournalDamageWarning",
    "JournalError",
    "JournalNotFoundError",
    "JournalPermissionError",
    "LibsystemdNotFoundError",
]


class JournalDamageWarning(UserWarning):
    """A follower skipped a damaged journal file (or entry) and goes on following.

    journalctl -f skips such files too ("Journal file ... corrupted, ignoring file");
    a reader that is not following raises :class:`JournalCorruptError` instead.
    ``path`` is the file (None when not known), ``problem`` what is wrong with it,
    ``cursor`` the cursor of the last entry returned before (None when there was none).
    The reader counts them: ``Entries.statistics().skipped_files`` / ``skipped_entries``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        problem: str | None = None,
        cursor: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.problem = problem
        self.cursor = cursor
