"""systemctl's habits, compared with systemctl itself in the sandbox: exit statuses and
wording of errors, the default verb, and the pager on a terminal (never into a pipe)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

SYSD = [sys.executable, "-m", "sysd"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SYSTEMD_", "PAGER"))}


def _run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=60, check=False, env={**ENV, **env}
    )


def test_unknown_verb_exits_as_systemctl(systemd_host: None) -> None:
    ours, theirs = _run([*SYSD, "frobnicate"]), _run(["systemctl", "frobnicate"])
    assert ours.returncode == theirs.returncode == 1
    # systemd 252: "Unknown command verb frobnicate."
    assert ours.stderr == "sysd: " + theirs.stderr
    assert ours.stdout == theirs.stdout == ""


def test_set_property_error_says_what_failed(systemd_host: None) -> None:
    argv = ["set-property", "nosuch-h1.service", "CPUQuota=10%"]
    ours, theirs = _run([*SYSD, *argv]), _run(["systemctl", *argv])
    assert theirs.stderr == (
        "Failed to set unit properties on nosuch-h1.service: Unit nosuch-h1.service not found.\n"
    )
    assert ours.stderr == "sysd: " + theirs.stderr
    assert ours.returncode == theirs.returncode == 1


def test_set_property_bad_value_exits_as_systemctl(systemd_host: None) -> None:
    argv = ["set-property", "nosuch-h1.service", "CPUQuota=abc"]
    ours, theirs = _run([*SYSD, *argv]), _run(["systemctl", *argv])
    assert ours.returncode == theirs.returncode == 1
    assert len(ours.stderr.splitlines()) == 1 and "CPUQuota" in ours.stderr


def test_run_bad_property_exits_as_systemd_run(systemd_host: None) -> None:
    ours = _run([*SYSD, "run", "-p", "CPUQuota=abc", "true"])
    theirs = _run(["systemd-run", "-p", "CPUQuota=abc", "true"])
    assert ours.returncode == theirs.returncode == 1
    assert len(ours.stderr.splitlines()) == 1  # not 7 lines of usage first


def test_no_verb_lists_units(systemd_host: None) -> None:
    default = _run([*SYSD, "-t", "target", "--no-legend"])
    listed = _run([*SYSD, "list", "-t", "target", "--no-legend"])
    assert default.returncode == listed.returncode == 0
    assert default.stdout == listed.stdout and "multi-user.target" in default.stdout


def test_global_options_before_the_verb(systemd_host: None) -> None:
    proc = _run([*SYSD, "--system", "--timeout", "10", "is-active", "--", "-.slice"])
    assert (proc.returncode, proc.stdout) == (0, "active\n")
    # values that begin with '-', as systemctl takes them
    proc = _run([*SYSD, "show", "-p", "Id", "--value", "--", "-.slice"])
    assert proc.stdout == "-.slice\n"


def _in_a_terminal(argv: list[str], **env: str) -> str:
    master, slave = pty.openpty()
    full = {**ENV, "TERM": "xterm", "COLUMNS": "200", **env}
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=full)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(master)
    return out.decode(errors="replace").replace("\r\n", "\n")


PAGER = {"SYSTEMD_PAGER": "sed s/^/paged:/", "SYSTEMD_PAGERSECURE": "0"}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (["list"], ["systemctl", "list-units"]),
        (["status", "init.scope"], ["systemctl", "status", "init.scope"]),
        (["logs", "-n", "3"], ["journalctl", "-n", "3"]),
    ],
)
def test_pager_on_a_terminal_as_systemctl(
    systemd_host: None, ours: list[str], theirs: list[str]
) -> None:
    for argv in ([*SYSD, *ours], theirs):
        out = _in_a_terminal(argv, **PAGER)
        lines = [line for line in out.splitlines() if line.strip()]
        assert lines and all(line.startswith("paged:") for line in lines), (argv, out)
        out = _in_a_terminal([*argv, "--no-pager"], **PAGER)
        assert "paged:" not in out, argv
        piped = _run(argv, **PAGER)  # stdout a pipe: never
        assert "paged:" not in piped.stdout + piped.stderr, argv


RED, NORMAL = "\x1b[0;1;31m", "\x1b[0m"


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (["start", "nosuch-h7.service"], ["systemctl", "start", "nosuch-h7.service"]),
        (["escape", "--suffix=bogus", "x"], ["systemd-escape", "--suffix=bogus", "x"]),
        (["calendar", "Mon 25:00"], ["systemd-analyze", "calendar", "Mon 25:00"]),
        (["logs", "-u", "nosuch-h7-*"], ["journalctl", "-u", "nosuch-h7-*"]),
        (["timers", "-H", "nosuch-h7:x:y"], ["systemctl", "list-timers", "-H", "nosuch-h7:x:y"]),
        (["run", "-p", "CPUQuota=abc", "true"], ["systemd-run", "-p", "CPUQuota=abc", "true"]),
    ],
)
def test_error_lines_are_red_on_a_terminal_as_systemds(
    systemd_host: None, ours: list[str], theirs: list[str]
) -> None:
    """Every verb's error lines go through one function: bold red on a terminal, as the
    line of systemd's own tool; never in a pipe, with NO_COLOR, TERM=dumb or
    SYSTEMD_COLORS=0."""
    mine = _in_a_terminal([*SYSD, *ours], SYSTEMD_PAGER="cat")
    want = _in_a_terminal(theirs, SYSTEMD_PAGER="cat")
    assert any(line.startswith(RED) for line in want.splitlines()), want
    # the first line of sysd's (not what ssh says first)
    [first, *_] = [line for line in mine.splitlines() if "sysd" in line or RED in line]
    assert first.startswith(RED) and first.endswith(NORMAL), mine
    if ours[0] in ("start", "escape", "calendar"):  # the same words
        assert first.replace("sysd: ", "", 1) == want.splitlines()[0]
    for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}, {"SYSTEMD_COLORS": "0"}):
        assert "\x1b[" not in _in_a_terminal([*SYSD, *ours], **env), env
    piped = _run([*SYSD, *ours], TERM="xterm")
    assert piped.returncode != 0 and piped.stderr and "\x1b[" not in piped.stderr
    forced = _run([*SYSD, *ours], SYSTEMD_COLORS="1")
    assert f"{RED}{first.removeprefix(RED)}" in forced.stderr
