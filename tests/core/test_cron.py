"""sysd.cron: cron expressions -> OnCalendar=, checked against cronsim.

For every expression the next 60 firings in UTC are computed twice -- from the
translated OnCalendar= lines (sysd's systemd engine) and by sysd's own cron
evaluation -- and both must equal cronsim's.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim, CronSimError

from sysd import cron
from sysd._core import calendar as cal
from sysd.calendar import CalendarSpec
from sysd.errors import InvalidCronExpressionError, SysdError

EXPRESSIONS = [
    "* * * * *",
    "*/15 * * * *",
    "0 * * * *",
    "5,35 * * * *",
    "0 0 * * *",
    "30 4 * * *",
    "*/15 9-17 * * 1-5",
    "0 9-17/2 * * *",
    "23 0-20/2 * * *",
    "0 22 * * 1-5",
    "5 4 * * sun",
    "5 4 * * SUN",
    "0 0 * * 0",
    "0 0 * * 7",
    "0 0 * * 5-7",
    "0 0 * * */2",
    "0 0 * * 1-7/3",
    "15 14 1 * *",
    "0 0 1,15 * *",
    "0 0 1 * 1",
    "0 0 1,15 * 3",
    "0 12 13 * 5",
    "0 0 */2 * 1",
    "0 0 1-7 * 1",
    "0 0 * * 1 ",
    "0 0,12 1 */2 *",
    "0 4 8-14 * *",
    "0 9 * jan-mar mon-fri",
    "0 9 1 JAN,jul *",
    "59 23 31 dec *",
    "0 0 31 * *",
    "0 0 30 * *",
    "1-59/7 * * * *",
    "7/10 * * * *",
    "0 5/6 * * *",
    "0 0 10-20/3 * *",
    "0 0 1 1-12/4 *",
    "*/45 * * * *",
    "0 */7 * * *",
    "3-4 2-3 28-31 2 *",
    "0 0 29 2 *",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
    "*/10 * * * * *",
    "30 */5 * * * *",
    "0,20,40 0 12 * * mon",
]

START = datetime(2024, 1, 30, 23, 59, 30, tzinfo=UTC)


# crontab(5)'s definitions of the macros (cronsim does not know them)
MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def _cronsim(expression: str, start: datetime, count: int) -> list[datetime]:
    it = CronSim(MACROS.get(expression, expression), start)
    return [next(it) for _ in range(count)]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_against_cronsim_utc(expression: str) -> None:
    expected = _cronsim(expression, START, 60)
    lines = cron.to_calendar(expression, tz="UTC")
    # systemd computes no elapse in year 2200 or later; cron has no such limit
    before_2200 = [d for d in expected if d.year < 2200]
    assert cron.calendar_next_fires(lines, START, 60) == before_2200
    ours = cron.CronExpression.parse(expression).next_fires(START, 60, tz="UTC")
    assert ours == expected


def test_enough_expressions() -> None:
    assert len(EXPRESSIONS) >= 40


@pytest.mark.parametrize(
    ("expression", "lines"),
    [
        ("*/15 9-17 * * 1-5", ["Mon..Fri *-*-* 09..17:00/15:00"]),
        ("0 0 1 * 1", ["Mon *-*-* 00:00:00", "*-*-01 00:00:00"]),
        ("0 0 */2 * 1", ["Mon *-*-01..31/2 00:00:00"]),  # starts with '*': both must match
        ("1-59/7 * * * *", ["*-*-* *:01..57/7:00"]),  # bounded: systemd's 01/7 skips 00:01
        ("5-5/7 * * * *", ["*-*-* *:05:00"]),  # cronie: just 5 (cronsim: 5/7)
        ("0 0 1 */5 *", ["*-01..11/5-01 00:00:00"]),
        ("0 0 1 * *", ["*-*-01 00:00:00"]),
        ("0 0 * * 0,7", ["Sun *-*-* 00:00:00"]),
        ("0 0 * * 0-6", ["*-*-* 00:00:00"]),
        ("0 0 1 * 0-6", ["*-*-* 00:00:00", "*-*-01 00:00:00"]),  # cron: every day
        ("@weekly", ["Sun *-*-* 00:00:00"]),
        ("@hourly", ["*-*-* *:00:00"]),
        ("*/10 * * * * *", ["*-*-* *:*:00/10"]),
        ("0 9 * jan-mar mon-fri", ["Mon..Fri *-01..03-* 09:00:00"]),
        ("*/45 * * * *", ["*-*-* *:00,45:00"]),
        ("0 0 * * 1", ["Mon *-*-* 00:00:00"]),
    ],
)
def test_to_calendar(expression: str, lines: list[str]) -> None:
    assert cron.to_calendar(expression) == lines
    for line in lines:  # valid systemd specs, already normalised
        assert CalendarSpec.parse(line).normalized == line


def test_to_calendar_tz() -> None:
    assert cron.to_calendar("0 3 * * *", tz="Europe/Berlin") == ["*-*-* 03:00:00 Europe/Berlin"]


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 0 * *", "expected 5 fields"),
        ("0 0 * * * * /bin/true", "got 7"),
        ("60 * * * *", "minute value 60 out of range 0-59"),
        ("* 24 * * *", "hour value 24"),
        ("* * 0 * *", "day-of-month value 0"),
        ("* * * 13 *", "month value 13"),
        ("* * * * 8", "day-of-week value 8"),
        ("* * * foo *", "bad month value 'foo'"),
        ("* * * * funday", "bad day-of-week value"),
        ("*/0 * * * *", "step must be positive"),
        ("5-1 * * * *", "ends before it starts"),
        ("* * L * *", "bad day-of-month"),
        ("* * * * 5#2", "bad day-of-week item"),
        ("0~30 * * * *", "bad minute item"),
        ("@fortnightly", "unknown macro"),
        ("", "expected 5 fields"),
        ("* * * jan-* *", "bad month item"),
    ],
)
def test_errors(expression: str, fragment: str) -> None:
    with pytest.raises(InvalidCronExpressionError) as info:
        cron.to_calendar(expression)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, SysdError)


def test_error_hints() -> None:
    with pytest.raises(InvalidCronExpressionError) as info:
        cron.to_calendar("@reboot")
    assert info.value.hint is not None
    assert "OnBootSec=" in info.value.hint
    with pytest.raises(InvalidCronExpressionError) as info:
        cron.to_calendar("0 0 L * *")
    assert info.value.hint is not None and "*-*~01" in info.value.hint
    with pytest.raises(InvalidCronExpressionError) as info:
        cron.to_calendar("0 0 * * * * /usr/bin/backup")
    assert info.value.hint is not None and "command" in info.value.hint
    with pytest.raises(TypeError):
        cron.to_calendar(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        (
            "*/15 9-17 * * 1-5",
            "Every 15 minutes during hours 9 through 17 on Monday through Friday.",
        ),
        ("0 0 1 * 1", "At 00:00 on day 1 of the month or on Monday (cron matches either)."),
        ("30 4 * * 1-5", "At 04:30 on Monday through Friday."),
        ("@daily", "At 00:00."),
        ("* * * * *", "Every minute."),
        ("5,35 * * * *", "At minutes 5 and 35 of every hour."),
        ("0 */2 * * *", "At minute 0 of every 2 hours."),
        ("0 9,17 * * 1-5", "At 09:00 and 17:00 on Monday through Friday."),
        ("*/10 * * * * *", "Every 10 seconds."),
        ("0 0 * * 1,3,5", "At 00:00 on Monday, Wednesday and Friday."),
        ("0 9 * jan-mar *", "At 09:00 from January through March."),
        ("0 12 1 1,7 *", "At 12:00 on day 1 of the month, in January and July."),
    ],
)
def test_explain(expression: str, text: str) -> None:
    assert cron.explain(expression) == text


def test_timer_unit_with_command() -> None:
    text = cron.timer_unit("0 0 1 * 1", 'echo "$HOME" 50\\% done', name="backup", user="nobody")
    assert "# backup.timer" in text
    assert "OnCalendar=Mon *-*-* 00:00:00\nOnCalendar=*-*-01 00:00:00\n" in text
    assert "Persistent=true" in text
    assert "WantedBy=timers.target" in text
    assert "# backup.service" in text
    assert "Type=oneshot" in text
    assert "User=nobody" in text
    # systemd quoting: \" inside "...", $$ for $, %% for %
    assert 'ExecStart=/bin/sh -c "echo \\"$$HOME\\" 50%% done"' in text
    assert "turns an unescaped %" not in text  # it was escaped for cron


def test_timer_unit_variants() -> None:
    text = cron.timer_unit("*/5 * * * *", unit="poll.service", persistent=False)
    assert "Unit=poll.service" in text
    assert "Persistent=true\n" not in text
    assert "AccuracySec=1s" in text
    assert "[Service]" not in text
    raw = cron.timer_unit("0 3 * * *", "date +%s")
    assert 'ExecStart=/bin/sh -c "date +%%s"' in raw
    assert "cron turns an unescaped % into a newline" in raw
    with pytest.raises(ValueError):
        cron.timer_unit("0 3 * * *", "a", unit="b.service")
    with pytest.raises(ValueError):
        cron.timer_unit("0 3 * * *", "a\nb")
    with pytest.raises(InvalidCronExpressionError):
        cron.timer_unit("@reboot", "true")


class TestDaylightSavingDivergence:
    """Where cron and systemd disagree: a spring-forward jump.

    Debian's cron (and cronsim, which mimics it) runs a fixed-time job whose
    time was skipped right after the jump (03:00); systemd skips that day.
    When 02:30 happens twice (fall back) both run it once, the first time.
    """

    def test_spring_forward(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TZ", ":Europe/Berlin")
        cal._reset_libc_state()
        tz = ZoneInfo("Europe/Berlin")
        start = datetime(2024, 3, 29, 12, 0, tzinfo=tz)
        debian = [d.astimezone(UTC) for d in _cronsim("30 2 * * *", start, 3)]
        systemd = cron.calendar_next_fires(cron.to_calendar("30 2 * * *"), start, 3)
        assert [d.astimezone(tz).strftime("%m-%d %H:%M") for d in debian] == [
            "03-30 02:30",
            "03-31 03:00",  # cron: right after the jump
            "04-01 02:30",
        ]
        assert [d.astimezone(tz).strftime("%m-%d %H:%M") for d in systemd] == [
            "03-30 02:30",
            "04-01 02:30",  # systemd: no 02:30 on 03-31, nothing that day
            "04-02 02:30",
        ]
        # sysd's own cron evaluation has plain (non-Debian) semantics, like systemd here
        plain = cron.CronExpression.parse("30 2 * * *").next_fires(start, 3)
        assert plain == systemd

    def test_fall_back(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TZ", ":Europe/Berlin")
        cal._reset_libc_state()
        tz = ZoneInfo("Europe/Berlin")
        start = datetime(2024, 10, 26, 12, 0, tzinfo=tz)
        debian = [d.astimezone(UTC) for d in _cronsim("30 2 * * *", start, 3)]
        systemd = cron.calendar_next_fires(cron.to_calendar("30 2 * * *"), start, 3)
        assert debian == systemd
        assert systemd[0] == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # 02:30 CEST, once


def test_cron_expression_fields() -> None:
    c = cron.CronExpression.parse("0 0 1 * 7")
    assert c.weekdays == frozenset({0})
    assert c.days == frozenset({1})
    assert c.day_or and not c.has_seconds
    assert not cron.CronExpression.parse("0 0 * * 1").day_or
    assert c.matches(datetime(2024, 9, 1, 0, 0))  # Sunday the 1st
    assert c.matches(datetime(2024, 9, 8, 0, 0))  # a Sunday
    assert c.matches(datetime(2024, 10, 1, 0, 0))  # the 1st, a Tuesday
    assert not c.matches(datetime(2024, 10, 2, 0, 0))


def _random_field(r: random.Random, lo: int, hi: int, names: tuple[str, ...] = ()) -> str:
    def value() -> str:
        v = r.randint(lo, hi)
        if names and r.random() < 0.2 and v - lo < len(names):
            return names[v - lo]
        return str(v)

    if r.random() < 0.3:
        return "*" if r.random() < 0.5 else f"*/{r.randint(1, hi - lo + 1)}"
    items = []
    for _ in range(r.choice([1, 1, 2, 3])):
        k = r.random()
        if k < 0.4:
            items.append(value())
        else:
            a = r.randint(lo, hi - 1)
            b = r.randint(a + 1, hi)  # not a-a/n: cronsim reads that as a/n, cron as a
            item = f"{a}-{b}" if k < 0.8 else f"{a}"
            if k >= 0.6:
                item += f"/{r.randint(1, max(1, hi - lo))}"
            items.append(item)
    return ",".join(items)


def test_random_expressions_against_cronsim() -> None:
    """Random cron expressions: 30 firings each, from the OnCalendar= lines, vs cronsim."""
    r = random.Random(252)
    months = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    days = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
    checked = 0
    for _ in range(400):
        fields = [
            _random_field(r, 0, 59),
            _random_field(r, 0, 23),
            _random_field(r, 1, 31),
            _random_field(r, 1, 12, months),
            _random_field(r, 0, 7, days),
        ]
        if r.random() < 0.2:
            fields.insert(0, _random_field(r, 0, 59))
        expression = " ".join(fields)
        start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=r.randrange(10**8))
        try:
            expected = _cronsim(expression, start, 30)
        except (CronSimError, StopIteration):
            continue  # cronsim refuses it (e.g. Feb 30 with AND semantics)
        lines = cron.to_calendar(expression, tz="UTC")
        assert cron.calendar_next_fires(lines, start, 30) == expected, (expression, lines)
        checked += 1
    assert checked > 300


def test_docstring_examples() -> None:
    import doctest

    from sysd._core import cron as core_cron

    for module in (cron, core_cron):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
