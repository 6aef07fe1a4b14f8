"""Timestamps as ``journalctl --since/--until`` take them (no I/O but the clock and the zone).

A port of ``parse_timestamp()`` from systemd 252's ``src/basic/time-util.c``::

    2012-09-22 16:34:22[.123456]   12-09-22 16:34   2012-09-22   16:34:22   16:34
    Sep 22 16:34:22                 (the short output format; this year)
    now  today  yesterday  tomorrow
    +5min  -5days  "3h ago"  "2h left"
    @1348324462[.5]                 (seconds since the epoch)
    Sat 2012-09-22 16:34:22         (a weekday, checked)
    ... UTC  /  ... Europe/Berlin   (a zone suffix; otherwise local time)

Differences from systemd: month names are always English (``LC_TIME=C``), and a
named zone is looked up with :mod:`zoneinfo` rather than in a forked child.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Final

from .._core.timespan import USEC_PER_SEC, USEC_TIMESTAMP_FORMATTABLE_MAX, parse_usec
from ..errors import InvalidTimespanError
from ._errors import InvalidTimestampError

__all__ = ["parse_timestamp", "to_usec"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

_DAYS: Final = {
    "sunday": 0, "sun": 0, "monday": 1, "mon": 1, "tuesday": 2, "tue": 2,
    "wednesday": 3, "wed": 3, "thursday": 4, "thu": 4, "friday": 5, "fri": 5,
    "saturday": 6, "sat": 6,
}  # fmt: skip
_MONTHS: Final = {
    name: i + 1
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_FULL_MONTHS: Final = {
    "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip

_ZONE_WORD: Final = re.compile(r"[A-Za-z][A-Za-z0-9_+/-]*")
_N2 = r"\s*(\d{1,2})"
_DATE = r"\s*(\d+)-(\d{1,2})-(\d{1,2})"
_HMS = rf"{_N2}:{_N2}:{_N2}"
_HM = rf"{_N2}:{_N2}"
_FRAC = r"(?:\.(\d+))?"
# (regex, has date, has seconds, fraction allowed) in the order systemd tries its strptime()s
_FORMATS: Final = [
    (re.compile(rf"{_DATE}\s+{_HMS}{_FRAC}"), "ymd", True),
    (re.compile(rf"\s*([A-Za-z]+){_N2}\s+{_HMS}{_FRAC}"), "bd", True),
    (re.compile(rf"{_DATE}\s+{_HM}"), "ymd", False),
    (re.compile(rf"{_DATE}"), "ymd-only", False),
    (re.compile(rf"{_HMS}{_FRAC}"), "hms", True),
    (re.compile(rf"{_HM}"), "hm", False),
]


def _fail(text: str, why: str) -> InvalidTimestampError:
    return InvalidTimestampError(
        f"invalid timestamp {text!r}: {why}",
        value=text,
        hint='e.g. "2024-05-01 10:00:00", "yesterday", "-1h", "@1714550400"',
    )


def _span(text: str, original: str) -> int:
    try:
        return parse_usec(text)
    except InvalidTimespanError as exc:
        raise _fail(original, f"bad time span ({exc.text})") from None


def _fraction(digits: str | None) -> int:
    """parse_fractional_part_u(…, 6): six digits, padded, rounded by the seventh."""
    if not digits:
        return 0
    value = int(digits[:6].ljust(6, "0"))
    if len(digits) > 6 and digits[6] >= "5":
        value += 1
    return value


def _year(text: str) -> int:
    """strptime's %y for two digits (69-99 -> 19xx, 00-68 -> 20xx), %Y otherwise."""
    value = int(text)
    if len(text) <= 2:
        return value + (1900 if value >= 69 else 2000)
    return value


def _month(name: str) -> int | None:
    """strptime's %b: an English month name, abbreviated or full, any case."""
    low = name.lower()
    return _MONTHS.get(low) or _FULL_MONTHS.get(low)


def _local_zone_suffix(text: str) -> tuple[str, int]:
    """Cut a trailing local zone abbreviation (``tzname``) as systemd does; with it, whether
    it names daylight saving time (1: ``CEST``) or not (0: ``CET``), else -1: mktime()
    is told so (``tm_isdst``), and "23:00 CEST" is 21:00 UTC also in winter."""
    time.tzset()
    low = text.lower()
    for dst, name in enumerate(time.tzname):
        if name and low.endswith(" " + name.lower()) and len(text) > len(name) + 1:
            return text[: -len(name) - 1], dst
    return text, -1


def parse_timestamp(text: str, *, now_usec: int | None = None) -> int:
    """Microseconds since the epoch for a systemd timestamp (``parse_timestamp()``).

    >>> parse_timestamp("@1.5")
    1500000
    >>> parse_timestamp("2012-09-22 16:34:22 UTC")
    1348331662000000
    """
    original = text
    if not isinstance(text, str):
        raise TypeError(f"a timestamp must be a str, not {type(text).__name__}")
    now = time.time_ns() // 1000 if now_usec is None else now_usec
    if text.startswith("@"):
        return _span(text[1:], original)
    if text == "now":
        return now
    if text.startswith("+"):
        return _bounded(now + _span(text[1:], original), original)
    if text.startswith("-"):
        return _bounded(now - _span(text[1:], original), original)
    if text.endswith(" ago"):
        return _bounded(now - _span(text[:-4], original), original)
    if text.endswith(" left"):
        return _bounded(now + _span(text[:-5], original), original)

    zone: object = None  # None: local time; UTC; or a ZoneInfo
    isdst = -1  # local time: whether a zone abbreviation said DST
    if text.lower().endswith(" utc"):
        zone, text = UTC, text[:-4]
    else:
        last = text.rfind(" ")
        if last >= 0 and _ZONE_WORD.fullmatch(text[last + 1 :]):
            found = _zoneinfo(text[last + 1 :])
            if found is not None:
                zone, text = found, text[:last]
        if zone is None:
            text, isdst = _local_zone_suffix(text)

    now_dt = _now_in(now, zone)
    midnight = now_dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if text in ("today", "yesterday", "tomorrow"):
        day = {"today": 0, "yesterday": -1, "tomorrow": 1}[text]
        target = midnight.date() + timedelta(days=day)
        return _from_fields(
            original, zone, target.year, target.month, target.day, 0, 0, 0, 0, -1, isdst
        )

    weekday = -1
    head, sep, rest = text.partition(" ")
    if sep and head.lower() in _DAYS:
        weekday = _DAYS[head.lower()]
        text = rest

    for regex, kind, _ in _FORMATS:
        m = regex.fullmatch(text)
        if m is None:
            continue
        g = m.groups()
        if kind == "ymd":
            year, month, day = _year(g[0]), int(g[1]), int(g[2])
            hour, minute = int(g[3]), int(g[4])
            second = int(g[5]) if len(g) > 6 else 0
            usec = _fraction(g[6]) if len(g) > 6 else 0
        elif kind == "bd":
            maybe = _month(g[0])
            if maybe is None:
                continue
            year, month, day = now_dt.year, maybe, int(g[1])
            hour, minute, second, usec = int(g[2]), int(g[3]), int(g[4]), _fraction(g[5])
        elif kind == "ymd-only":
            year, month, day = _year(g[0]), int(g[1]), int(g[2])
            hour = minute = second = usec = 0
        elif kind == "hms":
            year, month, day = now_dt.year, now_dt.month, now_dt.day
            hour, minute, second, usec = int(g[0]), int(g[1]), int(g[2]), _fraction(g[3])
        else:  # hm
            year, month, day = now_dt.year, now_dt.month, now_dt.day
            hour, minute, second, usec = int(g[0]), int(g[1]), 0, 0
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59):
            raise _fail(original, "a field is out of range")
        if second > 61:
            raise _fail(original, "a field is out of range")
        return _from_fields(
            original, zone, year, month, day, hour, minute, second, usec, weekday, isdst
        )
    raise _fail(original, "not a date, a time, a relative time or @seconds")


def _zoneinfo(name: str) -> object | None:
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover - Python without zoneinfo
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _now_in(now_usec: int, zone: object) -> datetime:
    moment = _EPOCH + timedelta(microseconds=now_usec)
    if zone is None:
        return moment.astimezone()
    return moment.astimezone(zone)  # type: ignore[arg-type]


def _from_fields(
    original: str,
    zone: object,
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    usec: int,
    weekday: int,
    isdst: int = -1,
) -> int:
    """mktime()/timegm() with normalisation (day 31 of a 30-day month rolls over, as in C)."""
    if zone is UTC:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    elif zone is None:
        try:
            seconds = int(time.mktime((year, month, day, hour, minute, second, 0, 0, isdst)))
        except (OverflowError, ValueError):
            raise _fail(original, "out of range") from None
    else:
        base = datetime(year, month, 1, tzinfo=zone)  # type: ignore[arg-type]
        naive = base + timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second)
        seconds = int(naive.replace(tzinfo=zone).timestamp())  # type: ignore[arg-type]
    if seconds < 0:
        raise _fail(original, "before 1970")
    if weekday >= 0:
        wday = (datetime.fromtimestamp(seconds, UTC).weekday() + 1) % 7  # Sunday = 0
        if zone is None:
            wday = (time.localtime(seconds).tm_wday + 1) % 7
        elif zone is not UTC:
            wday = (datetime.fromtimestamp(seconds, zone).weekday() + 1) % 7  # type: ignore[arg-type]
        if wday != weekday:
            raise _fail(original, "the weekday does not match the date")
    return _bounded(seconds * USEC_PER_SEC + usec, original)


def _bounded(usec: int, original: str) -> int:
    if usec < 0:
        raise _fail(original, "before 1970")
    if usec > USEC_TIMESTAMP_FORMATTABLE_MAX:
        raise _fail(original, "after the year 9999")
    return usec


def to_usec(value: datetime | str, *, now_usec: int | None = None) -> int:
    """A ``since``/``until`` value as microseconds since the epoch.

    An aware :class:`~datetime.datetime` is taken as is, a naive one as local time
    (as :meth:`datetime.timestamp` does); text goes through :func:`parse_timestamp`.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.astimezone()
        return (value - _EPOCH) // timedelta(microseconds=1)
    if isinstance(value, str):
        return parse_timestamp(value, now_usec=now_usec)
    raise TypeError(f"expected a datetime or a timestamp string, not {type(value).__name__}")
