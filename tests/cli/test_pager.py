"""The pager, as systemd 252's pager_open() starts one (src/shared/pager.c)."""

from __future__ import annotations

import argparse
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from sysd.cli import _pager
from sysd.cli._pager import pager_command

FALLBACK = [["pager"], ["less"], ["more"]]


@pytest.mark.parametrize(
    ("environ", "owner", "candidates", "env"),
    [
        # run by the session's owner: the environment's pager, then systemd's list
        ({}, 0, FALLBACK, {"LESS": "FRSXMK"}),
        ({"PAGER": "most -s"}, 0, [["most", "-s"], *FALLBACK], {"LESS": "FRSXMK"}),
        ({"SYSTEMD_PAGER": "lv", "PAGER": "most"}, 0, [["lv"], *FALLBACK], {"LESS": "FRSXMK"}),
        ({"SYSTEMD_LESS": "R", "LANG": "C.UTF-8"}, 0, FALLBACK,
         {"LESS": "R", "LESSCHARSET": "utf-8"}),
        ({"SYSTEMD_LESSCHARSET": "latin1"}, 0, FALLBACK,
         {"LESS": "FRSXMK", "LESSCHARSET": "latin1"}),
        # "cat" or empty: no pager at all
        ({"PAGER": "cat"}, 0, [], {}),
        ({"SYSTEMD_PAGER": "", "PAGER": "less"}, 0, [], {}),
        ({"SYSTEMD_PAGER": "  "}, 0, [], {}),
        # not the session's owner (sudo, a service): secure mode, and only less
        ({"PAGER": "most"}, None, [["less"]], {"LESS": "FRSXMK", "LESSSECURE": "1"}),
        ({}, 1000, [["less"]], {"LESS": "FRSXMK", "LESSSECURE": "1"}),
        # $SYSTEMD_PAGERSECURE set: the environment's pager is trusted
        ({"PAGER": "most", "SYSTEMD_PAGERSECURE": "1"}, None, [["most"], ["less"]],
         {"LESS": "FRSXMK", "LESSSECURE": "1"}),
        ({"PAGER": "most", "SYSTEMD_PAGERSECURE": "no"}, None, [["most"], *FALLBACK],
         {"LESS": "FRSXMK"}),
        ({"PAGER": "most", "SYSTEMD_PAGERSECURE": "maybe"}, 0, [["less"]],
         {"LESS": "FRSXMK", "LESSSECURE": "1"}),  # unparsable: "assuming true"
    ],
)  # fmt: skip
def test_pager_command(
    environ: dict[str, str],
    owner: int | None,
    candidates: list[list[str]],
    env: dict[str, str],
) -> None:
    assert pager_command(environ, owner_uid=owner, uid=0, euid=0) == (candidates, env)


def test_no_pager_without_terminals_or_with_no_pager() -> None:
    # under pytest stdout is captured: never a pager, whatever else is set
    assert not _pager.wanted(argparse.Namespace(no_pager=False))
    assert not _pager.open_pager(argparse.Namespace(no_pager=False))
    assert not _pager.wanted(argparse.Namespace(no_pager=True))
    _pager.close()  # a no-op without a pager


CHILD = """
import argparse, signal, sys
from sysd.cli import _pager
opened = _pager.open_pager(
    argparse.Namespace(no_pager="--no-pager" in sys.argv, pager_end="-e" in sys.argv)
)
print("opened", opened)
print("sigint ignored", signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
print("to stderr", file=sys.stderr)
_pager.close()
print("after close")
"""


def _in_a_terminal(env: dict[str, str], *args: str) -> str:
    """Run CHILD with stdin, stdout and stderr on a pseudo terminal; what it showed."""
    master, slave = pty.openpty()
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SYSTEMD_", "PAGER"))}
    full.update({"TERM": "xterm", **env})
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args], stdin=slave, stdout=slave, stderr=slave, env=full
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(timeout=60) == 0
    os.close(master)
    return out.decode().replace("\r\n", "\n")


def test_stdout_and_stderr_go_through_the_pager_on_a_terminal() -> None:
    env = {"SYSTEMD_PAGER": "sed s/^/paged:/", "SYSTEMD_PAGERSECURE": "0"}
    out = _in_a_terminal(env)
    assert "paged:opened True\n" in out
    assert "paged:to stderr\n" in out
    assert out.endswith("after close\n") and "paged:after close" not in out


def test_the_pager_gets_less_options_and_secure_mode(tmp_path: Path) -> None:
    script = tmp_path / "pager"
    script.write_text('#!/bin/sh\necho "LESS=$LESS LESSSECURE=$LESSSECURE"\nexec cat\n')
    script.chmod(0o755)
    env = {"SYSTEMD_PAGER": str(script), "SYSTEMD_PAGERSECURE": "1", "SYSTEMD_LESS": "FRX"}
    assert "LESS=FRX LESSSECURE=1\n" in _in_a_terminal(env)
    env = {"SYSTEMD_PAGER": str(script), "SYSTEMD_PAGERSECURE": "0"}
    assert "LESS=FRSXMK LESSSECURE=\n" in _in_a_terminal(env)
    # journalctl -e: less is told to start at the end
    assert "LESS=FRSXMK +G LESSSECURE=\n" in _in_a_terminal(env, "-e")


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({"SYSTEMD_PAGER": "sed s/^/paged:/", "SYSTEMD_PAGERSECURE": "0"}, ["--no-pager"]),
        ({"SYSTEMD_PAGER": "cat"}, []),
        ({"PAGER": ""}, []),
        ({"SYSTEMD_PAGER": "sed s/^/paged:/", "SYSTEMD_PAGERSECURE": "0", "TERM": "dumb"}, []),
        # none of the candidates can be started: the output goes straight through
        (
            {
                "SYSTEMD_PAGER": "/nonexistent/pager",
                "SYSTEMD_PAGERSECURE": "1",
                "PATH": "/nonexistent",
            },
            [],
        ),
    ],
)
def test_no_pager(env: dict[str, str], args: list[str]) -> None:
    out = _in_a_terminal(env, *args)
    assert "opened False\n" in out and "paged:" not in out


@pytest.mark.parametrize(
    ("pager", "less", "ignored"),
    [
        ("less", "FRX", True),  # less that stays on Ctrl-C: so do we
        ("less", None, False),  # the default FRSXMK has K: less quits, and so do we
        ("less", "FRXK", False),
        ("pager", "FRX", False),  # Debian's alternative, even when it is less: only "less"
    ],
)
def test_ctrl_c_is_ignored_only_under_less_without_k(
    tmp_path: Path, pager: str, less: str | None, ignored: bool
) -> None:
    """systemd 252's no_quit_on_interrupt(): the pager's name as started, and $LESS."""
    (tmp_path / pager).write_text("#!/bin/sh\nexec cat\n")
    (tmp_path / pager).chmod(0o755)
    env = {
        "SYSTEMD_PAGER": pager,
        "SYSTEMD_PAGERSECURE": "0",
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
    }
    if less is not None:
        env["SYSTEMD_LESS"] = less
    out = _in_a_terminal(env)
    assert "opened True\n" in out
    assert f"sigint ignored {ignored}\n" in out
    assert _pager.ignores_sigint(pager, less if less is not None else "FRSXMK") is ignored
