"""A pager for long output on a terminal, as systemd 252's ``pager_open()`` starts one.

``open_pager(args)`` is called by a verb once it knows its colours and width (they are
taken from the real terminal, before stdout becomes a pipe), and ``close()`` by
:func:`sysd.cli.main` when the verb is done.  What systemd does, step by step:

* nothing with ``--no-pager``, when stdout or stderr is not a terminal, or ``$TERM`` is
  unset or ``dumb``;
* the pager is ``$SYSTEMD_PAGER``, else ``$PAGER`` (split at whitespace); empty or ``cat``
  means no pager;
* ``$LESS`` is set to ``$SYSTEMD_LESS`` (default ``FRSXMK``), ``$LESSCHARSET`` to
  ``$SYSTEMD_LESSCHARSET`` or ``utf-8`` in a UTF-8 locale;
* secure mode (``$LESSSECURE=1``) is ``$SYSTEMD_PAGERSECURE`` when set; otherwise it is on
  unless we run as the owner of our login session (``sd_pid_get_owner_uid()``), and then a
  pager from the environment is not trusted: only ``less`` is used;
* otherwise the pager from the environment, else ``pager``, ``less``, ``more``, the first
  that can be started; with none, output goes straight to the terminal;
* stdout and stderr are redirected into the pager; ``close()`` restores them and waits
  until the user quits the pager;
* Ctrl-C is ignored while the pager runs only when it is ``less`` without ``K`` in
  ``$LESS`` (then less stays, and so do we); otherwise it interrupts us as usual.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["active", "close", "ignores_sigint", "open_pager", "pager_command"]

_TRUE = frozenset({"1", "yes", "y", "true", "t", "on"})
_FALSE = frozenset({"0", "no", "n", "false", "f", "off"})

_state: dict[str, Any] = {}


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _owner_uid() -> int | None:
    """The uid whose ``user-UID.slice`` we run in (``sd_pid_get_owner_uid(0)``), if any."""
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    for part in text.replace("\n", "/").split("/"):
        if part.startswith("user-") and part.endswith(".slice"):
            uid = part[5:-6]
            if uid.isdigit():
                return int(uid)
    return None


def pager_command(
    environ: Mapping[str, str], *, owner_uid: int | None = None, uid: int = 0, euid: int = 0
) -> tuple[list[list[str]], dict[str, str]]:
    """``(argv candidates, environment)`` for the pager; no candidates means do not page.

    The candidates are tried in order (when none can be started, systemd's built-in pager
    copies the output through: the same as no pager).  Pure: the caller passes the
    environment and the ids.
    """
    pager = environ.get("SYSTEMD_PAGER")
    if pager is None:
        pager = environ.get("PAGER")
    args: list[str] | None = None
    if pager is not None:
        args = pager.split()
        if not args or args == ["cat"]:
            return [], {}
    env = {"LESS": environ.get("SYSTEMD_LESS", "FRSXMK")}
    charset = environ.get("SYSTEMD_LESSCHARSET")
    if charset is None and _utf8_locale(environ):
        charset = "utf-8"
    if charset is not None:
        env["LESSCHARSET"] = charset
    secure_text = environ.get("SYSTEMD_PAGERSECURE")
    trusted = False
    if secure_text is None:
        secure = owner_uid is None or uid != owner_uid or euid != owner_uid
    elif secure_text.strip().lower() in _TRUE:
        secure, trusted = True, True
    elif secure_text.strip().lower() in _FALSE:
        secure, trusted = False, True
    else:  # "Unable to parse $SYSTEMD_PAGERSECURE, assuming true"
        secure = True
    if secure:
        env["LESSSECURE"] = "1"
    candidates: list[list[str]] = []
    if args and (trusted or not secure):
        candidates.append(args)
    for name in ("pager", "less", "more"):
        if secure and name != "less":  # only less implements secure mode
            continue
        candidates.append([name])
    return candidates, env


def _utf8_locale(environ: Mapping[str, str]) -> bool:
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = environ.get(name)
        if value:
            return value.lower().replace("-", "").endswith("utf8") or ".utf8" in value.lower()
    return False


def wanted(args: Any) -> bool:
    """systemd's checks before it spawns anything: ``--no-pager``, terminals, ``$TERM``."""
    if getattr(args, "no_pager", False):
        return False
    if not (_isatty(1) and _isatty(2)):
        return False
    term = os.environ.get("TERM")
    return bool(term) and term != "dumb"


def open_pager(args: Any) -> bool:
    """Redirect stdout and stderr into a pager when systemd would; True when it did."""
    if _state or not wanted(args):
        return False
    candidates, env = pager_command(
        os.environ, owner_uid=_owner_uid(), uid=os.getuid(), euid=os.geteuid()
    )
    if not candidates:
        return False
    import shutil
    import signal
    import subprocess

    if getattr(args, "pager_end", False):  # journalctl -e: less starts at the end
        env["LESS"] += " +G"
    # systemd caches the terminal's size before stdout becomes a pipe: so does COLUMNS.
    size = shutil.get_terminal_size()
    child_env = {**os.environ, **env}
    for argv in candidates:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                env=child_env,
            )
        except OSError:
            continue
        break
    else:
        return False
    sys.stdout.flush()
    sys.stderr.flush()
    assert proc.stdin is not None
    _state["proc"] = proc
    _state["stdout"] = os.dup(1)
    _state["stderr"] = os.dup(2)
    os.environ.setdefault("COLUMNS", str(size.columns))
    os.dup2(proc.stdin.fileno(), 1)
    os.dup2(proc.stdin.fileno(), 2)
    proc.stdin.close()
    if ignores_sigint(argv[0], env["LESS"]):
        # less without K stays on Ctrl-C: so do we, as systemd does
        _state["sigint"] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    return True


def ignores_sigint(pager: str, less: str) -> bool:
    """Whether we ignore Ctrl-C while ``pager`` runs (systemd's ``no_quit_on_interrupt``).

    Only when the pager was started by the name ``less`` and ``$LESS`` lacks ``K`` (with
    ``K``, the default, less quits on Ctrl-C and so do we; any other pager is not known
    to survive it)."""
    return pager == "less" and "K" not in less


def active() -> bool:
    """Whether a pager shows our output now."""
    return bool(_state)


def close() -> None:
    """Restore stdout and stderr and wait for the pager to exit (no-op without one)."""
    if not _state:
        return
    import signal

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the pager quit early: drop the rest
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    os.dup2(_state["stdout"], 1)
    os.dup2(_state["stderr"], 2)
    os.close(_state["stdout"])
    os.close(_state["stderr"])
    try:
        _state["proc"].wait()
    finally:
        if "sigint" in _state:
            signal.signal(signal.SIGINT, _state["sigint"])
        _state.clear()
