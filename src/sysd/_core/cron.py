"""Cron expressions -> systemd calendar specifications (``OnCalendar=``).

Supported syntax (Vixie cron / cronie, as in ``crontab(5)``):

* 5 fields ``minute hour day-of-month month day-of-week``, or 6 fields with
  **seconds first** (``second minute hour day-of-month month day-of-week``,
  the order cronsim and Quartz-style tools use, without a year field);
* ``*``, numbers, ranges ``a-b``, lists ``a,b``, steps ``*/n``, ``a-b/n``
  and ``a/n`` (= ``a-max/n``);
* month names ``jan``..``dec`` and day names ``sun``..``sat`` (any case),
  also inside ranges; Sunday is 0 or 7;
* ``@yearly``/``@annually``, ``@monthly``, ``@weekly``, ``@daily``/``@midnight``,
  ``@hourly``.  ``@reboot`` has no calendar equivalent: use ``OnBootSec=``.

Cron's day rule: when both day-of-month and day-of-week are restricted
(neither field starts with ``*``) a job runs when *either* matches; systemd
requires all components to match, so such an expression becomes two
``OnCalendar=`` lines (a timer fires on the union of its lines).  When either
field starts with ``*`` (even ``*/2``) cron requires both, exactly like
systemd, and one line suffices.

Time zones: cron and systemd both use local wall-clock time, but handle
daylight-saving transitions differently.  Debian's cron runs fixed-time jobs
whose time is skipped by a spring-forward jump right after the jump, and
runs them once in a repeated hour; systemd skips a wall time that does not
exist and also runs once when it repeats.  Away from transitions the
translation is exact (the tests compare 60 firings of 40+ expressions with
cronsim).

Non-standard extensions (``L``, ``W``, ``#``, ``?``, ``H``, random ``~``) are
refused with an error that says how to write the schedule for systemd.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from ..errors import InvalidCronExpressionError
from .calendar import (
    USEC_PER_SEC,
    CalendarSpec,
    _datetime_to_usec,
    _usec_to_datetime,
    utc_to_wall,
    wall_to_utc,
)

__all__ = [
    "CronExpression",
    "explain",
    "timer_unit",
    "to_calendar",
]

_MONTHS: Final = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_DOWS: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTH_FULL: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DOW_FULL: Final = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_SD_DOW: Final = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")

_MACROS: Final = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    lo: int
    hi: int
    names: tuple[str, ...] = ()
    name_base: int = 0


_SECOND: Final = _Field("second", 0, 59)
_MINUTE: Final = _Field("minute", 0, 59)
_HOUR: Final = _Field("hour", 0, 23)
_DOM: Final = _Field("day-of-month", 1, 31)
_MONTH: Final = _Field("month", 1, 12, _MONTHS, 1)
_DOW: Final = _Field("day-of-week", 0, 7, _DOWS, 0)

_ITEM_RE: Final = re.compile(r"(\*|[0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?(?:/([0-9]+))?")


def _fail(expression: str, what: str, hint: str | None = None) -> InvalidCronExpressionError:
    return InvalidCronExpressionError(f"invalid cron expression {expression!r}: {what}", hint=hint)


def _value(expression: str, field: _Field, token: str) -> int:
    low = token.lower()
    if field.names and low in field.names:
        return field.names.index(low) + field.name_base
    if not token.isdigit():
        hint = None
        if any(c in token.upper() for c in "LW#?") and field in (_DOM, _DOW):
            hint = (
                "L/W/# are not standard cron; in systemd write e.g. *-*~01 for the last day "
                "of the month or Fri *-*~01..07 for the last Friday"
            )
        elif field.names:
            hint = f"names: {', '.join(field.names)}"
        raise _fail(expression, f"bad {field.name} value {token!r}", hint)
    v = int(token)
    if not field.lo <= v <= field.hi:
        raise _fail(expression, f"{field.name} value {v} out of range {field.lo}-{field.hi}")
    return v


def _parse_field(expression: str, field: _Field, text: str) -> frozenset[int]:
    """The set of values a cron field allows (day-of-week: 7 folded to 0)."""
    if not text:
        raise _fail(expression, f"empty {field.name} field")
    values: set[int] = set()
    for item in text.split(","):
        m = _ITEM_RE.fullmatch(item)
        if not m:
            hint = None
            if "~" in item:
                hint = "random ranges are a cronie extension; systemd has RandomizedDelaySec="
            elif any(c in item.upper() for c in "LW#?"):
                hint = (
                    "L/W/# are not standard cron; in systemd write e.g. *-*~01 for the last "
                    "day of the month or Fri *-*~01..07 for the last Friday"
                )
            raise _fail(expression, f"bad {field.name} item {item!r}", hint)
        a, b, step_s = m.groups()
        if a == "*":
            if b is not None:
                raise _fail(expression, f"bad {field.name} item {item!r}")
            lo, hi = field.lo, field.hi
            if field is _DOW:
                hi = 7 if step_s is not None else 6
        else:
            lo = _value(expression, field, a)
            if b is not None:
                hi = _value(expression, field, b)
                if hi < lo:
                    raise _fail(
                        expression,
                        f"{field.name} range {item!r} ends before it starts",
                        "cron ranges do not wrap around; use a list, e.g. 22-23,0-2",
                    )
            elif step_s is not None:
                hi = field.hi  # a/n means a-max/n (cronsim, fcron; cronie refuses it)
            else:
                hi = lo
        step = 1
        if step_s is not None:
            step = int(step_s)
            if step == 0:
                raise _fail(expression, f"{field.name} step must be positive")
        values.update(range(lo, hi + 1, step))
    if field is _DOW and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A parsed cron expression: the value set of each field."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday ... 6 = Saturday."""
    dom_star: bool
    dow_star: bool
    has_seconds: bool

    @classmethod
    def parse(cls, expression: str) -> CronExpression:
        """Parse a 5- or 6-field cron expression or an ``@`` macro."""
        if not isinstance(expression, str):
            raise TypeError("cron expression must be str")
        text = expression.strip()
        low = text.lower()
        if low == "@reboot":
            raise InvalidCronExpressionError(
                "@reboot has no calendar equivalent",
                hint="use OnBootSec= (e.g. OnBootSec=1min) in the [Timer] section instead",
            )
        if low.startswith("@"):
            macro = _MACROS.get(low)
            if macro is None:
                raise _fail(
                    expression,
                    f"unknown macro {text!r}",
                    "known: " + ", ".join(sorted({*_MACROS, "@reboot"})),
                )
            fields = macro.split()
        else:
            fields = text.split()
        if len(fields) == 5:
            fields = ["0", *fields]
            has_seconds = False
        elif len(fields) == 6:
            has_seconds = True
        else:
            raise _fail(
                expression,
                f"expected 5 fields (minute hour day month weekday) or 6 with seconds first, "
                f"got {len(fields)}",
                "a crontab line's command is not part of the expression"
                if len(fields) > 6
                else None,
            )
        sec, minute, hour, dom, month, dow = fields
        return cls(
            expression=expression,
            seconds=_parse_field(expression, _SECOND, sec),
            minutes=_parse_field(expression, _MINUTE, minute),
            hours=_parse_field(expression, _HOUR, hour),
            days=_parse_field(expression, _DOM, dom),
            months=_parse_field(expression, _MONTH, month),
            weekdays=_parse_field(expression, _DOW, dow),
            dom_star=dom.startswith("*"),
            dow_star=dow.startswith("*"),
            has_seconds=has_seconds,
        )

    # ------------------------------------------------------------ semantics

    @property
    def day_or(self) -> bool:
        """True when cron fires if *either* day field matches (both restricted)."""
        return not (self.dom_star or self.dow_star)

    def to_calendar(self, tz: str | None = None) -> list[str]:
        """The ``OnCalendar=`` values that together fire exactly like this expression."""
        time_part = (
            _sd_chain(self.hours, _HOUR)
            + ":"
            + _sd_chain(self.minutes, _MINUTE)
            + ":"
            + _sd_chain(self.seconds, _SECOND)
        )
        month = _sd_chain(self.months, _MONTH)
        all_days = set(range(7))
        lines: list[str] = []
        if self.day_or:
            # cron: day-of-month OR day-of-week -> two timers' worth of lines
            lines.append(f"{_sd_weekdays(self.weekdays)} *-{month}-* {time_part}".lstrip())
            lines.append(f"*-{month}-{_sd_chain(self.days, _DOM)} {time_part}")
        else:
            wd = "" if set(self.weekdays) == all_days else _sd_weekdays(self.weekdays)
            lines.append(f"{wd} *-{month}-{_sd_chain(self.days, _DOM)} {time_part}".lstrip())
        out: list[str] = []
        for line in lines:
            text = f"{line} {tz}" if tz else line
            norm = CalendarSpec.parse(text).normalized
            if norm not in out:
                out.append(norm)
        return out

    def matches(self, dt: datetime) -> bool:
        """Does cron fire at this wall-clock time (seconds and fields only)?"""
        if dt.second not in self.seconds or dt.minute not in self.minutes:
            return False
        if dt.hour not in self.hours or dt.month not in self.months:
            return False
        return self._day_ok(dt.year, dt.month, dt.day)

    def _day_ok(self, y: int, m: int, d: int) -> bool:
        dom = d in self.days
        dow = (datetime(y, m, d).weekday() + 1) % 7 in self.weekdays
        return (dom or dow) if self.day_or else (dom and dow)

    def iter_wall(self, after: datetime) -> Iterator[datetime]:
        """Naive wall-clock times strictly after the naive ``after`` when cron fires."""
        start = after.replace(microsecond=0) + timedelta(seconds=1)
        day = start.date()
        secs = sorted(self.seconds)
        mins = sorted(self.minutes)
        hours = sorted(self.hours)
        for _ in range(366 * 400):
            if day.month in self.months and self._day_ok(day.year, day.month, day.day):
                for h in hours:
                    for mi in mins:
                        for s in secs:
                            dt = datetime(day.year, day.month, day.day, h, mi, s)
                            if dt >= start:
                                yield dt
            day += timedelta(days=1)
            if day.year > 9999 - 1:
                return

    def next_fires(self, after: datetime, count: int, tz: str | None = None) -> list[datetime]:
        """Cron's own next ``count`` firings strictly after the aware ``after``.

        Evaluated on the local wall clock ($TZ, like cron) or that of the IANA
        zone ``tz``; a wall time skipped by a transition does not fire and a
        repeated one fires once (plain cron semantics, without Debian cron's
        DST fix-ups).  Returns UTC datetimes.
        """
        base = _datetime_to_usec(after) // USEC_PER_SEC
        wall0 = utc_to_wall(base, tz) - 3 * 3600
        start = datetime(1970, 1, 1) + timedelta(seconds=wall0)
        out: list[datetime] = []
        last = base
        for w in self.iter_wall(start):
            if len(out) >= count:
                break
            wall = int((w - datetime(1970, 1, 1)).total_seconds())
            t = wall_to_utc(wall, tz)
            if t is None or t <= last:
                continue
            last = t
            out.append(_usec_to_datetime(t * USEC_PER_SEC))
        return out

    def explain(self) -> str:
        """The schedule in plain English."""
        return _explain(self)


def _runs(values: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for v in values:
        if out and out[-1][1] == v - 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def _progression(values: list[int]) -> tuple[int, int, int] | None:
    """(start, stop, step) when the sorted values are an arithmetic progression."""
    if len(values) < 3:
        return None
    step = values[1] - values[0]
    if step < 2 or any(b - a != step for a, b in itertools.pairwise(values)):
        return None
    return values[0], values[-1], step


def _sd_chain(values: frozenset[int], field: _Field) -> str:
    """A systemd component for a set of values.

    Repetitions are written with an explicit end (``01..57/7``): systemd's
    open form ``01/7`` lets the next value overflow the field (minute 64),
    and its normalisation then resets only the next field down, which skips
    a value after midnight (``23:57`` -> ``00:08``, never ``00:01``) or, for
    months, copies another season's DST flag.  The open form is kept only for
    seconds, minutes and hours whose overflow lands exactly on the start
    (``*/15`` -> ``00/15``).
    """
    hi = 6 if field is _DOW else field.hi
    vals = sorted(values)
    if vals == list(range(field.lo, hi + 1)):
        return "*"
    prog = _progression(vals)
    if prog is not None:
        start, stop, step = prog
        size = hi - field.lo + 1
        if field in (_SECOND, _MINUTE, _HOUR) and stop + step - size == start:
            return f"{start}/{step}"
        return f"{start}..{stop}/{step}"
    parts = []
    for a, b in _runs(vals):
        if a == b:
            parts.append(str(a))
        elif b == a + 1:
            parts.append(f"{a},{b}")
        else:
            parts.append(f"{a}..{b}")
    return ",".join(parts)


def _sd_weekdays(values: frozenset[int]) -> str:
    """systemd weekday list (Monday first) for cron weekday numbers."""
    order = [1, 2, 3, 4, 5, 6, 0]
    present = [d in values for d in order]
    names: list[str] = []
    i = 0
    while i < 7:
        if not present[i]:
            i += 1
            continue
        j = i
        while j + 1 < 7 and present[j + 1]:
            j += 1
        a, b = _SD_DOW[order[i]], _SD_DOW[order[j]]
        if j == i:
            names.append(a)
        elif j == i + 1:
            names.append(f"{a},{b}")
        else:
            names.append(f"{a}..{b}")
        i = j + 1
    return ",".join(names)


# ------------------------------------------------------------------ English


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _list_desc(values: frozenset[int], field: _Field, label: str) -> str:
    """e.g. 'every 15 minutes', 'minutes 5 and 35', 'hours 9 through 17'."""
    hi = 6 if field is _DOW else field.hi
    vals = sorted(values)
    prog = _progression(vals)
    if prog is not None and prog[0] == field.lo and prog[1] + prog[2] > hi:
        return f"every {prog[2]} {label}s"
    if prog is not None:
        return f"every {prog[2]} {label}s from {prog[0]} through {prog[1]}"
    chunks = []
    for a, b in _runs(vals):
        chunks.append(str(a) if a == b else f"{a} through {b}")
    noun = label if len(vals) == 1 else label + "s"
    return f"{noun} {_join(chunks)}"


def _explain(c: CronExpression) -> str:
    full_min = len(c.minutes) == 60
    full_hour = len(c.hours) == 24
    full_sec = len(c.seconds) == 60
    single_ms = len(c.minutes) == 1 and len(c.seconds) == 1
    hours_prog = _progression(sorted(c.hours))
    if single_ms and len(c.hours) <= 6 and not full_hour and hours_prog is None:
        (m,), (s,) = c.minutes, c.seconds
        times = [
            f"{h:02d}:{m:02d}" + (f":{s:02d}" if c.has_seconds else "") for h in sorted(c.hours)
        ]
        when = "At " + _join(times)
    else:
        parts: list[str] = []
        if c.has_seconds:
            if full_sec:
                parts.append("every second")
            elif len(c.seconds) == 1:
                parts.append(f"at second {next(iter(c.seconds))}")
            else:
                desc = _list_desc(c.seconds, _SECOND, "second")
                parts.append(desc if desc.startswith("every") else "at " + desc)
        minute_every = False
        if full_min:
            if not c.has_seconds:
                parts.append("every minute")
                minute_every = True
            elif not full_hour:
                parts.append("of every minute")
        elif len(c.minutes) == 1:
            m = next(iter(c.minutes))
            parts.append(f"of minute {m}" if c.has_seconds else f"at minute {m}")
        else:
            desc = _list_desc(c.minutes, _MINUTE, "minute")
            minute_every = desc.startswith("every")
            if minute_every:
                parts.append(desc if not c.has_seconds else "of " + desc)
            else:
                parts.append(("of " if c.has_seconds else "at ") + desc)
        if full_hour:
            if not minute_every and not full_min:
                parts.append("of every hour")
        elif len(c.hours) == 1:
            h = next(iter(c.hours))
            parts.append(f"during hour {h}" if minute_every or full_min else f"past hour {h}")
        else:
            desc = _list_desc(c.hours, _HOUR, "hour")
            if desc.startswith("every"):
                parts.append("of " + desc)
            else:
                parts.append(("during " if minute_every or full_min else "past ") + desc)
        when = " ".join(p for p in parts if p)
        when = when[0].upper() + when[1:]
    # days
    dom_all = len(c.days) == 31
    dow_all = set(c.weekdays) == set(range(7))
    day_bits: list[str] = []
    dom_desc = (
        ""
        if dom_all
        else "on " + _list_desc(c.days, _DOM, "day").replace("days ", "days ") + " of the month"
    )
    if not dom_all and len(c.days) == 1:
        dom_desc = f"on day {next(iter(c.days))} of the month"
    dow_desc = ""
    if not dow_all:
        names = [_DOW_FULL[d] for d in sorted(c.weekdays, key=lambda d: (d + 6) % 7)]
        runs = _runs(sorted((d + 6) % 7 for d in c.weekdays))
        if len(runs) == 1 and runs[0][1] - runs[0][0] >= 2:
            a, b = runs[0]
            dow_desc = f"on {_DOW_FULL[(a + 1) % 7]} through {_DOW_FULL[(b + 1) % 7]}"
        else:
            dow_desc = "on " + _join(names)
    if c.day_or:
        if dom_desc and dow_desc:
            day_bits.append(f"{dom_desc} or {dow_desc} (cron matches either)")
        else:
            day_bits.append("every day")
    else:
        day_bits.extend(d for d in (dom_desc, dow_desc) if d)
    if len(c.months) != 12:
        months = sorted(c.months)
        runs = _runs(months)
        if len(runs) == 1 and runs[0][1] - runs[0][0] >= 2:
            day_bits.append(
                f"from {_MONTH_FULL[runs[0][0] - 1]} through {_MONTH_FULL[runs[0][1] - 1]}"
            )
        else:
            day_bits.append("in " + _join([_MONTH_FULL[m - 1] for m in months]))
    text = when
    if day_bits:
        text += " " + ", ".join(day_bits)
    return text + "."


# ------------------------------------------------------------------ public API


def to_calendar(expression: str, *, tz: str | None = None) -> list[str]:
    """Translate a cron expression into systemd ``OnCalendar=`` values.

    One value, or two when cron's day-of-month/day-of-week "either" rule
    applies.  ``tz`` appends a time zone (e.g. the crontab's ``CRON_TZ=``)::

        >>> to_calendar("*/15 9-17 * * 1-5")
        ['Mon..Fri *-*-* 09..17:00/15:00']
        >>> to_calendar("0 0 1 * 1")
        ['Mon *-*-* 00:00:00', '*-*-01 00:00:00']
    """
    return CronExpression.parse(expression).to_calendar(tz)


def explain(expression: str) -> str:
    """Describe a cron expression in plain English::

    >>> explain("30 4 * * 1-5")
    'At 04:30 on Monday through Friday.'
    """
    return CronExpression.parse(expression).explain()


def _escape_exec(command: str) -> str:
    """Quote a shell command for ``ExecStart=/bin/sh -c "..."``."""
    return command.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")


_NAME_RE: Final = re.compile(r"[A-Za-z0-9:_.\\-]+")


def timer_unit(
    expression: str,
    command: str | None = None,
    *,
    unit: str | None = None,
    name: str = "cron-job",
    description: str | None = None,
    persistent: bool = True,
    user: str | None = None,
    tz: str | None = None,
) -> str:
    """A ``.timer`` (and, with ``command``, a ``.service``) replacing a crontab line.

    ``command`` is run like cron runs it (``/bin/sh -c``); ``unit`` names an
    existing unit to start instead.  ``persistent`` adds ``Persistent=true``
    so a run missed while the machine was off happens at the next boot (cron
    never does that; anacron does).  Returns the unit files' text with
    comment headers naming the files.
    """
    cron = CronExpression.parse(expression)
    calendars = cron.to_calendar(tz)
    if not _NAME_RE.fullmatch(name):
        raise InvalidCronExpressionError(
            f"invalid unit name stem {name!r}", hint="use letters, digits, ':', '_', '.', '-'"
        )
    if command is not None and unit is not None:
        raise ValueError("pass either command= or unit=, not both")
    if command is not None and "\n" in command:
        raise ValueError("command must be a single line")
    target = unit or f"{name}.service"
    desc = description or (f"Run {command!r}" if command else f"Start {target}") + (
        f": {cron.explain().rstrip('.')}"
    )
    desc = desc.replace("%", "%%")
    lines = [
        f"# {name}.timer -- replaces the crontab schedule: {expression.strip()}",
        "[Unit]",
        f"Description={desc}",
        "",
        "[Timer]",
    ]
    if cron.day_or:
        lines.append("# cron runs when day-of-month OR day-of-week matches: one line for each")
    lines.extend(f"OnCalendar={c}" for c in calendars)
    if persistent:
        lines.append("# Catch up on a run missed while the machine was off (cron would skip it).")
        lines.append("Persistent=true")
    else:
        lines.append("# Persistent=true would run a missed activation at the next boot.")
    if cron.has_seconds or len(cron.minutes) > 1 or len(cron.hours) > 1:
        lines.append("# systemd may delay a timer by up to AccuracySec= (default 1min).")
        lines.append("AccuracySec=1s")
    if unit is not None:
        lines.append(f"Unit={unit}")
    lines += ["", "[Install]", "WantedBy=timers.target"]
    if command is not None:
        lines += [
            "",
            f"# {name}.service",
            "[Unit]",
            f"Description={desc}",
            "",
            "[Service]",
            "Type=oneshot",
        ]
        if user:
            lines.append(f"User={user}")
        if "%" in command.replace("\\%", ""):
            lines.append(
                "# cron turns an unescaped % into a newline (the rest becomes stdin); "
                "here it is a literal %"
            )
        lines.append(f'ExecStart=/bin/sh -c "{_escape_exec(command.replace(chr(92) + "%", "%"))}"')
    return "\n".join(lines) + "\n"


def _aware(dt: datetime) -> int:
    return _datetime_to_usec(dt)


def calendar_next_fires(calendars: list[str], after: datetime, count: int) -> list[datetime]:
    """The union of the next elapses of several ``OnCalendar=`` values (UTC datetimes)."""
    specs = [CalendarSpec.parse(c) for c in calendars]
    out: list[int] = []
    base = _aware(after)
    nexts = [s.next_elapse_usec(base) for s in specs]
    while len(out) < count:
        live = [n for n in nexts if n is not None]
        if not live:
            break
        u = min(live)
        out.append(u)
        nexts = [s.next_elapse_usec(u) if n == u else n for s, n in zip(specs, nexts, strict=True)]
    return [_usec_to_datetime(u) for u in out]
