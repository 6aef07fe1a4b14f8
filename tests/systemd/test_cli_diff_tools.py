"""sysd's CLI against systemd 252's own tools, on the same inputs, inside the sandbox.

``sysd escape`` against systemd-escape (seeded random strings, every mode), ``sysd
calendar`` against ``systemd-analyze calendar`` (seeded random specs, valid and not),
``sysd timers`` against ``systemctl list-timers`` (also over ``-H``); ``sysd logs``
against journalctl is in test_cli_diff_logs.py.  Stdout and the exit status must be the
same; the differences sysd makes on purpose are named in ``INTENTIONAL``
(cli_diff_support.py), listed under "Intentional differences from systemd's tools" in
docs/cli.md, and skipped (or checked in their documented form) by that name.

sysd runs in-process (``sysd.cli.main``) where many cases are compared, as a subprocess
where the process matters (exit statuses of argument errors, a time namespace).  Random
cases are bounded and seeded: the same inputs on every run.
"""

from __future__ import annotations

import json
import os
import random
import re
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cli_diff_support import ENV, INTENTIONAL, ROOT, SEED, InProcess, _sandwich, sysd_cli, tool

import sysd
import sysd.journal
from sysd._core import calendar as cal


def test_intentional_differences_are_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "## Intentional differences from systemd's tools" in text
    for name in INTENTIONAL:
        assert f"`{name}`" in text, name


# ============================================================================= escape

_PIECES = [
    *"abcXYZ019", "-", "/", "//", ".", "..", "_", ":", "@", " ", "\\", "x", "~", "*", "é", "\u2713",
    "\x01", "\t", "\n", "\\x2d", "\\x2f", "\\x00", "\\x5c", "\\xff", "\\xc3\\xa9", "\\x2e", "\\x",
    "\\xg1", "\udcff", "\udcc3", ".service", "@.service", "@x.mount", "-.slice", "/dev/sda",
]  # fmt: skip


def _random_strings(rng: random.Random, n: int) -> list[str]:
    out = ["", "/", "-", ".", "..", "a", "/a/", "/a/../b", "\\x00", "a\\x00b", "-a\\x00b"]
    out += ["/\\x00", "a-\\x00", "\\x00\\x00", "a\n\nb", "a\rb\n", "\n", "\udcff\n\n"]
    while len(out) < n:
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 7)))
        if rng.random() < 0.3:
            text = "/" + text
        if rng.random() < 0.15:
            text = text * rng.randint(20, 60)  # near and over the 255-byte limits
        out.append(text)
    return out


ESCAPE_MODES = [
    [], ["--path"], ["--unescape"], ["--unescape", "--path"], ["--mangle"],
    ["--unescape", "--instance"], ["--unescape", "--instance", "--path"],
    ["--template=foo@.service"], ["--template=foo@.service", "--path"],
    ["--unescape", "--template=foo@.service"], ["--unescape", "--path", "--template=foo@.service"],
    ["--suffix=mount"], ["--suffix=timer", "--path"], ["--suffix=waldo"],
    ["--template=foo.service"],
    ["--unescape", "--suffix=mount"], ["--mangle", "--path"], ["--instance"],
]  # fmt: skip


@pytest.mark.parametrize("mode", ESCAPE_MODES, ids=lambda m: " ".join(m) or "escape")
def test_escape_is_systemd_escape(mode: list[str], inproc: InProcess) -> None:
    """Seeded random strings, one at a time and all at once: stdout, stderr and status."""
    rng = random.Random(f"{SEED} {mode}")
    strings = _random_strings(rng, 60)
    if "--instance" in mode or ("--template=foo@.service" in mode and "--unescape" in mode):
        strings = [f"foo@{s}.service" if rng.random() < 0.8 else s for s in strings]
    diffs = []
    for args in [[s] for s in strings] + [strings[:20], strings[20:40]]:
        theirs = tool("systemd-escape", *mode, "--", *args)
        rc, out, err = inproc("escape", *mode, "--", *args)
        if (rc, out, err) != (theirs.returncode, theirs.stdout, theirs.stderr):
            diffs.append((args, (rc, out, err), (theirs.returncode, theirs.stdout, theirs.stderr)))
    assert not diffs, "\n".join(map(repr, diffs[:10]))


def test_escape_without_strings_and_bad_options(inproc: InProcess) -> None:
    assert inproc("escape")[:2] == (1, b"")
    assert tool("systemd-escape").returncode == 1
    # an unknown option: exit 1, as systemd-escape
    assert inproc("escape", "--waldo", "x")[:2] == (1, b"")
    assert tool("systemd-escape", "--waldo", "x").returncode == 1


# =========================================================================== calendar

_WEEKDAYS = ["Mon", "Tue..Fri", "Sat,Sun", "Wed..Mon", "mon", "Monday", "Fri..Tue,Thu", "Sun",
             "Mon,Mon", "Thu..Thu", "Mo", "Sat..Sun,Wed"]  # fmt: skip
_YEARS = ["*", "2024", "2023..2027", "2025/2", "2026,2028", "1970", "2199"]
_MONTHS = ["*", "1", "02", "1..3", "*/3", "12", "2,8", "6/2", "13", "0"]
_DAYS = ["*", "1", "31", "1,15", "29", "~1", "~7/2", "5..9", "*/10", "30", "32", "~03", "1..10/2",
         "28..31", "~1..3", "1/0"]  # fmt: skip
_HOURS = ["*", "0", "9", "00..12", "*/6", "8/4", "23", "24", "1,13", "02", "9..17", "9..17/2",
          "22..2"]  # fmt: skip
_MINUTES = ["00", "*", "*/15", "30", "0,30", "59", "5..7", "60", "*/7"]
_SECONDS = ["00", "*", "30", "1.5", "*/10", "0/0.5", "59.999999", "60", "00.000001",
            "1.125..2.125", "*/0.25", "05..07/1", "1.1234567"]  # fmt: skip
_ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
          "Pacific/Auckland", "Nowhere/Land", "utc"]  # fmt: skip
_KEYWORDS = ["minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually",
             "quarterly", "semiannually", "@1700000000", "@0", "@", "today", "Daily"]  # fmt: skip
_NOISE = ["", " ", "-", ":", ",", "..", "/", "~", "x", "*", "0"]


def _random_spec(rng: random.Random) -> str:
    if rng.random() < 0.12:
        spec = rng.choice(_KEYWORDS)
        return spec + (" " + rng.choice(_ZONES) if rng.random() < 0.3 else "")
    parts = []
    if rng.random() < 0.4:
        parts.append(rng.choice(_WEEKDAYS))
    if rng.random() < 0.6:
        date = f"{rng.choice(_YEARS)}-{rng.choice(_MONTHS)}"
        day = rng.choice(_DAYS)
        date += day if day.startswith("~") else f"-{day}"
        if rng.random() < 0.2:
            date = date.split("-", 1)[1]  # month-day only
        parts.append(date)
    if rng.random() < 0.8 or len(parts) == 0:
        clock = f"{rng.choice(_HOURS)}:{rng.choice(_MINUTES)}"
        if rng.random() < 0.5:
            clock += f":{rng.choice(_SECONDS)}"
        parts.append(clock)
    if rng.random() < 0.25:
        parts.append(rng.choice(_ZONES))
    spec = " ".join(parts)
    if rng.random() < 0.1:  # a damaged one
        i = rng.randrange(len(spec) + 1)
        spec = spec[:i] + rng.choice(_NOISE) + spec[i + 1 :]
    return spec


# chosen ones first: DST gaps, the past, sub-second repetition, a bad one
CHOSEN_SPECS = [
    "Mon..Fri *-*-* 09:00", "daily", "weekly Pacific/Auckland", "*-*-* 02:30 Europe/Berlin",
    "Sat,Sun 08:05:40", "*:0/15", "2003-03-05 05:40", "*-*~01 12:00 UTC", "@1493187147",
    "00:00:1.125..2.125", "bad spec", "00:00:00/0.00000001", "Wed..Sat,Tue 12-10-15 1:2:3",
    "*-*-* 02:30:00", "*-03-31 02:00..03:00/10", "Sun *-10-25..31 01:30",
]  # fmt: skip
_FROM_NOW = re.compile(rb"^( *From now: ).*$", re.MULTILINE)


@pytest.mark.parametrize(
    ("tz", "base", "iterations"),
    [("UTC", "@1700000000", 1), (":Europe/Berlin", "@1711846800", 3),
     (":America/New_York", "@1730600000", 5), (":Australia/Lord_Howe", "@1712400000", 2),
     (":Europe/Berlin", "@1700000000", 4), (":America/New_York", "@1711846800", 4)],
)  # fmt: skip
def test_calendar_is_systemd_analyze(
    tz: str, base: str, iterations: int, inproc: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeded random specs (some invalid), all in one run: stdout, failures and status."""
    rng = random.Random(f"{SEED} {tz}")
    specs = list(dict.fromkeys([*CHOSEN_SPECS, *(_random_spec(rng) for _ in range(150))]))
    args = ["calendar", f"--base-time={base}", f"--iterations={iterations}", "--", *specs]
    theirs = tool("systemd-analyze", *args, env={**ENV, "TZ": tz, "SYSTEMD_LOG_LEVEL": "err"})
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    cal._reset_libc_state()  # like a freshly started systemd-analyze
    rc, out, err = inproc(*args)
    # 'From now:' depends on the wall clock of each run: keep the row, drop the value
    mine_blocks = _FROM_NOW.sub(rb"\1...", out).split(b"\n\n")
    their_blocks = _FROM_NOW.sub(rb"\1...", theirs.stdout).split(b"\n\n")
    assert mine_blocks == their_blocks
    failed = [line for line in err.splitlines() if line.startswith(b"Failed")]
    assert failed == [line for line in theirs.stderr.splitlines() if line.startswith(b"Failed")]
    assert rc == theirs.returncode
    assert len(failed) > 20 and len(their_blocks) > 50  # the mix has both kinds


BASE_TIMES = [
    "2023-11-14 23:13:20 UTC", "Tue 2023-11-14 23:13 UTC", "2023-11-14 23:13:20 utc",
    "2023-11-14 23:13:20 CEST", "2023-11-14 23:13:20 CET", "2023-11-14 23:13:20 GMT",
    "2023-11-14 23:13:20 Europe/Berlin", "2023-11-14 23:13:20 Z", "Wed 2023-11-14",
    "Tue 2023-11-14", "Nov 14 23:13:20", "2023-11-14 23:13:20.1234567", "2023-02-30",
    "2023-11-14 24:00", "2023-11-14 23:13:60", "@1700000000.5", "@0", "20231114", "yesterday",
    "-1h", "+3d", "today", "23:13", "2 days ago", "now", "", "garbage", "1969-12-31",
]  # fmt: skip


def test_calendar_base_times_are_systemd_analyzes(
    inproc: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--base-time= in every form systemd's timestamps have, and some it refuses."""
    monkeypatch.setenv("TZ", ":Europe/Berlin")
    time.tzset()
    env = {**ENV, "TZ": ":Europe/Berlin", "SYSTEMD_LOG_LEVEL": "err"}
    for base in BASE_TIMES:
        args = ["calendar", f"--base-time={base}", "--iterations=2", "*:0/20", "Mon 04:00"]

        def theirs(args: list[str] = args) -> tuple[int, bytes]:
            p = tool("systemd-analyze", *args, env=env)
            return p.returncode, _FROM_NOW.sub(rb"\1...", p.stdout)

        def mine(args: list[str] = args) -> tuple[int, bytes]:
            cal._reset_libc_state()
            rc, out, _ = inproc(*args)
            return rc, _FROM_NOW.sub(rb"\1...", out)

        (rc, out), (want_rc, want) = _sandwich(theirs, mine)  # "now" may move on
        assert (rc, out) == (want_rc, want), base
    # `calendar-base-time-iso`
    iso = ["calendar", "--base-time=2023-11-14T23:13:20+01:00", "daily"]
    assert tool("systemd-analyze", *iso, env=env).returncode == 1
    assert inproc(*iso)[0] == 0


# ============================================================================= timers

RUN = Path("/run/systemd/system")


STAMPS = Path("/var/lib/systemd/timers")


@pytest.fixture
def timers(sd: sysd.Systemd) -> Iterator[dict[str, str]]:
    """A calendar timer, a monotonic one (OnActiveSec=) and a persistent one that last
    fired three days ago (its stamp file says so), beside the system's own."""
    tag = uuid.uuid4().hex[:6]
    cal, mono, pers = f"sysd-diff-cal-{tag}", f"sysd-diff-mono-{tag}", f"sysd-diff-pers-{tag}"
    for name in (cal, pers):
        (RUN / f"{name}.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
    (RUN / f"{cal}.timer").write_text("[Timer]\nOnCalendar=*-*-* 04:05:06\n")
    # no elapse was missed since the stamp: loading it does not fire the timer
    (RUN / f"{pers}.timer").write_text("[Timer]\nOnCalendar=2099-01-01\nPersistent=true\n")
    STAMPS.mkdir(parents=True, exist_ok=True)
    stamp = STAMPS / f"stamp-{pers}.timer"
    stamp.touch()
    then = time.time() - 3 * 86400 - 7
    os.utime(stamp, (then, then))
    sd.daemon_reload()
    sd.unit(f"{cal}.timer").start()
    sd.unit(f"{pers}.timer").start()
    tool("systemd-run", f"--unit={mono}", "--on-active=2h", "--quiet", "/bin/true")
    yield {"cal": f"{cal}.timer", "mono": f"{mono}.timer", "pers": f"{pers}.timer", "tag": tag}
    for name in (cal, mono, pers):
        tool("systemctl", "stop", f"{name}.timer")
    for path in [*RUN.glob(f"sysd-diff-*-{tag}.*"), stamp]:
        path.unlink(missing_ok=True)
    sd.daemon_reload()


@pytest.mark.parametrize(
    "extra",
    [[], ["--all"], ["--no-legend"], ["--all", "--no-legend"], ["PATTERN"], ["sysd-diff-nomatch-*"],
     ["--no-legend", "sysd-diff-nomatch-*"], ["systemd-tmpfiles-clean"], ["BARE", "--all"],
     ["-l"], ["--full", "--all"], ["--plain"], ["--plain", "--all", "--no-legend"],
     ["--plain", "-l", "PATTERN"]],
)  # fmt: skip
def test_timers_is_list_timers(timers: dict[str, str], extra: list[str], inproc: InProcess) -> None:
    extra = [
        {"PATTERN": f"sysd-diff-*-{timers['tag']}*", "BARE": timers["pers"][: -len(".timer")]}
        .get(word, word) for word in extra
    ]  # fmt: skip

    def theirs() -> tuple[int, bytes]:
        p = tool("systemctl", "list-timers", "--no-pager", *extra)
        return p.returncode, p.stdout

    def mine() -> tuple[int, bytes]:
        rc, out, _ = inproc("timers", *extra)
        return rc, out

    got, want = _sandwich(theirs, mine)
    assert got == want
    if not extra or extra[0] == "--all":
        for key in ("cal", "mono", "pers"):
            assert timers[key].encode() in want[1]
        assert b"3 days ago" in want[1]
    if extra[:1] == [f"sysd-diff-*-{timers['tag']}*"]:
        assert want[1].count(timers["tag"].encode()) == 6  # 3 timers, 3 services


@pytest.fixture
def fake_ssh(tmp_path: Path) -> dict[str, str]:
    """An `ssh` that runs the remote command here: -H goes through systemd-stdio-bridge.

    sysd starts a master first (``-N``, ``ControlPath=``): the fake listens on that
    socket until it is ended; every other call runs its command string with sh."""
    fake = tmp_path / "ssh"
    listen = "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); "
    listen += "s.listen(); time.sleep(3600)"
    fake.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do case "$a" in ControlPath=*) cp="${a#ControlPath=}";; esac; done\n'
        f'case " $* " in *" -N "*) exec {sys.executable} -c "{listen}" "$cp";; esac\n'
        'while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done\n'
        'shift 2\nexec sh -c "$1"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return {**ENV, "PATH": f"{tmp_path}:{ENV['PATH']}"}


def test_timers_over_ssh_use_the_remote_clock(
    timers: dict[str, str], fake_ssh: dict[str, str], sd: sysd.Systemd
) -> None:
    """`timers-remote-clock`: sysd runs with its monotonic clock a day ahead of the
    manager's (a time namespace), as on another machine; the monotonic timer's next
    elapse must still be the manager's, not a day early as this machine's clocks say."""
    day = 86400
    # a user namespace of its own: setting a time namespace's offsets needs CAP_SYS_TIME
    argv = ["unshare", "--user", "--map-root-user", "--time", f"--monotonic={day}"]
    argv += [f"--boottime={day}", "--fork"]
    probe = tool(*argv, sys.executable, "-c", "import time; print(time.monotonic())")
    assert probe.returncode == 0, probe.stderr
    assert float(probe.stdout) > day > time.monotonic()
    proc = subprocess.run(
        [*argv, sys.executable, "-m", "sysd", "timers", "--json", "-H", "admin@example"],
        capture_output=True, timeout=60, check=False, env=fake_ssh,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    remote = {t["timer"]: t for t in json.loads(proc.stdout)}
    local = {t.timer: t for t in sd.list_timers()}
    for key in ("mono", "cal"):
        name = timers[key]
        want = local[name].next_elapse
        assert want is not None
        got = datetime.fromisoformat(remote[name]["next"])
        assert abs((got - want).total_seconds()) < 1, (key, got, want)
    # and locally nothing changes: this machine's clocks, as systemctl
    mine = sysd_cli("timers", "--json")
    here = {t["timer"]: t for t in json.loads(mine.stdout)}
    assert here[timers["cal"]]["next"] == remote[timers["cal"]]["next"]


def test_timers_over_ssh_are_list_timers_over_ssh(
    timers: dict[str, str], fake_ssh: dict[str, str]
) -> None:
    """The same clocks on both ends (no time namespace): `sysd timers -H` prints what
    `systemctl -H list-timers` prints."""
    for extra in ([], ["--all"]):

        def theirs(extra: list[str] = extra) -> tuple[int, bytes]:
            p = tool("systemctl", "-H", "admin@example", "list-timers", *extra, env=fake_ssh)
            return p.returncode, p.stdout

        def mine(extra: list[str] = extra) -> tuple[int, bytes]:
            p = sysd_cli("timers", "-H", "admin@example", *extra, env=fake_ssh)
            return p.returncode, p.stdout

        got, want = _sandwich(theirs, mine)
        assert got == want
        assert timers["mono"].encode() in want[1]


def test_clock_pair_takes_the_freshest_pair() -> None:
    from sysd._async.timers import clock_pair

    infinity = 2**64 - 1
    manager = {
        "UserspaceTimestamp": 1_000, "UserspaceTimestampMonotonic": 10,
        "FinishTimestamp": 5_000, "FinishTimestampMonotonic": 50,
        "InitRDTimestamp": 0, "InitRDTimestampMonotonic": 0,  # unset
        "Version": "252", "NNames": 3,
    }  # fmt: skip
    timer = {"LastTriggerUSec": 9_000, "LastTriggerUSecMonotonic": 90}
    never = {"LastTriggerUSec": infinity, "LastTriggerUSecMonotonic": infinity}
    assert clock_pair([manager]) == (5_000, 50)
    assert clock_pair([manager, timer, never]) == (9_000, 90)
    assert clock_pair([{"FooTimestampMonotonic": 5}, never, {}]) is None


def test_timers_over_a_broken_ssh_fail_as_systemctl(tmp_path: Path) -> None:
    fake = tmp_path / "ssh"
    fake.write_text(
        "#!/bin/sh\necho 'ssh: connect to host example port 22: refused' >&2\nexit 255\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {**ENV, "PATH": f"{tmp_path}:{ENV['PATH']}"}
    theirs = tool("systemctl", "-H", "example", "list-timers", env=env)
    mine = sysd_cli("timers", "-H", "example", env=env)
    assert (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout) == (1, b"")
    # what ssh said (systemctl lets it through first), in sysd's one-line error
    assert mine.stderr.startswith(b"sysd: ") and b"port 22: refused" in mine.stderr
