"""sysd._core.calendar against systemd 252: its own vectors, and systemd-analyze itself.

The randomized test at the end generates a few hundred specs (valid and broken),
runs them through ``systemd-analyze calendar`` in a handful of processes (one
per time zone, many specs each) and requires the same normalised forms, the
same errors and the same next elapses.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import pickle
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sysd import calendar as public
from sysd._core import calendar as cal
from sysd.errors import InvalidCalendarSpecError, SysdError


def _conformance_dir() -> Path:
    override = os.environ.get("SYSD_CONFORMANCE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "conformance"


VECTORS: dict[str, Any] = json.loads(
    (_conformance_dir() / "calendarspec_vectors.json").read_text(encoding="utf-8")
)

SetTZ = Callable[[str | None], None]


@pytest.fixture
def set_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[SetTZ]:
    """Set (or with None, unset) $TZ, starting from a fresh emulated libc state."""

    def apply(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("TZ", raising=False)
        else:
            monkeypatch.setenv("TZ", value)
        cal._reset_libc_state()

    cal._reset_libc_state()
    yield apply
    cal._reset_libc_state()


# ------------------------------------------------------------------ the vectors


def _vid(v: dict[str, Any]) -> str:
    return f"L{v['src_line']}:{v['input']!r}"


@pytest.mark.parametrize("v", VECTORS["normalize"], ids=_vid)
def test_normalize_vectors(v: dict[str, Any], set_tz: SetTZ) -> None:
    set_tz(None)
    spec = cal.CalendarSpec.parse(v["input"])
    assert spec.normalized == v["normalized"]
    assert str(spec) == v["normalized"]
    # Re-parsing the normalised form gives the same string (systemd's own check).
    assert cal.CalendarSpec.parse(spec.normalized).normalized == v["normalized"]


@pytest.mark.parametrize("v", VECTORS["next"], ids=_vid)
def test_next_vectors(v: dict[str, Any], set_tz: SetTZ) -> None:
    set_tz(v["tz_env"])
    spec = cal.CalendarSpec.parse(v["input"])
    assert spec.next_elapse_usec(v["after_usec"]) == v["expect_usec"]


@pytest.mark.parametrize("v", VECTORS["invalid"], ids=_vid)
def test_invalid_vectors(v: dict[str, Any], set_tz: SetTZ) -> None:
    set_tz(None)
    with pytest.raises(InvalidCalendarSpecError) as info:
        cal.CalendarSpec.parse(v["input"])
    assert info.value.errno == getattr(errno, v["error"])


def test_vector_counts() -> None:
    counts = VECTORS["counts"]
    assert len(VECTORS["normalize"]) == counts["normalize"] == 68
    assert len(VECTORS["next"]) == counts["next"] == 32
    assert len(VECTORS["invalid"]) == counts["invalid"] == 28


# ------------------------------------------------------------------ normalisation


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("minutely", "*-*-* *:*:00"),
        ("HOURLY", "*-*-* *:00:00"),
        ("yearly", "*-01-01 00:00:00"),
        ("anually", "*-01-01 00:00:00"),
        ("bi-annually", "*-01,07-01 00:00:00"),
        ("semiannually", "*-01,07-01 00:00:00"),
        ("mon..Sun", "*-*-* 00:00:00"),  # all seven days: no weekday restriction
        ("Mon,Tue..Thu,Sat..Sun", "Mon..Thu,Sat,Sun *-*-* 00:00:00"),
        ("*-*-03/15", "*-*-03/15 00:00:00"),
        ("*:*:1.5/0.5", "*-*-* *:*:01.500000/0.500000"),
        ("00:00:00/0.5", "*-*-* 00:00:00/0.500000"),
        ("@ 5", "1970-01-01 00:00:05 UTC"),  # strtoul() skips blanks...
        ("@+5", "1970-01-01 00:00:05 UTC"),  # ...and takes a sign
        ("Mon @5", "Mon 1970-01-01 00:00:05 UTC"),
        ("@5 Europe/Berlin", "1970-01-01 00:00:05 UTC"),
        ("*~6..7,20", "*-*~06..07,20 00:00:00"),
        ("2016-03-27 03:17:00 Etc/UTC", "2016-03-27 03:17:00 Etc/UTC"),
    ],
)
def test_normalize_more(text: str, normalized: str, set_tz: SetTZ) -> None:
    set_tz("")
    assert cal.CalendarSpec.parse(text).normalized == normalized


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("@-5", errno.EINVAL),  # 1969
        ("@9223372036854775808", errno.ERANGE),
        ("*:*:59.9999999", errno.EINVAL),  # rounds up to 60 s
        ("*:*:*.5", errno.EINVAL),
        # systemd's chain_valid() lowers the '~' bound by 3 for every element:
        ("*~6,27", errno.EINVAL),
        ("*~06..08,27", errno.EINVAL),
        ("Mon 10:00 JST", errno.EINVAL),  # not a local zone name here
        (",".join(["1"] * 242) + ":00", errno.ENOBUFS),
        ("Mond", errno.EINVAL),
        ("Mon..", errno.EINVAL),
        ("Fri..Mon", errno.EINVAL),
        ("1..3:00:00\0", errno.EINVAL),
    ],
)
def test_invalid_more(text: str, code: int, set_tz: SetTZ) -> None:
    set_tz("")
    with pytest.raises(InvalidCalendarSpecError) as info:
        cal.CalendarSpec.parse(text)
    assert info.value.errno == code


def test_local_zone_names(set_tz: SetTZ) -> None:
    set_tz(":Europe/Berlin")
    assert public.local_timezone_names() == ("CET", "CEST")
    spec = cal.CalendarSpec.parse("Mon 10:00 cest")
    assert (spec.dst, spec.normalized) == (1, "Mon *-*-* 10:00:00 CEST")
    assert not public.in_utc_timezone()
    set_tz("")
    assert public.in_utc_timezone()
    with pytest.raises(InvalidCalendarSpecError):
        cal.CalendarSpec.parse("Mon 10:00 CEST")


def test_tzname_follows_localtime_like_glibc(set_tz: SetTZ) -> None:
    """glibc rewrites tzname[] on localtime(); systemd-analyze shows it too:
    a second 'JDT' spec no longer parses once a recent time was converted."""
    set_tz(":Asia/Tokyo")
    assert cal.CalendarSpec.parse("Mon 10:00 JDT").normalized == "Mon *-*-* 10:00:00 JDT"
    public.format_timestamp(1700000000 * 10**6)
    with pytest.raises(InvalidCalendarSpecError):
        cal.CalendarSpec.parse("Mon 10:00 JDT")


def test_spec_fields(set_tz: SetTZ) -> None:
    set_tz("")
    spec = cal.CalendarSpec.parse("Wed..Fri 2024-*-1,15 *:0/15:30.5 Europe/Berlin")
    assert spec.weekdays == (2, 3, 4)
    assert spec.timezone == "Europe/Berlin"
    assert not spec.utc
    assert spec.year == (cal.CalendarComponent(2024, -1, 0),)
    assert spec.day == (cal.CalendarComponent(1), cal.CalendarComponent(15))
    assert spec.minute == (cal.CalendarComponent(0, -1, 15),)
    assert spec.microsecond == (cal.CalendarComponent(30_500_000),)
    assert cal.CalendarSpec.parse("daily").weekdays == ()
    assert cal.CalendarSpec.parse("x UTC".replace("x", "daily")).utc


def test_immutable_hashable(set_tz: SetTZ) -> None:
    set_tz("")
    a = cal.CalendarSpec.parse("Mon..Fri 9:00")
    b = cal.CalendarSpec.parse("mon-fri *-*-* 09:00:00")
    assert a == b
    assert hash(a) == hash(b)
    assert {a, b} == {a}
    assert repr(a) == "CalendarSpec.parse('Mon..Fri *-*-* 09:00:00')"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.utc = True  # type: ignore[misc]


def test_error_details(set_tz: SetTZ) -> None:
    set_tz("")
    with pytest.raises(InvalidCalendarSpecError) as info:
        cal.CalendarSpec.parse("Mon *-*-* 25:00")
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, SysdError)
    assert "hour value '25'" in str(err)
    assert "0..23" in str(err)
    assert err.errno == errno.EINVAL
    with pytest.raises(InvalidCalendarSpecError) as info:
        cal.CalendarSpec.parse("Mon 12:3x")
    assert info.value.position == 8
    assert "position 8" in str(info.value)
    assert info.value.spec == "Mon 12:3x"
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is InvalidCalendarSpecError
    assert str(again) == str(info.value)
    assert again.position == 8
    with pytest.raises(TypeError):
        cal.CalendarSpec.parse(b"daily")  # type: ignore[arg-type]


# ------------------------------------------------------------------ next elapses

# (TZ, spec, base seconds, expected elapses in µs; None = never, an int < 1000 =
# the errno systemd returns).  All taken from systemd 252 (libsystemd-shared).
NEXT_CASES: list[tuple[str, str, int, list[int | None]]] = [
    # Berlin: 02:30 does not exist on 2024-03-31 (skipped) and happens twice on
    # 2024-10-27 (systemd fires once, in summer time).
    (":Europe/Berlin", "*-*-* 02:30", 1711800000, [1711931400000000, 1712017800000000]),
    (
        ":Europe/Berlin",
        "*-*-* 02:30",
        1729850000,
        [1729902600000000, 1729989000000000, 1730079000000000, 1730165400000000],
    ),
    (
        ":Europe/Berlin",
        "*-*-* 02:00/15",
        1729985400,
        [1729987200000000, 1729988100000000, 1729989000000000, 1729989900000000],
    ),
    (
        ":Europe/Berlin",
        "hourly",
        1729983600,
        [1729987200000000, 1729994400000000, 1729998000000000, 1730001600000000],
    ),
    # A zone abbreviation pins tm_isdst; in the other season systemd never fires.
    (":Europe/Berlin", "Mon 10:00 CET", 1711800000, [None]),
    (":Europe/Berlin", "Mon 10:00 CEST", 1711800000, [None]),
    (
        ":America/New_York",
        "Sun *-*-* 02:00",
        1710000000,
        [1710655200000000, 1711260000000000, 1711864800000000],
    ),
    (
        ":America/New_York",
        "*-*-* 01:30",
        1730600000,
        [1730611800000000, 1730701800000000, 1730788200000000],
    ),
    (
        ":America/New_York",
        "*-03-10 02:*:00",
        1700000000,
        [1741586400000000, 1741586460000000, 1741586520000000],
    ),
    # Lord Howe Island: 30-minute daylight saving time.
    (
        ":Australia/Lord_Howe",
        "*-*-* 01:45",
        1712410000,
        [1712414700000000, 1712502900000000, 1712589300000000],
    ),
    (
        ":Australia/Lord_Howe",
        "*-*-* 02:15",
        1728142200,
        [1728227700000000, 1728314100000000, 1728400500000000],
    ),
    (
        ":Australia/Lord_Howe",
        "*:0/20",
        1712413800,
        [1712414400000000, 1712417400000000, 1712418600000000, 1712419800000000],
    ),
    (
        ":Europe/Dublin",
        "*-*-* 01:30",
        1711846800,
        [1711931400000000, 1712017800000000, 1712104200000000],
    ),
    (
        "IST-1GMT-0,M10.5.0/1,M3.5.0/1",
        "*:0/30",
        1743292800,
        [1743294600000000, 1743296400000000, 1743298200000000, 1743300000000000],
    ),
    ("", "*-*-* 02:30 Europe/Berlin", 1711800000, [1711931400000000, 1712017800000000]),
    ("", "2017-09-24 02:30:00 Pacific/Auckland", 12345, [None]),
    # A repeated month value overflows into April; systemd copies April's
    # tm_isdst into January and loops until its iteration limit (EDEADLK).
    (":Europe/Berlin", "*-01/5,04,08-14,25 06:00,19:00", 1700889540, [errno.EDEADLK]),
    # tm_within_bounds() resets only one field: 23:81 becomes 00:21, so 00:09 is skipped.
    (":Europe/Berlin", "*:9/24:37", 1600898257, [1600900417000000, 1600901857000000]),
    ("", "*-02-29 00:00:00", 7000000000, [7010755200000000]),
    ("", "*-02-29 00:00:00", 7136985600, [None]),  # 2196 was the last: year 2200 limit
    ("", "Fri *-*-13", 1700000000, [1726185600000000, 1734048000000000, 1749772800000000]),
    ("", "*-*~01", 1700000000, [1701302400000000, 1703980800000000, 1706659200000000]),
    ("", "Mon *-05~01..07 10:00", 1700000000, [1716804000000000, 1748253600000000]),
    (":Asia/Kolkata", "*-*-* 00:00:00", 1700000000, [1700073000000000, 1700159400000000]),
]


@pytest.mark.parametrize(("tz", "text", "base", "expected"), NEXT_CASES)
def test_next_elapse_cases(
    tz: str, text: str, base: int, expected: list[int | None], set_tz: SetTZ
) -> None:
    set_tz(tz)
    spec = cal.CalendarSpec.parse(text)
    u = base * 1_000_000
    got: list[int | None] = []
    for want in expected:
        r, err = spec._next(u)
        got.append(None if err == errno.ENOENT else (err if err else r))
        if err:
            break
        assert spec.next_elapse_usec(u) == r
        u = r
        del want
    assert got == expected


def test_next_elapse_datetime_api(set_tz: SetTZ) -> None:
    set_tz(":Europe/Berlin")
    spec = public.CalendarSpec.parse("Mon..Fri *-*-* 09:00:00")
    after = datetime(2024, 3, 29, 12, 0, tzinfo=UTC)  # a Friday
    nxt = spec.next_elapse(after)
    assert nxt == datetime(2024, 4, 1, 7, 0, tzinfo=UTC)  # Monday 09:00 CEST
    assert nxt is not None and nxt.tzinfo is UTC
    # any aware datetime is fine
    plus_two = timezone(timedelta(hours=2))
    assert spec.next_elapse(after.astimezone(plus_two)) == nxt
    with pytest.raises(ValueError, match="naive"):
        spec.next_elapse(datetime(2024, 3, 29, 12, 0))
    with pytest.raises(TypeError):
        spec.next_elapse_usec(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        spec.next_elapse_usec(-1)
    first = list(zip(range(3), spec.iter(after), strict=False))
    assert [d for _, d in first] == [
        datetime(2024, 4, 1, 7, 0, tzinfo=UTC),
        datetime(2024, 4, 2, 7, 0, tzinfo=UTC),
        datetime(2024, 4, 3, 7, 0, tzinfo=UTC),
    ]
    once = public.CalendarSpec.parse("2024-04-01 09:00")
    assert list(once.iter(after)) == [datetime(2024, 4, 1, 7, 0, tzinfo=UTC)]
    assert list(once.iter_usec(1711954800 * 10**6)) == []
    # beyond what systemd can format: no elapse (systemd: EINVAL)
    assert once.next_elapse_usec(cal._USEC_TIMESTAMP_FORMATTABLE_MAX + 1) is None


def test_local_zone_from_tz_variants(set_tz: SetTZ) -> None:
    spec = cal.CalendarSpec.parse("*-*-* 12:00:00")
    base = 1700000000 * 10**6  # 2023-11-14 22:13:20 UTC
    results = {}
    for tz in (
        None,
        "",
        "UTC",
        ":UTC",
        "Europe/Berlin",
        ":Europe/Berlin",
        "CET-1CEST,M3.5.0,M10.5.0/3",
    ):
        set_tz(tz)
        results[tz] = spec.next_elapse_usec(base)
    assert results[None] == results[""] == results["UTC"] == results[":UTC"] == 1700049600 * 10**6
    berlin = 1700046000 * 10**6
    assert results["Europe/Berlin"] == results[":Europe/Berlin"] == berlin
    assert results["CET-1CEST,M3.5.0,M10.5.0/3"] == berlin


def test_fast_path_speed(set_tz: SetTZ) -> None:
    """>= 50k computations/s in-process on a typical spec (with a wide margin here)."""
    import time

    set_tz(":Europe/Berlin")
    spec = cal.CalendarSpec.parse("Mon..Fri *-*-* 09:00:00")
    u = 1700000000 * 10**6
    n = 5000
    t0 = time.perf_counter()
    for _ in range(n):
        u = spec.next_elapse_usec(u) or 1700000000 * 10**6
    rate = n / (time.perf_counter() - t0)
    assert rate > 10_000, rate  # loaded CI machines; bench/bench_calendar.py measures properly


# ------------------------------------------------------------------ vs systemd-analyze

_WD = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "monday", "FRIDAY", "sunday"]
_TAILS = ["", "", "", "", " UTC", " Europe/Berlin", " America/New_York", " Australia/Lord_Howe"]


def _component(r: random.Random, lo: int, hi: int, usec: bool = False) -> str:
    if r.random() < 0.3:
        return "*"
    items = []
    for _ in range(r.choice([1, 1, 2, 3])):
        a = r.randint(lo, hi)
        s = str(a)
        if usec and r.random() < 0.2:
            s += "." + str(r.randint(0, 999999)).zfill(6)[: r.randint(1, 7)]
        if r.random() < 0.2:
            s += ".." + str(r.randint(a, hi))
        if r.random() < 0.25:
            s += "/" + str(r.randint(1, max(1, (hi - lo) // 2)))
        items.append(s)
    return ",".join(items)


def _gen_spec(r: random.Random, local_names: tuple[str, ...]) -> str:
    k = r.random()
    if k < 0.05:
        return r.choice(["minutely", "hourly", "daily", "weekly", "monthly", "quarterly"])
    if k < 0.07:
        return f"@{r.randint(0, 7_000_000_000)}"
    parts = []
    if r.random() < 0.4:
        days = [r.choice(_WD) + (r.choice(["..", "-"]) + r.choice(_WD) if r.random() < 0.3 else "")]
        parts.append(",".join(days))
    if r.random() < 0.5:
        sep = r.choice(["-", "-", "~"])
        year = r.choice(["*", "*", _component(r, 2020, 2199), str(r.randint(0, 99))])
        day = _component(r, 1, 28 if sep == "~" else 31)
        parts.append(f"{year}-{_component(r, 1, 12)}{sep}{day}")
    if r.random() < 0.8:
        hours = (
            _component(r, 0, 23)
            if r.random() < 0.6
            else r.choice(["1,2", "2..3", "0/1", "23,0,1,2,3"])
        )
        t = f"{hours}:{_component(r, 0, 59)}"
        if r.random() < 0.6:
            t += ":" + _component(r, 0, 59, usec=True)
        parts.append(t)
    text = " ".join(parts) or "*-*-*"
    tail = r.choice(_TAILS + [" " + n for n in local_names])
    text += tail
    if r.random() < 0.15:  # break it a little
        chars = list(text)
        pos = r.randrange(len(chars) + 1)
        chars.insert(pos, r.choice("0123456789*-~:., /@Mx"))
        text = "".join(chars)
    return text


_BLOCK_START = re.compile(r"^\s*(Original form|Normalized form): (.*)$")
_ROW = re.compile(r"^\s*([^:]+(?:\(in UTC\))?[^:]*):\s(.*)$")


def _analyze_blocks(stdout: str) -> list[dict[str, Any]]:
    """Split systemd-analyze's output into one dict per printed table."""
    blocks: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    for line in stdout.splitlines():
        if not line.strip():
            continue
        label, _, value = line.strip().partition(": ")
        if label == "Original form" or (
            label == "Normalized form" and (cur is None or "normalized" in cur)
        ):
            cur = {"local": [], "utc": []}
            blocks.append(cur)
        assert cur is not None, line
        if label == "Normalized form":
            cur["normalized"] = value
        elif label == "Next elapse" and value == "never":
            cur["never"] = True
        elif label == "Next elapse" or label.startswith("Iter. #"):
            cur["local"].append(value)
        elif label == "(in UTC)":
            cur["utc"].append(value)
    return blocks


def _ours(specs: list[str], base: int, iterations: int) -> tuple[list[dict[str, Any]], list[str]]:
    """What systemd-analyze would print, as blocks, computed in the same order."""
    blocks: list[dict[str, Any]] = []
    errors: list[str] = []
    show_utc = not public.in_utc_timezone()
    for text in specs:
        try:
            spec = cal.CalendarSpec.parse(text)
        except InvalidCalendarSpecError as exc:
            errors.append(f"Failed to parse calendar specification '{text}'")
            del exc
            continue
        block: dict[str, Any] = {"normalized": spec.normalized, "local": [], "utc": []}
        n = base
        failed = False
        for i in range(iterations):
            r, err = spec._next(n)
            if err == errno.ENOENT:
                if i == 0:
                    block["never"] = True
                break
            if err:
                errors.append(f"Failed to determine next elapse for '{text}'")
                failed = True
                break
            block["local"].append(public.format_timestamp(r))
            if show_utc:
                block["utc"].append(public.format_timestamp(r, utc=True))
            n = r
        if not failed:
            blocks.append(block)
    return blocks, errors


def _systemd_analyze() -> str:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.fail("systemd-analyze (systemd 252) is needed as the oracle for this test")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    if not version.stdout.startswith("systemd 252"):
        pytest.fail(f"the oracle must be systemd 252, found: {version.stdout.splitlines()[0]}")
    return exe


# (TZ, base time): bases sit near daylight-saving transitions of those zones.
RANDOM_BATCHES = [
    ("", 1700000000),
    (":Europe/Berlin", 1711846800 - 5 * 3600),  # 2024-03-31 spring forward
    (":Europe/Berlin", 1729990800 - 3 * 86400),  # 2024-10-27 fall back
    (":America/New_York", 1710054000 - 2 * 3600),  # 2024-03-10
    (":America/New_York", 1730613600 - 86400),  # 2024-11-03
    (":Australia/Lord_Howe", 1712413800 - 7200),  # 30-minute DST ends
    (":Australia/Lord_Howe", 1728142200 - 86400),
    (None, 1500000000),
]


@pytest.mark.parametrize(("tz", "base"), RANDOM_BATCHES)
def test_random_specs_match_systemd_analyze(tz: str | None, base: int, set_tz: SetTZ) -> None:
    exe = _systemd_analyze()
    set_tz(tz)
    r = random.Random(f"{tz}:{base}")
    names = tuple(n for n in public.local_timezone_names() if n and n != "UTC")
    specs = [_gen_spec(r, names) for _ in range(60)]
    iterations = 6
    env = dict(os.environ)
    env.pop("TZ", None)
    if tz is not None:
        env["TZ"] = tz
    env["SYSTEMD_LOG_LEVEL"] = "err"
    proc = subprocess.run(
        [exe, "calendar", f"--base-time=@{base}", f"--iterations={iterations}", "--", *specs],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    theirs = _analyze_blocks(proc.stdout)
    their_errors = [
        line.rsplit("':", 1)[0] + "'"
        for line in proc.stderr.splitlines()
        if line.startswith("Failed to")
    ]
    cal._reset_libc_state()  # like the fresh systemd-analyze process
    ours, our_errors = _ours(specs, base * 1_000_000, iterations)
    assert our_errors == their_errors
    assert len(ours) == len(theirs)
    for mine, other in zip(ours, theirs, strict=True):
        assert mine == other, mine["normalized"]
    assert (proc.returncode != 0) == bool(their_errors)


def test_docstring_examples(set_tz: SetTZ) -> None:
    import doctest

    import sysd.calendar

    set_tz("")
    for module in (sysd.calendar, cal):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
