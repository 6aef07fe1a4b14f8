"""The journal's errors: they live in :mod:`sysd.errors` with the rest of the tree."""

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
    "JournalError",
    "JournalNotFoundError",
    "JournalPermissionError",
    "LibsystemdNotFoundError",
]
