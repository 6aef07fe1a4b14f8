"""``sysd watch`` and ``sysd wait`` against the real systemd, as a user runs them: the CLI in a
subprocess, units started and stopped with systemctl, lines, JSON objects and exit statuses
checked; Ctrl-C ends ``sysd watch`` with status 130 and no traceback."""

from __future__ import annotations

import json
import os
import pty
import queue
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.systemd

RUNTIME = Path("/run/systemd/system")
ENV = {k: v for k, v in os.environ.items() if k not in ("SYSTEMD_COLORS", "NO_COLOR", "COLUMNS")}
SYSD = [sys.executable, "-m", "sysd"]
ARROW = "(?:->|\u2192)"  # the glyph: an arrow in UTF-8, "->" in ASCII


def systemctl(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemctl", "--no-pager", *argv], capture_output=True, text=True, timeout=60, check=check
    )


def sysd(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SYSD, *argv], capture_output=True, text=True, timeout=timeout, env=ENV, check=False
    )


class Throwaway:
    """Throwaway units sysdw-TAG-*: a probe and a oneshot (/bin/true), two sleepers, a target."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.paths: list[Path] = []
        self.probe = self._add("probe", "[Service]\nType=oneshot\nExecStart=/bin/true\n")
        self.one = self._add("one", "[Service]\nType=oneshot\nExecStart=/bin/true\n")
        self.sleep = self._add("sleep", "[Service]\nExecStart=/bin/sleep infinity\n")
        self.sleep2 = self._add("sleep2", "[Service]\nExecStart=/bin/sleep infinity\n")
        self.target = self._add("t", "[Unit]\nDescription=a target\n", "target")
        self.pattern = f"sysdw-{self.tag}-*"
        systemctl("daemon-reload")

    def _add(self, stem: str, text: str, suffix: str = "service") -> str:
        name = f"sysdw-{self.tag}-{stem}.{suffix}"
        path = RUNTIME / name
        path.write_text(text)
        self.paths.append(path)
        return name

    def cleanup(self) -> None:
        names = [p.name for p in self.paths]
        systemctl("stop", *names, check=False)
        systemctl("reset-failed", *names, check=False)
        for path in self.paths:
            path.unlink(missing_ok=True)
        systemctl("daemon-reload", check=False)


@pytest.fixture
def units(systemd_host: None) -> Iterator[Throwaway]:
    u = Throwaway()
    yield u
    u.cleanup()


class Watch:
    """``sysd watch ARGS`` in a subprocess; its stdout lines collected by a thread."""

    def __init__(self, units: Throwaway, *args: str) -> None:
        self.units = units
        self.proc = subprocess.Popen(
            [*SYSD, "watch", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self, timeout: float = 30) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line from sysd watch; so far: {self.seen}") from None
        self.seen.append(line)
        return line

    def until(self, pred: Callable[[str], bool], timeout: float = 30) -> list[str]:
        """Lines up to and including the first for which ``pred`` holds."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            line = self.next_line(max(0.1, deadline - time.monotonic()))
            got.append(line)
            if pred(line):
                return got

    def sync(self) -> None:
        """Start the probe until the watch reports it: from then on it is subscribed."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.communicate()
            systemctl("start", self.units.probe)
            try:
                self.until(lambda line: self.units.probe in line, timeout=2)
                return
            except AssertionError:
                continue
        raise AssertionError(f"sysd watch never reported {self.units.probe}")

    def interrupt(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        return self._finish()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self._finish()

    def _finish(self) -> tuple[int, str]:
        # the reader first: it stops at the end of stdout, which communicate() then closes
        # (closed under the reader, its iteration raised "I/O operation on closed file")
        self.reader.join(timeout=30)
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err


@pytest.fixture
def watch(units: Throwaway) -> Iterator[Callable[..., Watch]]:
    made: list[Watch] = []

    def start(*args: str) -> Watch:
        w = Watch(units, *args)
        made.append(w)
        return w

    yield start
    for w in made:
        w.close()


def _about(unit: str) -> Callable[[str], bool]:
    return lambda line: f" {unit}:" in line


# -------------------------------------------------------------------------- watch


def test_watch_prints_one_line_per_state_change(
    units: Throwaway, watch: Callable[..., Watch]
) -> None:
    w = watch(units.pattern, "--kind=UnitChanged")
    w.sync()
    systemctl("start", units.one)

    def back_to_rest(line: str) -> bool:
        return (
            units.one in line
            and re.search(rf"{ARROW} inactive/dead( result=\S+)?$", line) is not None
        )

    lines = [line for line in w.until(back_to_rest) if units.one in line]
    # the first sight of a unit may come first (previous unknown: the state alone)
    start = next(i for i, line in enumerate(lines) if "activating/start" in line)
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"
    assert re.fullmatch(
        rf"{stamp} {re.escape(units.one)}: (inactive/dead {ARROW} )?activating/start"
        r"( result=success)?",
        lines[start],
    ), lines
    assert re.fullmatch(
        rf"{stamp} {re.escape(units.one)}: activating/start {ARROW} inactive/dead result=success",
        lines[-1],
    ), lines
    assert all("\x1b" not in line for line in w.seen)  # not a terminal: no colour
    rc, err = w.interrupt()
    assert (rc, err) == (130, "")


@pytest.mark.parametrize("bus", ["--private", "--no-private"])
def test_watch_json_lines(units: Throwaway, watch: Callable[..., Watch], bus: str) -> None:
    w = watch(units.pattern, "--json", bus)
    w.sync()
    systemctl("start", units.one)
    objs = []
    while True:
        obj = json.loads(w.next_line())
        objs.append(obj)
        if (
            obj["event"] == "UnitChanged"
            and obj["unit"] == units.one
            and obj["active_state"] == "inactive"
            and (obj["previous"] or {}).get("active_state") == "activating"
        ):
            break
    mine = [o for o in objs if o.get("unit") == units.one]
    changes = [o for o in mine if o["event"] == "UnitChanged"]
    assert [c["active_state"] for c in changes][-2:] == ["activating", "inactive"]
    last = changes[-1]
    assert set(last) == {
        "time", "event", "unit", "active_state", "sub_state", "load_state", "previous",
        "result", "invocation_id", "timestamp", "changed",
    }  # fmt: skip
    assert last["previous"] == {
        "active_state": "activating",
        "sub_state": "start",
        "load_state": "loaded",
    }
    assert last["result"] == "success"
    assert "active_state" in last["changed"]
    assert last["time"].endswith("+00:00")
    jobs = [o for o in mine if o["event"] in ("JobNew", "JobRemoved")]
    if jobs:  # the job's end may come after the unit's state: read up to it
        assert jobs[0]["event"] == "JobNew"
    done = [o for o in mine if o["event"] == "JobRemoved"] or [
        json.loads(x) for x in w.until(lambda x: '"JobRemoved"' in x and units.one in x)
    ][-1:]
    assert done[-1]["result"] == "done"
    assert isinstance(done[-1]["job_id"], int)


def test_watch_type_filter(units: Throwaway, watch: Callable[..., Watch]) -> None:
    w = watch(units.pattern, "--type=service", "--kind=UnitChanged")
    w.sync()
    systemctl("start", units.target)
    systemctl("start", units.one)
    # signals arrive in order: once the service's change is here, the target's would be too
    got = w.until(lambda x: units.one in x and "activating" in x)
    assert not any(units.target in line for line in got), got


def test_watch_kind_filter(units: Throwaway, watch: Callable[..., Watch]) -> None:
    w = watch(units.pattern, "--kind=JobRemoved")
    w.sync()
    systemctl("start", units.one)
    got = w.until(lambda x: units.one in x)
    assert re.search(rf"{re.escape(units.one)}: job \d+ done$", got[-1]), got
    assert all(": job " in line for line in w.seen), w.seen


def test_ctrl_c_exits_cleanly(units: Throwaway, watch: Callable[..., Watch]) -> None:
    w = watch(units.pattern)
    w.sync()
    rc, err = w.interrupt()
    assert rc == 130
    assert "Traceback" not in err
    assert err == ""


def test_ctrl_c_while_starting(units: Throwaway) -> None:
    """Interrupted while it connects and subscribes (or later): still no traceback.

    A SIGINT that lands while the interpreter itself starts (before any of sysd runs) is
    CPython's to report ("init_import_site"); such a run says nothing about sysd.
    """
    rng = random.Random(12)
    for delay in sorted(rng.uniform(0.2, 1.2) for _ in range(4)):
        proc = subprocess.Popen(
            [*SYSD, "watch", units.pattern],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        )  # fmt: skip
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        if "init_import_site" in err:
            continue
        assert "Traceback" not in err, err
        assert (proc.returncode, err) == (130, ""), delay


def test_colour_on_a_terminal_only(units: Throwaway) -> None:
    master, slave = pty.openpty()
    env = {**ENV, "TERM": "xterm"}
    proc = subprocess.Popen(
        [*SYSD, "watch", units.pattern, "--kind=UnitChanged"],
        stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    os.close(slave)
    buf = b""
    try:
        deadline = time.monotonic() + 60
        while units.probe.encode() not in buf and time.monotonic() < deadline:
            systemctl("start", units.probe)
            ready, _, _ = select.select([master], [], [], 2)
            while ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                buf += chunk
                ready, _, _ = select.select([master], [], [], 0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        os.close(master)
    assert units.probe.encode() in buf, buf
    assert b"\x1b[" in buf
    assert proc.returncode == 130
    assert b"Traceback" not in buf


# --------------------------------------------------------------------------- wait


def test_wait_already_there(units: Throwaway) -> None:
    p = sysd("wait", units.one, "--state=inactive", "--timeout=30")
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")


def test_wait_reaches_the_state(units: Throwaway) -> None:
    systemctl("start", units.sleep, units.sleep2)
    proc = subprocess.Popen(
        [*SYSD, "wait", units.sleep, units.sleep2, "--timeout=60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    systemctl("stop", units.sleep)
    systemctl("stop", units.sleep2)
    out, err = proc.communicate(timeout=90)
    assert (proc.returncode, out, err) == (0, "", "")


def test_wait_active(units: Throwaway) -> None:
    systemctl("start", "--no-block", units.sleep)
    p = sysd("wait", units.sleep, "--state=active", "--timeout=60", "--json")
    assert (p.returncode, p.stderr) == (0, "")
    settled = json.loads(p.stdout)
    assert list(settled) == [units.sleep]
    assert settled[units.sleep]["event"] == "UnitChanged"
    assert settled[units.sleep]["active_state"] == "active"
    assert settled[units.sleep]["sub_state"] == "running"


def test_wait_timeout_exits_1(units: Throwaway) -> None:
    systemctl("start", units.sleep)
    p = sysd("wait", units.sleep, "--timeout=0.3")
    assert p.returncode == 1
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "Traceback" not in p.stderr
    q = sysd("wait", "-q", units.sleep, "--timeout=0.1")
    assert (q.returncode, q.stderr) == (1, "")


def test_wait_exits_3_when_the_unit_failed_instead(units: Throwaway) -> None:
    systemctl("start", units.sleep)
    proc = subprocess.Popen(
        [*SYSD, "wait", units.sleep, "--state=inactive", "--timeout=60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    systemctl("kill", "--signal=KILL", units.sleep)
    _, err = proc.communicate(timeout=90)
    assert systemctl("is-failed", units.sleep, check=False).returncode == 0
    assert proc.returncode == 3, err
    assert f"{units.sleep} failed instead of reaching 'inactive'" in err
    # waiting for failed itself: reached
    p = sysd("wait", units.sleep, "--state=failed", "--timeout=30")
    assert (p.returncode, p.stderr) == (0, "")


def test_wait_takes_the_global_options(units: Throwaway) -> None:
    # before the verb, as systemctl takes them; the system bus instead of the private socket
    p = subprocess.run(
        [*SYSD, "--system", "--no-private", "wait", units.one, "--timeout=30"],
        capture_output=True, text=True, timeout=60, env=ENV, check=False,
    )  # fmt: skip
    assert (p.returncode, p.stderr) == (0, "")
    p = sysd("wait", units.one, "--private", "--timeout=30")
    assert (p.returncode, p.stderr) == (0, "")


# --------------------------------------------------------------------------- docs

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
SHELL_EXAMPLES = re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize(
    "code", SHELL_EXAMPLES, ids=[f"sh#{i}" for i in range(len(SHELL_EXAMPLES))]
)
def test_docs_shell_examples_run(code: str, tmp_path: Path) -> None:
    """docs/events.md's command-line examples (its Python ones: tests/systemd/test_docs.py)."""
    env = {**ENV, "PATH": f"{Path(sys.executable).parent}:{ENV.get('PATH', '/usr/bin:/bin')}"}
    p = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    assert p.returncode == 0, f"{code}\n{p.stdout}\n{p.stderr}"
    assert "Traceback" not in p.stderr


def test_unprivileged_user_system_and_own_manager(as_user: Callable[..., Any]) -> None:
    """As an unprivileged user: `sysd wait` and `sysd watch` read the system manager, and
    `--user` talks to the user's own manager."""
    code = """
        import subprocess, sys
        sysd = [sys.executable, "-m", "sysd"]
        def run(*argv):
            p = subprocess.run([*sysd, *argv], capture_output=True, text=True, timeout=60)
            print(p.returncode, p.stderr.strip().replace(chr(10), " | "))
        run("wait", "systemd-journald.service", "--state=active", "--timeout=30")
        run("--user", "wait", "default.target", "--state=active", "--timeout=30")
        run("--user", "wait", "default.target", "--state=inactive", "--timeout=0.2", "-q")
        # a stream on the user's manager: Ctrl-C after it has started
        w = subprocess.Popen([*sysd, "--user", "watch"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            w.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            w.send_signal(2)
        out, err = w.communicate(timeout=30)
        print(w.returncode, err.strip().replace(chr(10), " | "))
    """
    p = as_user(code, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["0 ", "0 ", "1 ", "130 "], p.stdout
