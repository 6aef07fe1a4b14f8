"""sysd's tables on a terminal against systemctl 252's, byte for byte, inside the sandbox.

On a terminal systemd fits a table to its width (format-table.c: every column shrunk
by weight, cut with an ellipsis) unless a pager shows it or ``--full`` is given, and
colours it: the header and its gaps underlined, the last unit of each type underlined,
states in red, green or yellow.  Both tools run on a real pseudo-terminal of several
widths, with colours, with and without a pager.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator

import pytest
from throwaway_units import Units

import sysd

pytestmark = pytest.mark.systemd

ENV = {
    "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
    "TERM": "xterm-256color",
    "LANG": "C.UTF-8",
    "SYSTEMD_URLIFY": "0",
    "PYTHONPATH": os.pathsep.join(sys.path),
    **({"TZ": os.environ["TZ"]} if "TZ" in os.environ else {}),
}
# a pager that passes the text through (systemd then leaves the table at its width)
PAGER = {"SYSTEMD_PAGER": "sed -n p", "SYSTEMD_PAGERSECURE": "0"}
# the footer of list-units names the tool (docs/cli.md: `list-hint`)
_HINT = re.compile(rb"use '(systemctl|sysd) list-unit-files'")


def on_a_terminal(argv: list[str], columns: int, env: dict[str, str]) -> tuple[int, bytes]:
    """Run ``argv`` with stdin, stdout and stderr on a pseudo-terminal ``columns`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    rc = proc.wait(timeout=60)
    return rc, _HINT.sub(b"use 'TOOL list-unit-files'", out.replace(b"\r\n", b"\n"))


@pytest.fixture(scope="module")
def zoo(systemd_host: None) -> Iterator[str]:
    """Units of several types and states, named so that one pattern selects them all."""
    with sysd.connect() as sd:
        units = Units(sd)
        sleeper = "[Service]\nExecStart=/bin/sleep infinity\n"
        long_description = "[Unit]\nDescription=" + "A rather long description " * 4 + "\n"
        units.add("active-with-a-long-name", long_description + sleeper)
        units.add("failed", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
        units.mask("masked")
        units.add("idle", sleeper, suffix="socket")
        units.add("tick", "[Timer]\nOnActiveSec=1h\nUnit=sysdt-idle-{tag}.service\n", "timer")
        units.add("idle", sleeper)
        units.reload()
        for stem, suffix in (("active-with-a-long-name", "service"), ("tick", "timer")):
            sd.unit(units.name(stem, suffix)).start()
        try:
            sd.unit(units.name("failed")).start()
        except sysd.JobFailedError:
            pass
        try:
            yield f"sysdt-*-{units.tag}.*"
        finally:
            for stem, suffix in (("active-with-a-long-name", "service"), ("tick", "timer")):
                sd.unit(units.name(stem, suffix)).stop()
            sd.unit(units.name("failed")).reset_failed()
            units.cleanup()


VERBS = [
    ["list-units", "--all"],
    ["list-units", "--all", "--plain"],
    ["list-units", "--all", "--no-legend"],
    ["list-unit-files"],
    ["list-timers", "--all"],
]
SYSD_VERB = {"list-units": "list", "list-timers": "timers"}


@pytest.mark.parametrize("columns", [30, 90])
@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
@pytest.mark.parametrize("colors", ["1", "0"])
def test_tables_on_a_terminal_are_systemctls(
    zoo: str, verb: list[str], columns: int, colors: str
) -> None:
    env = {**ENV, "SYSTEMD_COLORS": colors}
    mine, theirs = _compare(verb, zoo, columns, env, ["--no-pager"])
    assert mine == theirs


@pytest.mark.parametrize("extra", [["-l", "--no-pager"], []], ids=["full", "pager"])
@pytest.mark.parametrize("verb", VERBS[:1] + VERBS[3:], ids=" ".join)
def test_tables_under_a_pager_or_full_keep_their_width(
    zoo: str, verb: list[str], extra: list[str]
) -> None:
    """With a pager (or --full) systemd leaves the table at its natural width."""
    env = {**ENV, "SYSTEMD_COLORS": "1", **(PAGER if not extra else {})}
    mine, theirs = _compare(verb, zoo, 40, env, extra or [])
    assert mine == theirs


def _compare(
    verb: list[str], pattern: str, columns: int, env: dict[str, str], extra: list[str]
) -> tuple[bytes, bytes]:
    """systemctl, sysd, systemctl again, until systemctl's two runs agree (a timer's "left"
    ticking over, PID 1 changing a unit meanwhile): then sysd must print the same."""
    theirs_argv = ["systemctl", *verb, *extra, pattern]
    mine_argv = [sys.executable, "-m", "sysd", SYSD_VERB.get(verb[0], verb[0]), *verb[1:],
                 *extra, pattern]  # fmt: skip
    for attempt in range(8):
        before = on_a_terminal(theirs_argv, columns, env)
        mine = on_a_terminal(mine_argv, columns, env)
        after = on_a_terminal(theirs_argv, columns, env)
        if before == after:
            assert mine[0] == before[0], (mine_argv, mine, before)
            return mine[1], before[1]
        time.sleep(0.1 * attempt)
    raise AssertionError(f"systemctl's own output kept changing: {theirs_argv}")
