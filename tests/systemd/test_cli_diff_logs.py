"""``sysd logs`` against journalctl 252 on the same inputs, inside the sandbox: every
output format, -n, -p, -S/-U, -g, -r, -u, --user, paths, -F, -N, --list-boots, -k, -e and
the errors.  Stdout and the exit status must be the same, except the differences named in
``INTENTIONAL`` (cli_diff_support.py, docs/cli.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_diff_support import ENV, InProcess, _sandwich, sysd_cli, tool

import sysd
import sysd.journal
from sysd.journal import OUTPUT_MODES, Entry, send, send_fields

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


def _same_process_output(*args: str) -> None:
    """``sysd logs ARGS`` and ``journalctl ARGS`` as processes, the same stdout and
    status, compared between two journalctl runs that agree (journald keeps logging)."""

    def theirs() -> tuple[int, bytes]:
        p = tool("journalctl", "--no-pager", *args)
        return p.returncode, p.stdout

    def mine() -> tuple[int, bytes]:
        p = sysd_cli("logs", "--no-pager", *args)
        return p.returncode, p.stdout

    got, want = _sandwich(theirs, mine)
    assert got == want, args


@pytest.mark.parametrize(
    "args",
    [
        ["--list-boots"], ["--list-boots", "-q"], ["--list-boots", "-r"],
        ["--list-boots", "-o", "json"], ["--list-boots", "-o", "json-pretty"],
        ["-N"], ["-F", "_SYSTEMD_UNIT"], ["-F", "PRIORITY"], ["-F", "_TRANSPORT", "-n", "2"],
        ["-F", "NO_SUCH_FIELD"], ["-F", "lower"], ["-F", "1DIGIT"], ["-F", "A=B"],
        ["-F", "__CURSOR"], ["-F", "X" * 70],
        ["-k"], ["-k", "-o", "cat", "-n", "5"], ["--dmesg", "-q"],
    ],
    ids=" ".join,
)  # fmt: skip
def test_logs_listings_are_journalctls(args: list[str]) -> None:
    """--list-boots, -N, -F, -k: the same output and exit status as journalctl 252."""
    _same_process_output(*args)


def test_logs_pager_end_is_journalctls(logs: Logs) -> None:
    """-e: this boot, the last 1000 entries unless -n says otherwise (before or after)."""
    for args in (["-e"], ["-e", "-n", "3"], ["-n", "2", "-e"], ["-e", "-o", "cat"]):
        _same_process_output(*args, logs.match)
    _same_process_output("-e", "-o", "cat", "-t", "systemd")


def test_logs_listing_library_calls(logs: Logs) -> None:
    """The library behind them: typed boots, field values and names."""
    boots = sysd.journal.boots()
    assert boots and boots[-1].offset == 0
    assert [b.offset for b in boots] == list(range(1 - len(boots), 1))
    assert boots[-1].boot_id == logs.entries[0].boot_id
    assert all(b.first <= b.last for b in boots)
    assert logs.match.split("=", 1)[1].encode() in sysd.journal.field_values(
        logs.match.split("=", 1)[0]
    )
    assert "MESSAGE" in sysd.journal.field_names()
    assert sysd.journal.field_values("1X" + "Y" * 70) == []  # sd-journal's rule: no cap
    for bad in ("", "lower", "__CURSOR", "A=B", "É"):
        with pytest.raises(sysd.journal.InvalidJournalFieldError):
            sysd.journal.field_values(bad)


def test_logs_catalog_is_journalctls(logs: Logs) -> None:
    """-x: entries followed by their catalog texts, @FIELD@ filled from the entry (or the
    field's name when the entry has none), in the forms journalctl explains."""
    tag = uuid.uuid4().hex
    start_job = "39f53479d3a045ac8e11786248231fbf"  # "A start job for unit @UNIT@ has finished"
    send("with unit", TEST_TAG=tag, MESSAGE_ID=start_job, UNIT="x.service", JOB_ID="7",
         JOB_RESULT="done")  # fmt: skip
    send("without its fields", TEST_TAG=tag, MESSAGE_ID=start_job)
    send("no catalog entry", TEST_TAG=tag, MESSAGE_ID="0" * 32)
    send("not an id", TEST_TAG=tag, MESSAGE_ID="nonsense")
    send("uuid form", TEST_TAG=tag, MESSAGE_ID=str(uuid.UUID(start_job)).upper())
    _wait_tagged(tag, 5)
    for mode in ("short", "short-iso", "verbose", "with-unit", "cat", "export"):
        _same_process_output("-x", "-o", mode, f"TEST_TAG={tag}")
    unit = f"sysd-catalog-{uuid.uuid4().hex[:8]}"
    tool("systemd-run", f"--unit={unit}", "--wait", "--quiet", "true")
    _same_process_output("-x", "-u", unit)
    env = {**ENV, "SYSTEMD_COLORS": "1"}
    mine = sysd_cli("logs", "--no-pager", "-x", f"TEST_TAG={tag}", env=env)
    theirs = tool("journalctl", "--no-pager", "-x", f"TEST_TAG={tag}", env=env)
    assert (mine.returncode, mine.stdout) == (theirs.returncode, theirs.stdout)
    # an ID sd_id128_from_string() refuses: journalctl's error line, once per such entry
    # (with colours journalctl says it twice: its hyperlink lookup fails too; sysd makes
    # no hyperlinks, see sysd/journal/_format.py)
    plain_mine = sysd_cli("logs", "--no-pager", "-x", f"TEST_TAG={tag}")
    plain_theirs = tool("journalctl", "--no-pager", "-x", f"TEST_TAG={tag}")
    assert plain_mine.stderr == plain_theirs.stderr
    assert plain_mine.stderr.count(b"Failed to find catalog entry: Invalid argument") == 1
    plain = plain_mine.stdout
    assert plain.count(b"\xe2\x96\x91\xe2\x96\x91 Subject: A start job for unit x.service") == 1
    assert plain.count(b"\xe2\x96\x91\xe2\x96\x91 Subject: A start job for unit UNIT") == 2
    text = sysd.journal.catalog(_wait_tagged(tag, 5)[1])
    assert text is not None and "unit UNIT has finished" in text


def test_logs_output_fields_are_journalctls(logs: Logs) -> None:
    """--output-fields: verbose, export and JSON keep only those fields (and their headers),
    cat prints each in place of MESSAGE; the short forms ignore it."""
    cases = [
        ["-o", "verbose", "--output-fields=MESSAGE,PRIORITY"],
        ["-o", "export", "--output-fields=MESSAGE", "--output-fields=_PID,,NOSUCH"],
        ["-o", "cat", "--output-fields=PRIORITY"],
        ["-o", "cat", "--output-fields=NOSUCH"],
        ["-o", "cat", "--output-fields="],
        ["-o", "short", "--output-fields=PRIORITY"],
        ["-o", "cat", "--output-fields=lower"],  # sd_journal_get_data() refuses the name
    ]
    for args in cases:
        _same_process_output(*args, logs.match)
    # `logs-output-fields-cat-order`: several fields under cat, in the order given
    both = sysd_cli("logs", "--no-pager", "-o", "cat", "--output-fields=TEST_TAG,MESSAGE",
                    logs.match).stdout  # fmt: skip
    assert both.startswith(f"{logs.tag}\n".encode()) and f"{logs.tag}\nplain\n".encode() in both
    for mode in ("json", "json-pretty"):  # key order: `logs-json-key-order`
        args = ["-o", mode, "--output-fields=MESSAGE,TEST_TAG"]
        mine = sysd_cli("logs", "--no-pager", *args, logs.match)
        theirs = tool("journalctl", "--no-pager", *args, logs.match)
        assert mine.returncode == theirs.returncode == 0
        assert _same_json(mine.stdout, theirs.stdout, mode), mode
        for obj in _json_objects(mine.stdout, mode):
            assert set(obj) <= {"__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP",
                                "_BOOT_ID", "MESSAGE", "TEST_TAG"}  # fmt: skip
