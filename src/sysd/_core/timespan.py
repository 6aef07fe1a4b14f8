"""Time spans, exactly as systemd 252 parses and prints them (no I/O).

A port of the time-span parts of ``src/basic/time-util.c``: ``parse_time``
(and its wrappers ``parse_sec``, ``parse_sec_fix_0``,
``parse_sec_def_infinity``, ``parse_nsec``), ``format_timespan``,
``format_timestamp_style(..., TIMESTAMP_UTC)`` and the saturating ``usec_*``
arithmetic.

Two layers:

* the primitives work on integers the way systemd and D-Bus do: microseconds
  (or nanoseconds) in an unsigned 64-bit range, with ``USEC_INFINITY``
  (``2**64 - 1``) for "infinity" -- :func:`parse_usec`, :func:`format_usec`;
* the Python layer on top uses :class:`~datetime.timedelta`, with ``None``
  for infinity -- :func:`parse`, :func:`format`.

Text that does not parse raises :class:`~sysd.errors.InvalidTimespanError`
(a ``ValueError``) naming the text and what is wrong with it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from ..errors import InvalidTimespanError

__all__ = [
    "NSEC_INFINITY",
    "NSEC_PER_DAY",
    "NSEC_PER_HOUR",
    "NSEC_PER_MINUTE",
    "NSEC_PER_MONTH",
    "NSEC_PER_MSEC",
    "NSEC_PER_SEC",
    "NSEC_PER_USEC",
    "NSEC_PER_WEEK",
    "NSEC_PER_YEAR",
    "USEC_INFINITY",
    "USEC_PER_DAY",
    "USEC_PER_HOUR",
    "USEC_PER_MINUTE",
    "USEC_PER_MONTH",
    "USEC_PER_MSEC",
    "USEC_PER_SEC",
    "USEC_PER_WEEK",
    "USEC_PER_YEAR",
    "USEC_TIMESTAMP_FORMATTABLE_MAX",
    "format",
    "format_timestamp_utc",
    "format_usec",
    "parse",
    "parse_nsec",
    "parse_sec_def_infinity",
    "parse_sec_fix_0",
    "parse_usec",
    "to_timedelta",
    "to_usec",
    "usec_add",
    "usec_sub_signed",
    "usec_sub_unsigned",
]

USEC_INFINITY: Final = 0xFFFFFFFFFFFFFFFF
NSEC_INFINITY: Final = 0xFFFFFFFFFFFFFFFF

USEC_PER_MSEC: Final = 1_000
USEC_PER_SEC: Final = 1_000_000
USEC_PER_MINUTE: Final = 60 * USEC_PER_SEC
USEC_PER_HOUR: Final = 60 * USEC_PER_MINUTE
USEC_PER_DAY: Final = 24 * USEC_PER_HOUR
USEC_PER_WEEK: Final = 7 * USEC_PER_DAY
USEC_PER_MONTH: Final = 2_629_800 * USEC_PER_SEC  # 30.44 days
USEC_PER_YEAR: Final = 31_557_600 * USEC_PER_SEC  # 365.25 days

NSEC_PER_USEC: Final = 1_000
NSEC_PER_MSEC: Final = 1_000_000
NSEC_PER_SEC: Final = 1_000_000_000
NSEC_PER_MINUTE: Final = 60 * NSEC_PER_SEC
NSEC_PER_HOUR: Final = 60 * NSEC_PER_MINUTE
NSEC_PER_DAY: Final = 24 * NSEC_PER_HOUR
NSEC_PER_WEEK: Final = 7 * NSEC_PER_DAY
NSEC_PER_MONTH: Final = 2_629_800 * NSEC_PER_SEC
NSEC_PER_YEAR: Final = 31_557_600 * NSEC_PER_SEC

#: The last moment format_timestamp prints (9999-12-30 23:59:59 UTC, 64-bit time_t).
USEC_TIMESTAMP_FORMATTABLE_MAX: Final = 253_402_214_399_000_000

_INT64_MAX: Final = (1 << 63) - 1
_ONE_USEC: Final = timedelta(microseconds=1)

# extract_multiplier(): first match wins, in this order ("ms" before "m", ...).
_USEC_UNITS: Final[tuple[tuple[str, int], ...]] = (
    ("seconds", USEC_PER_SEC),
    ("second", USEC_PER_SEC),
    ("sec", USEC_PER_SEC),
    ("s", USEC_PER_SEC),
    ("minutes", USEC_PER_MINUTE),
    ("minute", USEC_PER_MINUTE),
    ("min", USEC_PER_MINUTE),
    ("months", USEC_PER_MONTH),
    ("month", USEC_PER_MONTH),
    ("M", USEC_PER_MONTH),
    ("msec", USEC_PER_MSEC),
    ("ms", USEC_PER_MSEC),
    ("m", USEC_PER_MINUTE),
    ("hours", USEC_PER_HOUR),
    ("hour", USEC_PER_HOUR),
    ("hr", USEC_PER_HOUR),
    ("h", USEC_PER_HOUR),
    ("days", USEC_PER_DAY),
    ("day", USEC_PER_DAY),
    ("d", USEC_PER_DAY),
    ("weeks", USEC_PER_WEEK),
    ("week", USEC_PER_WEEK),
    ("w", USEC_PER_WEEK),
    ("years", USEC_PER_YEAR),
    ("year", USEC_PER_YEAR),
    ("y", USEC_PER_YEAR),
    ("usec", 1),
    ("us", 1),
    ("\u03bcs", 1),  # GREEK SMALL LETTER MU
    ("\u00b5s", 1),  # MICRO SIGN
)
# extract_nsec_multiplier(): the same words in nanoseconds, plus "nsec"/"ns".
_NSEC_UNITS: Final[tuple[tuple[str, int], ...]] = (
    *((word, mult * NSEC_PER_USEC) for word, mult in _USEC_UNITS),
    ("nsec", 1),
    ("ns", 1),
)


def _unit_regex(units: tuple[tuple[str, int], ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(word) for word, _ in units))


_USEC_UNIT_RE: Final = _unit_regex(_USEC_UNITS)
_USEC_UNIT_MAP: Final = dict(_USEC_UNITS)
_NSEC_UNIT_RE: Final = _unit_regex(_NSEC_UNITS)
_NSEC_UNIT_MAP: Final = dict(_NSEC_UNITS)

_WHITESPACE_RE: Final = re.compile(r"[ \t\n\r]*")  # systemd's WHITESPACE
# What strtoll(p, &e, 10) consumes: isspace() (which adds \v and \f), a sign, digits.
_STRTOLL_RE: Final = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)")
_DIGITS_RE: Final = re.compile(r"[0-9]*")
_INFINITY_RE: Final = re.compile(r"[ \t\n\r]*infinity([ \t\n\r]*)")
_UNITS_HINT: Final = "units: us, ms, s, min, h, d, w, M (30.44 d), y (365.25 d); default seconds"


# ------------------------------------------------------------------ parsing


def _error(text: str, problem: str, hint: str | None = None) -> InvalidTimespanError:
    return InvalidTimespanError(f"invalid time span {text!r}: {problem}", hint=hint)


def _parse(
    text: str,
    default_unit: int,
    unit_re: re.Pattern[str],
    unit_map: dict[str, int],
    infinity: int,
    limit_text: str,
) -> int:
    """parse_time() / parse_nsec(): the integer value, *infinity* for "infinity"."""
    m = _INFINITY_RE.match(text)
    if m is not None:
        if m.end() != len(text):
            raise _error(text, "'infinity' cannot be combined with anything else")
        return infinity

    n = len(text)
    total = 0
    something = False
    p = 0
    while True:
        p = _WHITESPACE_RE.match(text, p).end()  # type: ignore[union-attr]
        if p == n:
            if not something:
                raise _error(text, "it is empty", hint=_UNITS_HINT)
            return total
        if text[p] == "-":
            raise _error(text, "negative time spans are not allowed")

        num = _STRTOLL_RE.match(text, p)
        if num is not None:
            value = int(num.group(2))
            if value > _INT64_MAX:
                raise _error(text, f"it is too large (the limit is just under {limit_text})")
            if num.group(1) == "-" and value:  # "\v-0" slips through strtoll() as 0
                raise _error(text, "negative time spans are not allowed")
            e = num.end()
        else:
            value = 0
            e = p

        frac_start = frac_end = -1
        if e < n and text[e] == ".":
            frac_start = e + 1
            frac_end = p = _DIGITS_RE.match(text, frac_start).end()  # type: ignore[union-attr]
        elif e == p:
            raise _error(
                text, f"expected a number at position {p + 1}, found {text[p]!r}", hint=_UNITS_HINT
            )
        else:
            p = e

        q = _WHITESPACE_RE.match(text, p).end()  # type: ignore[union-attr]
        unit = unit_re.match(text, q)
        if unit is not None:
            multiplier = unit_map[unit.group()]
            s = unit.end()
        else:
            multiplier = default_unit
            s = q
        if s == p and s < n:  # no unit and no space: "12.34.56", "5x"
            raise _error(text, f"unexpected {text[s]!r} at position {s + 1}", hint=_UNITS_HINT)
        p = s

        if value >= infinity // multiplier:
            raise _error(text, f"it is too large (the limit is just under {limit_text})")
        k = value * multiplier
        if k >= infinity - total:
            raise _error(text, f"it is too large (the limit is just under {limit_text})")
        total += k
        something = True

        if frac_start >= 0:
            m10 = multiplier // 10
            for i in range(frac_start, frac_end):
                if not m10:  # digits below the resolution add nothing
                    break
                k = (ord(text[i]) - 48) * m10
                if k >= infinity - total:
                    raise _error(text, f"it is too large (the limit is just under {limit_text})")
                total += k
                m10 //= 10
            if frac_end == frac_start:  # "3.", "3.s", "0.-0", "3. 1"
                raise _error(text, f"'.' at position {frac_start} is not followed by a digit")


def parse_usec(text: str, default_unit: int = USEC_PER_SEC) -> int:
    """Parse a time span into microseconds (parse_time).

    A sum of numbers with units (``"1h 30min"``, ``"5s500ms"``, ``" .5y "``);
    numbers without a unit count in *default_unit* microseconds (seconds by
    default, like ``parse_sec``).  ``"infinity"`` gives :data:`USEC_INFINITY`.

    >>> parse_usec("1.5s"), parse_usec("5", default_unit=USEC_PER_MSEC)
    (1500000, 5000)
    """
    if default_unit <= 0:
        raise ValueError(
            f"default_unit must be a positive number of microseconds, not {default_unit}"
        )
    return _parse(text, default_unit, _USEC_UNIT_RE, _USEC_UNIT_MAP, USEC_INFINITY, "584542 years")


def parse_sec_fix_0(text: str) -> int:
    """Like :func:`parse_usec`, but 0 means infinity (parse_sec_fix_0: timeouts where 0 = none)."""
    value = parse_usec(text)
    return USEC_INFINITY if value == 0 else value


def parse_sec_def_infinity(text: str) -> int:
    """Like :func:`parse_usec`, but an empty or blank string means infinity.

    (parse_sec_def_infinity)
    """
    if not text.lstrip(" \t\n\r"):
        return USEC_INFINITY
    return parse_usec(text)


def parse_nsec(text: str) -> int | None:
    """Parse a time span into nanoseconds (parse_nsec); a bare number counts nanoseconds.

    ``"infinity"`` gives None.

    >>> parse_nsec("1.5us"), parse_nsec("20"), parse_nsec("infinity")
    (1500, 20, None)
    """
    value = _parse(text, 1, _NSEC_UNIT_RE, _NSEC_UNIT_MAP, NSEC_INFINITY, "584 years")
    return None if value == NSEC_INFINITY else value


def parse(text: str) -> timedelta | None:
    """Parse a time span as systemd does for ``TimeoutSec=`` and friends (parse_sec).

    A bare number counts seconds; ``"infinity"`` gives None.

    >>> parse("1h 30min"), parse("infinity")
    (datetime.timedelta(seconds=5400), None)
    """
    return to_timedelta(parse_usec(text))


# ------------------------------------------------------------ conversions


def to_timedelta(usec: int) -> timedelta | None:
    """Microseconds -> timedelta; :data:`USEC_INFINITY` -> None."""
    if usec == USEC_INFINITY:
        return None
    return timedelta(microseconds=usec)


def to_usec(value: timedelta | int | None) -> int:
    """timedelta (or int microseconds) -> microseconds; None -> :data:`USEC_INFINITY`.

    Raises InvalidTimespanError for negative values and values past the 64-bit range.
    """
    if value is None:
        return USEC_INFINITY
    usec = value // _ONE_USEC if isinstance(value, timedelta) else value
    if not 0 <= usec <= USEC_INFINITY:
        raise InvalidTimespanError(
            f"invalid time span {value!r}: systemd time spans are between 0 and "
            f"{USEC_INFINITY} microseconds"
        )
    return usec


# ------------------------------------------------------------------ formatting


def _decimal_digits(n: int) -> int:
    """How often C's ``for (cc = n; cc > 1; cc /= 10)`` loops (6 for 1000000)."""
    count = 0
    while n > 1:
        n //= 10
        count += 1
    return count


# format_timespan(): suffix, microseconds, digits after the dot in dot notation
_FORMAT_UNITS: Final[tuple[tuple[str, int, int], ...]] = tuple(
    (word, unit, _decimal_digits(unit))
    for word, unit in (
        ("y", USEC_PER_YEAR),
        ("month", USEC_PER_MONTH),
        ("w", USEC_PER_WEEK),
        ("d", USEC_PER_DAY),
        ("h", USEC_PER_HOUR),
        ("min", USEC_PER_MINUTE),
        ("s", USEC_PER_SEC),
        ("ms", USEC_PER_MSEC),
        ("us", 1),
    )
)


def format_usec(usec: int, accuracy: int = 1, *, bufsize: int | None = None) -> str:
    """Format microseconds as systemd does (format_timespan).

    Units from years down to microseconds, parts smaller than *accuracy*
    dropped; below one minute a fraction is used (``"1.234567s"``).  The text
    parses back with :func:`parse_usec`.  *bufsize* reproduces C's truncation
    into a buffer of that many bytes (NUL included); by default nothing is cut.

    >>> format_usec(5_400_000_000), format_usec(1_234_567, accuracy=USEC_PER_MSEC)
    ('1h 30min', '1.234s')
    """
    if not 0 <= usec <= USEC_INFINITY:
        raise InvalidTimespanError(
            f"invalid time span {usec!r}: systemd time spans are between 0 and "
            f"{USEC_INFINITY} microseconds"
        )
    if accuracy < 0:
        raise ValueError(f"accuracy must not be negative, not {accuracy}")
    room = 1 << 30 if bufsize is None else bufsize
    if room <= 0:
        raise ValueError(f"bufsize must be positive, not {bufsize}")

    if usec == USEC_INFINITY:
        return "infinity"[: room - 1]
    if usec == 0:
        return "0"[: room - 1]

    t = usec
    parts: list[str] = []
    accuracy_digits = _decimal_digits(accuracy)
    for unit_suffix, unit, unit_digits in _FORMAT_UNITS:
        if t <= 0 or (t < accuracy and parts):
            break
        if t < unit:
            continue
        if room <= 1:
            break
        a, b = divmod(t, unit)
        sep = " " if parts else ""
        text = None
        if t < USEC_PER_MINUTE and b > 0:
            # dot notation, cut to the accuracy
            digits = unit_digits - accuracy_digits
            if digits > 0:
                b //= 10**accuracy_digits
                text = f"{sep}{a}.{b:0{digits}d}{unit_suffix}"
                t = 0
        if text is None:
            text = f"{sep}{a}{unit_suffix}"
            t = b
        take = min(len(text), room - 1)
        parts.append(text[:take])
        room -= take
    return "".join(parts)


def format(value: timedelta | int | None, accuracy: timedelta | int = _ONE_USEC) -> str:
    """Format a time span as systemd prints it (``systemctl show``, ``systemd-analyze``).

    *value* is a timedelta, int microseconds, or None for infinity; parts
    finer than *accuracy* are dropped.

    >>> format(timedelta(hours=1, minutes=30)), format(None)
    ('1h 30min', 'infinity')
    >>> format(timedelta(seconds=1.234567), accuracy=timedelta(milliseconds=1))
    '1.234s'
    """
    acc = accuracy // _ONE_USEC if isinstance(accuracy, timedelta) else accuracy
    return format_usec(to_usec(value), acc)


_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def format_timestamp_utc(usec: int, *, us: bool = False) -> str | None:
    """Format a realtime timestamp in UTC (format_timestamp_style, TIMESTAMP_[US_]UTC).

    ``"Thu 1970-01-01 00:00:01 UTC"``; with ``us=True`` microseconds are
    added (``"... 00:00:01.000000 UTC"``).  None for 0 and infinity
    (systemd's "unset"), ``"--- XXXX-XX-XX XX:XX:XX"`` past the year 9999.
    """
    if usec <= 0 or usec >= USEC_INFINITY:
        return None
    if usec > USEC_TIMESTAMP_FORMATTABLE_MAX:
        return "--- XXXX-XX-XX XX:XX:XX"
    seconds, micro = divmod(usec, USEC_PER_SEC)
    dt = _EPOCH + timedelta(seconds=seconds)
    text = f"{_WEEKDAYS[dt.weekday()]} {dt:%Y-%m-%d %H:%M:%S}"
    if us:
        text += f".{micro:06d}"
    return text + " UTC"


# ------------------------------------------------------------------ arithmetic


def usec_add(a: int, b: int) -> int:
    """a + b, saturating at :data:`USEC_INFINITY` (usec_add). Both in 0..USEC_INFINITY."""
    return USEC_INFINITY if a > USEC_INFINITY - b else a + b


def usec_sub_unsigned(timestamp: int, delta: int) -> int:
    """timestamp - delta, floored at 0; infinity stays infinity (usec_sub_unsigned)."""
    if timestamp == USEC_INFINITY:
        return USEC_INFINITY
    return 0 if timestamp < delta else timestamp - delta


def usec_sub_signed(timestamp: int, delta: int) -> int:
    """timestamp - delta for a signed 64-bit *delta*, saturating both ways (usec_sub_signed)."""
    if delta < 0:
        return usec_add(timestamp, -delta)
    return usec_sub_unsigned(timestamp, delta)
