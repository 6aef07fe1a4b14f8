"""The outcome of a command run as a transient unit inside the sandbox (``run_unit``),
told by the unit itself, also when ``systemd-run --wait`` gives up on it.

``systemd-run --wait`` asks the manager for the unit's state whenever the unit changes.
A daemon-reexec cuts that call ("Failed to query unit state: Message recipient
disconnected from message bus without replying"), and systemd 252's systemd-run then
exits at once, with status 0, while the unit goes on running.  A storm of reexecs (the
reliability tests) hits it within seconds; the sandbox was then torn down under the tests
it ran.  So the unit is started without ``--collect`` (a failed one stays, with its
result and status, until we have read them and reset it), and after systemd-run returns
the unit is asked: still running means systemd-run gave up, and we wait for the unit;
failed means its status is read from it, the way systemd-run maps it (src/run/run.c).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import SandboxError

RUNNING = frozenset({"active", "activating", "deactivating", "reloading", "refreshing"})
EXIT_EXCEPTION = 79  # systemd's exit-status.h: what systemd-run returns for a signal
PROPERTIES = "LoadState,ActiveState,Result,ExecMainStatus"
POLL = 0.2
GRACE = 5.0  # after SIGINT, before SIGKILL (as the nsenter path's stop)
ASK_FOR = 60.0  # how long systemctl may keep failing (a reexec storm: ~0.15 s per reexec)

Props = dict[str, str]


def parse_show(text: str) -> Props:
    """``systemctl show -p ...`` output (KEY=VALUE lines) as a dict."""
    out: Props = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


def exit_status(props: Props) -> int:
    """What ``systemd-run --wait`` returns for a unit that ended (run.c, 252)."""
    result = props.get("Result", "")
    if result == "success":
        return 0
    status = props.get("ExecMainStatus", "0")
    if result == "exit-code" and status.isdigit() and int(status) > 0:
        return int(status)
    if result == "signal":
        return EXIT_EXCEPTION
    return 1


def settle(
    ask: Callable[[], Props | None],
    kill: Callable[[str], object],
    reset: Callable[[], object],
    status: int,
    deadline: float | None,
    what: str,
) -> int:
    """The unit's exit status once it has ended, given systemd-run's ``status``.

    ``ask()`` reads the unit's properties (None: could not ask; systemd-run's status
    stands), ``kill(signal)`` signals it, ``reset()`` forgets a failed unit.  Waits for
    a unit still running (until ``deadline``: then it is killed and SandboxError raised;
    on Ctrl-C it gets SIGINT, then SIGKILL, and KeyboardInterrupt goes on).
    """
    props = ask()
    waited = False
    try:
        while props is not None and props.get("ActiveState") in RUNNING:
            waited = True  # systemd-run gave up on it
            if deadline is not None and time.monotonic() > deadline:
                _stop(ask, kill)
                raise SandboxError(f"{what} did not finish in time")
            time.sleep(POLL)
            props = ask()
    except KeyboardInterrupt:
        _stop(ask, kill)
        raise
    finally:
        if props is not None and props.get("ActiveState") == "failed":
            reset()
    if props is None:
        return status
    if props.get("ActiveState") == "failed":
        return exit_status(props)
    # inactive, or collected: it ended well when we saw it run; else (never started,
    # or systemd-run could not start it) systemd-run's own status says what happened
    return 0 if waited else status


def _stop(ask: Callable[[], Props | None], kill: Callable[[str], object]) -> None:
    for sig in ("SIGINT", "SIGKILL"):
        kill(sig)
        end = time.monotonic() + GRACE
        while time.monotonic() < end:
            props = ask()
            if props is None or props.get("ActiveState") not in RUNNING:
                return
            time.sleep(POLL)
