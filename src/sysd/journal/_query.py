"""What to read, as journalctl 252 turns its options into sd-journal matches (no I/O).

Matches are lists of journalctl-style terms: ``"FIELD=value"`` strings, with ``"+"``
between alternatives.  Within one alternative, terms of the same field are OR-ed and
terms of different fields AND-ed (sd-journal's rules).  Each option's terms form one
group; groups are AND-ed (``sd_journal_add_conjunction``), in journalctl's order:
boot, units, identifiers, priorities, then the caller's own ``matches``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Final

from .._core.unitname import mangle
from ..errors import InvalidUnitNameError
from ._errors import InvalidJournalFieldError

__all__ = [
    "PRIORITY_NAMES",
    "compile_grep",
    "field_valid",
    "match_terms",
    "priority_levels",
    "unit_matches",
]

PRIORITY_NAMES: Final = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_PRIORITY_ALIASES: Final = {"panic": 0, "error": 3, "warn": 4}

# journalctl's SYSTEM_UNITS / USER_UNITS: every field add_matches_for_[user_]unit() may match.
SYSTEM_UNIT_FIELDS: Final = (
    "_SYSTEMD_UNIT", "COREDUMP_UNIT", "UNIT", "OBJECT_SYSTEMD_UNIT", "_SYSTEMD_SLICE",
)  # fmt: skip
USER_UNIT_FIELDS: Final = (
    "_SYSTEMD_USER_UNIT", "USER_UNIT", "COREDUMP_USER_UNIT", "OBJECT_SYSTEMD_USER_UNIT",
    "_SYSTEMD_USER_SLICE",
)  # fmt: skip
_COREDUMP_MESSAGE_ID: Final = "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1"


def field_valid(name: str, *, allow_protected: bool = True) -> bool:
    """journal_field_valid(): 1-64 of ``A-Z 0-9 _``, not starting with a digit.

    A leading ``_`` marks a trusted field, which clients may not send (``allow_protected``).
    """
    if not 0 < len(name) <= 64 or name[0].isdigit():
        return False
    if not allow_protected and name[0] == "_":
        return False
    return all("A" <= c <= "Z" or "0" <= c <= "9" or c == "_" for c in name)


def unit_matches(unit_name: str, *, user: bool, uid: int | None = None) -> list[str]:
    """The terms ``journalctl -u`` (``--user-unit`` when ``user``) reads a unit's logs with.

    System units: what the unit wrote (``_SYSTEMD_UNIT``), its coredumps, what PID 1 said
    about it (``UNIT``) and what trusted daemons said about it (``OBJECT_SYSTEMD_UNIT``);
    slices also everything in them.  User units: the ``_SYSTEMD_USER_UNIT`` family,
    each limited to ``uid`` (default: the calling user's).  A port of
    ``add_matches_for_unit()`` / ``add_matches_for_user_unit()`` (logs-show.c).

    >>> unit_matches("cron.service", user=False)[:3]
    ['_SYSTEMD_UNIT=cron.service', '+', 'MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1']
    """
    if not user:
        terms = [
            f"_SYSTEMD_UNIT={unit_name}",
            "+", _COREDUMP_MESSAGE_ID, "_UID=0", f"COREDUMP_UNIT={unit_name}",
            "+", "_PID=1", f"UNIT={unit_name}",
            "+", "_UID=0", f"OBJECT_SYSTEMD_UNIT={unit_name}",
        ]  # fmt: skip
        if unit_name.endswith(".slice"):
            terms += ["+", f"_SYSTEMD_SLICE={unit_name}"]
        return terms
    if uid is None:
        import os

        uid = os.getuid()
    muid = f"_UID={uid}"
    terms = [
        f"_SYSTEMD_USER_UNIT={unit_name}", muid,
        "+", f"USER_UNIT={unit_name}", muid,
        "+", f"COREDUMP_USER_UNIT={unit_name}", muid, "_UID=0",
        "+", f"OBJECT_SYSTEMD_USER_UNIT={unit_name}", muid, "_UID=0",
    ]  # fmt: skip
    if unit_name.endswith(".slice"):
        terms += ["+", f"_SYSTEMD_USER_SLICE={unit_name}", muid]
    return terms


def mangle_unit(name: str) -> str:
    """What ``journalctl -u NAME`` looks for: ``foo`` -> ``foo.service``; globs kept."""
    try:
        return mangle(name, glob=True)
    except InvalidUnitNameError as exc:
        raise InvalidJournalFieldError(
            f"invalid unit name {name!r}: {exc.text}", field=name, hint=exc.hint
        ) from None


def is_glob(name: str) -> bool:
    return any(c in name for c in "*?[")


def match_terms(matches: Iterable[str] | str) -> list[bytes]:
    """Check ``FIELD=value`` / ``"+"`` terms; raise InvalidJournalFieldError on a bad one."""
    if isinstance(matches, str):
        matches = [matches]
    out: list[bytes] = []
    for term in matches:
        if isinstance(term, bytes):
            raw = term
        elif isinstance(term, str):
            raw = term.encode()
        else:
            raise InvalidJournalFieldError(
                f"a match must be a 'FIELD=value' string, not {type(term).__name__}"
            )
        if raw == b"+":
            out.append(raw)
            continue
        name, eq, _ = raw.partition(b"=")
        text = name.decode("utf-8", "replace")
        if not eq or not field_valid(text):
            raise InvalidJournalFieldError(
                f"invalid match {raw[:80].decode('utf-8', 'replace')!r}: expected FIELD=value "
                "with FIELD made of A-Z, 0-9 and _ (or '+' between alternatives)",
                field=text,
            )
        out.append(raw)
    while out and out[-1] == b"+":
        out.pop()
    while out and out[0] == b"+":
        out.pop(0)
    return out


def _level(text: str) -> int:
    value = text.strip().lower()
    if value.isdigit() and int(value) <= 7:
        return int(value)
    if value in PRIORITY_NAMES:
        return PRIORITY_NAMES.index(value)
    if value in _PRIORITY_ALIASES:
        return _PRIORITY_ALIASES[value]
    raise InvalidJournalFieldError(
        f"unknown log level {text!r}",
        field="PRIORITY",
        hint="0-7 or " + ", ".join(PRIORITY_NAMES),
    )


def priority_levels(priority: int | str | Sequence[int | str]) -> list[int]:
    """The PRIORITY values ``journalctl -p`` selects.

    A single level means it and everything more important (``"warning"`` -> 0..4);
    ``"err..warning"`` (or a ``(from, to)`` pair) an inclusive range either way round.
    """
    if isinstance(priority, bool):
        raise InvalidJournalFieldError("priority must be a level, not a bool", field="PRIORITY")
    if isinstance(priority, int):
        if not 0 <= priority <= 7:
            raise InvalidJournalFieldError(
                f"priority {priority} is not a level 0-7", field="PRIORITY"
            )
        return list(range(priority + 1))
    if isinstance(priority, str):
        if ".." in priority:
            lo, _, hi = priority.partition("..")
            a, b = _level(lo), _level(hi)
        else:
            return list(range(_level(priority) + 1))
    else:
        pair = list(priority)
        if len(pair) != 2:
            raise InvalidJournalFieldError(
                "a priority range is a (from, to) pair", field="PRIORITY"
            )
        a, b = (_level(str(p)) for p in pair)
    return list(range(min(a, b), max(a, b) + 1))


def compile_grep(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """``journalctl -g``: a regex searched in MESSAGE; case-insensitive unless it has capitals.

    Capitals are what journalctl 252's check ``[[:upper:]]`` finds with Unicode
    properties: any uppercase letter (``\\p{Lu}``), ``É`` as well as ``E``.
    (journalctl uses PCRE2; Python's :mod:`re` agrees on everyday patterns.)
    """
    if isinstance(pattern, re.Pattern):
        return pattern
    has_capitals = any(unicodedata.category(c) == "Lu" for c in pattern)
    flags = 0 if has_capitals else re.IGNORECASE
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise InvalidJournalFieldError(
            f"invalid grep pattern {pattern!r}: {exc}", field="MESSAGE"
        ) from None
