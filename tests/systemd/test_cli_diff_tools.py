"""sysd's CLI against systemd 252's own tools, on the same inputs, inside the sandbox.

``sysd logs`` against journalctl (every output format, -n, -p, -S/-U, -g, -r), ``sysd
escape`` against systemd-escape (seeded random strings, every mode), ``sysd calendar``
against ``systemd-analyze calendar`` (seeded random specs, valid and not), ``sysd timers``
against ``systemctl list-timers`` (also over ``-H``).  Stdout and the exit status must be
the same; the differences sysd makes on purpose are named in :data:`INTENTIONAL`, listed
under "Intentional differences from systemd's tools" in docs/cli.md, and skipped (or
checked in their documented form) by that name.

sysd runs in-process (``sysd.cli.main``) where many cases are compared, as a subprocess
where the process matters (exit statuses of argument errors, a time namespace).  Random
cases are bounded and seeded: the same inputs on every run.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import sysd
import sysd.journal
from sysd._core import calendar as cal
from sysd.cli import main
from sysd.journal import OUTPUT_MODES, Entry, send, send_fields

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261207

# name -> what sysd does on purpose that systemd 252's tool does not (docs/cli.md)
INTENTIONAL: dict[str, str] = {
    "logs-json-key-order": "JSON objects list the keys in the entry's order",
    "logs-grep-lines-order": "-g with -n prints the last N matches oldest first",
    "logs-until-lines": "-U with -n: the last N entries up to then",
    "logs-after-cursor-filtered": "--after-cursor whose entry -p/-t leave out: none skipped",
    "timers-remote-clock": "timers -H: monotonic elapses on the remote manager's clock",
    "logs-device-path": "logs /dev/NODE: not supported (an error)",
    "logs-user-follow-no-files": "logs --user -f without user journal files: exits",
    "calendar-base-time-iso": "calendar --base-time= also takes ISO 8601 with T",
}

ENV = {
    "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "SYSTEMD_COLORS": "0",
    "TZ": "Europe/Berlin",
    "PYTHONPATH": str(ROOT / "src"),
    "COLUMNS": "80",
}


def test_intentional_differences_are_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "## Intentional differences from systemd's tools" in text
    for name in INTENTIONAL:
        assert f"`{name}`" in text, name


def tool(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which(argv[0], path=ENV["PATH"])
    if exe is None:
        pytest.fail(f"{argv[0]} (systemd 252) is needed as the oracle for this test")
    return subprocess.run(
        [exe, *argv[1:]], capture_output=True, timeout=60, check=False, env=env or ENV
    )


def sysd_cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "sysd", *argv],
        capture_output=True,
        timeout=60,
        check=False,
        env=env or ENV,
    )


class InProcess:
    """``sysd.cli.main`` in this process with ENV's locale, zone, width and colours."""

    def __init__(self, capsys: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        for key in ("TZ", "COLUMNS", "SYSTEMD_COLORS", "LANG", "LC_ALL"):
            monkeypatch.setenv(key, ENV[key])
        monkeypatch.delenv("NO_COLOR", raising=False)
        time.tzset()

    def __call__(self, *argv: str) -> tuple[int, bytes, bytes]:
        self.capsys.readouterr()
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 2
        out, err = self.capsys.readouterr()
        return rc, out, err


@pytest.fixture
def inproc(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcess]:
    yield InProcess(capsysbinary, monkeypatch)
    monkeypatch.undo()
    time.tzset()


def _sandwich(
    theirs: Callable[[], tuple[int, bytes]], mine: Callable[[], tuple[int, bytes]], tries: int = 8
) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
    """The tool, sysd, the tool again: when the tool's two runs agree, what it shows did
    not change while sysd ran (a relative time ticking over, PID 1 logging one more line,
    a timer another test left behind that fired "500ms ago"), so sysd must print the same.
    Retried while they disagree, a little later each time: no test of timing."""
    for attempt in range(tries):
        before, got, after = theirs(), mine(), theirs()
        if before == after:
            return got, before
        time.sleep(0.1 * attempt)
    raise AssertionError(f"the tool's own output kept changing over {tries} tries")


# =============================================================================== logs


def _wait_tagged(tag: str, n: int, timeout: float = 15) -> list[Entry]:
    deadline = time.monotonic() + timeout
    while True:
        with sysd.journal.entries(matches=[f"TEST_TAG={tag}"]) as it:
            got = list(it)
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def _at(usec: int) -> str:
    return f"@{usec // 10**6}.{usec % 10**6:06d}"


class Logs:
    """Entries of one fresh TEST_TAG in every shape the formats and filters treat
    differently; every command selects them (and only them) by that field."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex
        self.match = f"TEST_TAG={self.tag}"
        shapes: list[dict[str, Any]] = [
            {"message": "plain"},
            {"message": "no priority at all", "priority": None},
            {"message": "tab\there and ansi \x1b[31mred\x1b[0m, carriage return\r"},
            {"message": "three\nlines\nhere", "priority": 3},
            {"message": "trailing newline\n"},
            {"message": ""},
            {"message": "long " + "x" * 400},
            {"message": b"not utf-8 \xff\xfe"},
            {"message": "unicode \u00e9\u00e8 \u2713 \u65e5\u672c"},
            {"message": 'quotes " and backslash \\', "priority": None},
            {"message": "An ERROR in capitals", "priority": 4},
            {"message": "syslog pid", "SYSLOG_PID": "4242", "SYSLOG_IDENTIFIER": "custom"},
            {"message": "crit", "priority": 2},
            {"message": "err error", "priority": 3},
            {"message": "warning", "priority": 4},
            {"message": "notice", "priority": 5},
            {"message": "debug error", "priority": 7},
            {"message": "binary field", "BLOB": b"\x00\x01\xff", "NL": "a\nb"},
            {"message": "repeated", "REP": ["one", "two", "three"], "priority": None},
            {"message": "big field", "BIG": "y" * 5000},
            {"message": "control char \x01 inside"},
            {"message": "an error without priority", "priority": None},
            {"message": "last error", "priority": 6},
            {"message": "\u00c9COLE \u00e9cole, non-ASCII capitals", "priority": 5},
        ]
        for shape in shapes:
            fields = {k: v for k, v in shape.items() if k not in ("message", "priority")}
            send(shape["message"], priority=shape.get("priority", 6), TEST_TAG=self.tag, **fields)
        # no MESSAGE and no PRIORITY: journalctl -g steps over it, -p debug shows it
        send_fields({"TEST_TAG": self.tag, "SYSLOG_IDENTIFIER": "custom", "OTHER": "x"})
        self.count = len(shapes) + 1
        got = _wait_tagged(self.tag, self.count)
        assert len(got) == self.count
        self.entries = got
        stamps = [e.realtime_usec for e in got]
        self.since = _at(stamps[5])
        self.until = _at(stamps[17])
        self.cursor = str(got[7].cursor)
        self.last_cursor = str(got[-1].cursor)


@pytest.fixture(scope="module")
def logs(systemd_host: None) -> Logs:
    return Logs()


def _json_objects(text: bytes, mode: str) -> list[Any]:
    body = text.decode()
    if mode == "json-sse":
        return [json.loads(part[len("data: ") :]) for part in body.split("\n\n") if part]
    if mode == "json-seq":
        return [json.loads(part) for part in body.split("\x1e") if part]
    decoder = json.JSONDecoder()
    out, pos = [], 0
    while pos < len(body):
        while pos < len(body) and body[pos].isspace():
            pos += 1
        if pos < len(body):
            obj, pos = decoder.raw_decode(body, pos)
            out.append(obj)
    return out


_JSON_PAIR = re.compile(rb'"[A-Z0-9_]+":(?:"[^"\\]*(?:\\.[^"\\]*)*"|null|\[[^]]*\]|-?\d+)')


def _same_json(mine: bytes, theirs: bytes, mode: str) -> bool:
    """`logs-json-key-order`: the same objects, the same value texts, the same lines."""
    if _json_objects(mine, mode) != _json_objects(theirs, mode):
        return False
    if mine.count(b"\n") != theirs.count(b"\n"):
        return False
    if mode == "json":
        for a, b in zip(mine.splitlines(), theirs.splitlines(), strict=True):
            if sorted(_JSON_PAIR.findall(a)) != sorted(_JSON_PAIR.findall(b)):
                return False
    return True


def _options(logs: Logs) -> list[list[str]]:
    s, u, c = logs.since, logs.until, logs.cursor
    b = logs.entries[0].boot_id
    return [
        [], ["-n", "3"], ["-n", "0"], ["-n", "all"], ["-n", "100"], ["-r"], ["-r", "-n", "2"],
        ["-p", "warning"], ["-p", "err..warning"], ["-p", "debug"], ["-p", "0..7"],
        ["-p", "7..0"], ["-p", "info"], ["-p", "debug", "-n", "3"], ["-p", "notice", "-r"],
        ["-S", s], ["-U", u], ["-S", s, "-U", u], ["-S", s, "-n", "3"], ["-S", s, "-n", "50"],
        ["-S", s, "-U", u, "-n", "2"], ["-S", s, "-r"], ["-U", u, "-r"], ["-S", s, "-r", "-n", "2"],
        ["-U", u, "-r", "-n", "2"], ["-S", s, "-U", u, "-r"], ["-n", "0", "-S", s],
        ["-U", u, "-n", "3"], ["-U", u, "-n", "0"],
        ["-g", "error"], ["-g", "ERR"], ["-g", "e.r+o"], ["-g", "zzz-no-match"],
        ["-g", "error", "-r"],
        ["-g", "error", "-n", "2", "-r"], ["-g", "error", "-n", "0"], ["-g", "zzz", "-n", "3"],
        ["-g", "zzz", "-n", "0"], ["-g", "zzz", "-q"], ["-U", u, "-g", "error"],
        ["-S", s, "-g", "error"], ["-g", "error", "-p", "err"], ["-t", "custom"],
        ["-t", "custom", "-p", "debug"], ["--utc"], ["-a"], ["--no-hostname"], ["-q", "-n", "0"],
        ["-b"], ["-b", "0"], ["-p", "debug", "-g", "error"], ["--no-full"], ["-n", "+3"],
        ["-c", c], ["--after-cursor", c], ["-c", c, "-n", "2"], ["-c", c, "-r"],
        ["--after-cursor", c, "-r", "-n", "3"], ["--after-cursor", logs.last_cursor],
        ["-c", c, "-U", u], ["--after-cursor", c, "-g", "error"], ["-p", "3", "-p", "5"],
        ["-t", "custom", "-t", "nosuch"], ["-g", "\u00c9"], ["-g", "\u00e9COLE"],
        ["-g", "\u00e9cole"], ["-g", "\u0394|\u00e9"],
        ["-g", "error|fine"], ["-g", "^$"], ["-u", "sysd-diff-nosuch"], ["-q"], ["-S", s, "-q"],
        ["-n", "0", "-r"], ["-n", "0", "-c", c], ["-n", "0", "-U", u, "-r"],
        ["--after-cursor", c, "-p", "err"], ["--after-cursor", c, "-p", "err", "-r"],
        ["--after-cursor", c, "-t", "custom", "-n", "1"], ["-g", "plain", "-n", "3", "-c", c],
        ["-g", "e", "-n", "2", "--after-cursor", c], ["-g", "zzz", "-n", "0", "-t", "nosuch"],
        ["-g", "zzz", "-n", "0", "-U", "@1"], ["-g", "plain", "-n", "0", "-c", c, "-p", "emerg"],
        ["-g", "zzz", "-n", "0", "-S", "@4000000000"], ["-g", "zzz", "-S", s, "-n", "3"],
        ["-b", b], ["-b", b.upper()], ["-b", f"{b}+0"], ["-b", f"{b}-1"], ["-b", f"{b}+1"],
        ["-b", "0123456789abcdef0123456789abcdef"], ["-b", "-0"], ["-b", "+0", "-n", "2"],
        ["-b", "1", "-n", "1"], ["-b", "-1"],
    ]  # fmt: skip


def _lines(opts: Sequence[str]) -> int | None:
    if "-n" not in opts:
        return None
    value = opts[opts.index("-n") + 1]
    return None if value == "all" else int(value)


def _intentional(opts: Sequence[str]) -> str | None:
    """Which documented difference a set of options runs into, if any."""
    if "--after-cursor" in opts and ("-p" in opts or "-t" in opts):
        return "logs-after-cursor-filtered"  # (the cursor's entry is not in the selection)
    n = _lines(opts)
    if n is None or n == 0 or "-r" in opts:
        return None
    if "-g" in opts:
        return "logs-grep-lines-order"
    if "-U" in opts and "-S" not in opts:
        return "logs-until-lines"
    return None


_CURSOR = re.compile(rb"^__CURSOR=(.*)$", re.MULTILINE)


def _core_options(logs: Logs) -> list[list[str]]:
    """What every output format is tried with (all of _options(): a few formats)."""
    s, u, c = logs.since, logs.until, logs.cursor
    return [
        [], ["-n", "3"], ["-n", "0"], ["-r", "-n", "2"], ["-p", "warning"], ["-p", "debug"],
        ["-S", s, "-U", u], ["-S", s, "-n", "3"], ["-U", u, "-r"], ["-g", "error"], ["-q"],
        ["-c", c, "-n", "2"], ["--utc"], ["-a"], ["--no-hostname"], ["--no-full"],
    ]  # fmt: skip


FULLY_TRIED = ("short", "short-precise", "cat", "json", "export", "verbose")


@pytest.mark.parametrize("mode", OUTPUT_MODES)
def test_logs_is_journalctl(logs: Logs, inproc: InProcess, mode: str) -> None:
    """Every output format with every option set: the same bytes and exit status."""
    diffs = []
    for opts in _options(logs) if mode in FULLY_TRIED else _core_options(logs):
        if _intentional(opts):
            continue  # test_logs_intentional_differences
        rc, out, err = inproc("logs", "-o", mode, *opts, logs.match)
        theirs = tool("journalctl", "--no-pager", "-o", mode, *opts, logs.match)
        if not opts:  # the comparison is about the entries written, not an empty output
            assert (
                out.count(logs.tag.encode())
                == (mode in ("verbose", "export") or mode.startswith("json")) * logs.count
                or b"plain" in out
            )
        want = theirs.stdout
        same = _same_json(out, want, mode) if mode.startswith("json") else out == want
        if not same or rc != theirs.returncode:
            diffs.append((opts, rc, theirs.returncode, out[:300], want[:300], err[:200]))
    assert not diffs, "\n".join(map(repr, diffs))


def test_logs_intentional_differences(logs: Logs, inproc: InProcess) -> None:
    """Where sysd differs on purpose, it picks the entries docs/cli.md says it does."""
    checked = set()
    for opts in _options(logs):
        name = _intentional(opts)
        if name is None:
            continue
        checked.add(name)
        n = _lines(opts)
        rc, out, _ = inproc("logs", "-o", "export", *opts, logs.match)
        mine = _CURSOR.findall(out)
        if name == "logs-after-cursor-filtered":  # what -c selects, less the cursor's entry
            at = ["-c" if o == "--after-cursor" else o for o in opts]
            theirs = tool("journalctl", "--no-pager", "-o", "export", *at, logs.match)
            want = [c for c in _CURSOR.findall(theirs.stdout) if c != logs.cursor.encode()]
        elif name == "logs-grep-lines-order":  # the same last N matches, oldest first
            theirs = tool("journalctl", "--no-pager", "-o", "export", *opts, logs.match)
            want = _CURSOR.findall(theirs.stdout)[::-1]
        else:  # logs-until-lines: the last N of what -U alone selects
            assert n is not None
            rest = [o for i, o in enumerate(opts) if o != "-n" and opts[i - 1 : i] != ["-n"]]
            theirs = tool("journalctl", "--no-pager", "-o", "export", *rest, logs.match)
            want = _CURSOR.findall(theirs.stdout)[-n:]
        assert (rc, mine) == (theirs.returncode, want), opts
        assert mine or "zzz" in opts, opts
    assert checked == {"logs-grep-lines-order", "logs-until-lines", "logs-after-cursor-filtered"}


def test_logs_time_forms_are_journalctls(logs: Logs, inproc: InProcess) -> None:
    """-S/-U in systemd's timestamp forms (relative ones between two journalctl runs
    that agree, since "now" moves on)."""
    first = datetime.fromtimestamp(logs.entries[5].realtime_usec // 10**6)  # local time
    wall = first.strftime("%Y-%m-%d %H:%M:%S")
    utc = datetime.fromtimestamp(logs.entries[5].realtime_usec // 10**6, UTC)
    forms = [
        ["--since=-1h"], ["--until=-1h"], ["--since=yesterday"], ["--until=+1h"],
        ["--since=2 days ago"], ["--until=today"], ["--since=now"], ["-S", wall],
        ["-S", f"{wall} CET"], ["-S", f"{wall} CEST"], ["-S", f"{wall} Europe/Berlin"],
        ["-S", utc.strftime("%Y-%m-%d %H:%M:%S UTC")], ["-U", f"{wall} Asia/Tokyo"],
        ["-S", first.strftime("%a %Y-%m-%d %H:%M:%S")], ["-S", first.strftime("%b %d %H:%M:%S")],
        ["-S", first.strftime("%H:%M:%S")], ["-U", first.strftime("%Y-%m-%d")],
        ["-S", f"@{logs.entries[5].realtime_usec / 10**6:.6f}"],
    ]  # fmt: skip
    for opts in forms:

        def theirs(opts: list[str] = opts) -> tuple[int, bytes]:
            p = tool("journalctl", "--no-pager", "-o", "cat", *opts, logs.match)
            return p.returncode, p.stdout

        def mine(opts: list[str] = opts) -> tuple[int, bytes]:
            rc, out, _ = inproc("logs", "-o", "cat", *opts, logs.match)
            return rc, out

        got, want = _sandwich(theirs, mine)
        assert got == want, opts


_ANSI = re.compile(rb"\x1b\[[0-9;]*m")
_TOKEN = re.compile(rb"\x1b\[[0-9;]*m[^\x1b]*\x1b\[0m")


def test_logs_colors_are_journalctls(
    logs: Logs, inproc: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSTEMD_COLORS", "1")
    env = {**ENV, "SYSTEMD_COLORS": "1"}
    diffs = []
    for mode in OUTPUT_MODES:
        for opts in (["-p", "debug"], ["-g", "e"], ["-g", "ERR|\u00e9"], ["-a", "-n", "5"]):
            rc, out, _ = inproc("logs", "-o", mode, *opts, logs.match)
            theirs = tool("journalctl", "--no-pager", "-o", mode, *opts, logs.match, env=env)
            if mode.startswith("json"):  # `logs-json-key-order`: the same coloured tokens
                same = _same_json(_ANSI.sub(b"", out), _ANSI.sub(b"", theirs.stdout), mode)
                if same and sorted(_TOKEN.findall(out)) == sorted(_TOKEN.findall(theirs.stdout)):
                    continue
            if (rc, out) != (theirs.returncode, theirs.stdout):
                diffs.append((mode, opts, out[:400], theirs.stdout[:400]))
    assert not diffs, "\n".join(map(repr, diffs))


def _both_logs(*args: str) -> bool:
    """``sysd logs ARGS`` and ``journalctl ARGS`` as processes: the same stdout and status."""
    mine, theirs = sysd_cli("logs", *args), tool("journalctl", "--no-pager", *args)
    return (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout)


def test_logs_as_a_process_and_its_errors(logs: Logs, tmp_path: Path) -> None:
    """Exit statuses and output of whole processes, including argument errors."""
    for opts in (
        ["-n", "3"],
        ["-o", "cat", "-p", "debug"],
        ["-g", "zzz"],
        ["-g", "zzz", "-n", "0"],
    ):
        assert _both_logs(*opts, logs.match), opts
    nothing = f"TEST_TAG={uuid.uuid4().hex}"
    for opts in ([], ["-o", "json"], ["-o", "cat"], ["-q"], ["-n", "0"]):
        assert _both_logs(*opts, nothing), opts
    # bad arguments: one line on stderr, nothing on stdout, exit 1 as journalctl
    bad_args = [
        ["-p", "loud"], ["-S", "nonsense"], ["-n", "x"], ["-b", "zz"], ["-o", "nope"],
        ["-f", "-r"], ["bad=match"], ["-g", "("], ["-S", logs.until, "-U", logs.since],
        ["-b", str(uuid.UUID(logs.entries[0].boot_id))],  # journalctl: a match, not a boot
    ]  # fmt: skip
    for bad in bad_args:
        proc = sysd_cli("logs", *bad)
        assert proc.returncode == 1 and proc.stdout == b"", (bad, proc.stderr)
        assert tool("journalctl", "--no-pager", *bad).returncode == 1, bad
    proc = sysd_cli("logs", "-D", str(tmp_path / "none"))
    assert proc.returncode == 1 and proc.stderr.startswith(b"sysd: no journal directory")
    assert tool("journalctl", "--no-pager", "-D", str(tmp_path / "none")).returncode == 1
    unit = f"sysd-diff-{uuid.uuid4().hex[:8]}"
    tool("systemd-run", f"--unit={unit}", "--wait", "--quiet", "sh", "-c", "echo unit line")
    cases = [(["-u", unit], mode) for mode in ("short", "cat", "with-unit")]
    cases += [(["-u", f"{unit[:-2]}*"], "cat"), (["-u", unit, "-u", "sysd-diff-nosuch-*"], "cat")]
    cases += [(["-u", "sysd-diff-nosuch-*"], "cat"), (["--user-unit", "nosuch-*"], "short")]
    for args, mode in cases:
        # PID 1 may still be logging about the unit: compare only between two journalctl
        # runs that agree (see _sandwich).  Globs that match no unit: journalctl fails.
        def theirs(args: list[str] = args, mode: str = mode) -> tuple[int, bytes]:
            p = tool("journalctl", "--no-pager", *args, "-o", mode)
            return p.returncode, p.stdout

        def mine(args: list[str] = args, mode: str = mode) -> tuple[int, bytes]:
            p = sysd_cli("logs", *args, "-o", mode)
            return p.returncode, p.stdout

        got, want = _sandwich(theirs, mine)
        assert got == want, (mode, args)
        assert (b"unit line" in want[1]) == (unit[:-2] in str(args)), args


@pytest.fixture(scope="module")
def user_tag(test_user: tuple[str, int]) -> str:
    """A line the test user logged (into their own journal, user-UID.journal), and waited
    for: ``journalctl --user -t TAG`` as that user shows it."""
    name = test_user[0]
    tag = f"sysd-user-{uuid.uuid4().hex[:8]}"
    tool("runuser", "-u", name, "--", "systemd-cat", "-t", tag, "echo", f"hello from {tag}")
    for _ in range(200):
        p = tool("runuser", "-u", name, "--", "journalctl", "--user", "-t", tag, "-o", "cat")
        if tag.encode() in p.stdout:
            return tag
        time.sleep(0.05)
    pytest.fail(f"{name}'s line never reached their journal")


USER_LOGS_CASES = [
    [], ["-n", "3"], ["-t", "TAG"], ["-t", "TAG", "-o", "cat"], ["-u", "default.target"],
    ["--user-unit", "default.target", "-o", "cat"], ["-q", "-n", "1"], ["-u", "nosuch-h7.service"],
    ["-o", "short-monotonic", "-r", "-n", "2"], ["-p", "info", "-t", "TAG", "-o", "verbose"],
    ["-o", "json", "-t", "TAG"], ["-g", "hello", "-t", "TAG"], ["-g", "zzz-no-match"],
]  # fmt: skip


@pytest.mark.parametrize("who", ["user", "root"])
@pytest.mark.parametrize("extra", USER_LOGS_CASES, ids=" ".join)
def test_logs_user_is_journalctl_user(
    test_user: tuple[str, int], user_tag: str, who: str, extra: list[str]
) -> None:
    """``sysd logs --user`` (and ``sysd --user logs``) against ``journalctl --user``: the
    calling user's own journal, -u naming their units; root has none ("No journal files
    were found.", exit 0).  stdout, stderr and exit status."""
    extra = [user_tag if word == "TAG" else word for word in extra]
    runas = ["runuser", "-u", test_user[0], "--"] if who == "user" else []
    json_mode = "json" in extra

    def seen(p: subprocess.CompletedProcess[bytes]) -> tuple[int, bytes]:
        out = p.stdout
        if json_mode:  # `logs-json-key-order` (journalctl's order changes from run to run)
            out = b"".join(
                json.dumps(json.loads(line), sort_keys=True).encode() + b"\n"
                for line in out.splitlines()
            )
        return p.returncode, out + b"\0" + p.stderr

    def theirs() -> tuple[int, bytes]:
        return seen(tool(*runas, "journalctl", "--no-pager", "--user", *extra))

    def mine() -> tuple[int, bytes]:
        where = ["--user", "logs"] if extra[:1] == ["-n"] else ["logs", "--user"]
        argv = [*runas, sys.executable, "-m", "sysd", *where, "--no-pager", *extra]
        return seen(subprocess.run(argv, capture_output=True, timeout=60, check=False, env=ENV))

    got, want = _sandwich(theirs, mine)
    assert got == want
    if who == "root":
        assert want[1] in (b"-- No entries --\n\0No journal files were found.\n", b"\0")
    elif extra[:1] == ["-t"]:
        assert f"hello from {user_tag}".encode() in want[1]


def test_entries_of_the_users_own_journal(
    as_user: Any, test_user: tuple[str, int], user_tag: str
) -> None:
    """``entries(user=True)``: the calling user's files only; none for root."""
    proc = as_user(
        f"""
        import sysd.journal
        with sysd.journal.entries(user=True, identifier={user_tag!r}) as it:
            print([e.message for e in it])
        with sysd.journal.entries(user=True, lines=1) as it:
            print({{e.get("_UID") for e in it}})
        """
    )
    assert proc.returncode == 0, proc.stderr
    messages, uids = proc.stdout.splitlines()
    assert messages == repr([f"hello from {user_tag}"])
    assert uids == repr({str(test_user[1])})
    with pytest.raises(sysd.JournalNotFoundError):  # root logs into the system journal
        sysd.journal.entries(user=True)
    with pytest.raises(sysd.InvalidCallError):
        sysd.journal.entries(user=True, directory="/var/log/journal")


def test_logs_of_an_executable_or_script_path(logs: Logs, tmp_path: Path) -> None:
    """Path arguments: an executable's _EXE=, a script's _COMM= (and the interpreter's
    _EXE= unless it is a symlink); errors for what is neither."""
    tag = uuid.uuid4().hex
    real = os.path.realpath(sys.executable)
    scripts = []
    for name, shebang in (("sysd-diff-script-long-name", sys.executable), ("sdscript", real)):
        script = tmp_path / name
        code = f"import sysd.journal\nsysd.journal.send('from a script', TEST_TAG='{tag}')\n"
        script.write_text(f"#!{shebang}\n{code}")
        script.chmod(0o755)
        subprocess.run([str(script)], env=ENV, check=True, timeout=60)
        scripts.append(str(script))
    assert len(_wait_tagged(tag, 2)) == 2
    for path in (sys.executable, real, *scripts):
        for match in (logs.match, f"TEST_TAG={tag}"):
            assert _both_logs("-o", "cat", path, match), (path, match)
    (tmp_path / "plain").write_text("not executable\n")
    for bad in (str(tmp_path / "missing"), str(tmp_path), str(tmp_path / "plain")):
        mine, theirs = sysd_cli("logs", bad), tool("journalctl", "--no-pager", bad)
        assert (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout) == (1, b"")
        assert mine.stderr == theirs.stderr, bad
    # `logs-device-path`: journalctl matches the device's kernel messages; sysd refuses
    assert sysd_cli("logs", "/dev/null").returncode == 1


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
    """An `ssh` that runs the remote command here: -H goes through systemd-stdio-bridge."""
    fake = tmp_path / "ssh"
    fake.write_text(
        '#!/bin/sh\nwhile [ $# -gt 0 ] && [ "$1" != systemd-stdio-bridge ]; do shift; done\n'
        'exec "$@"\n'
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
    assert b"\nsysd: " in mine.stderr  # after what ssh said, as systemctl
