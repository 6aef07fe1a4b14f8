"""How systemd names an exit: ``code=exited, status=1/FAILURE``, ``signal=TERM``.

Shared by the failure report and the CLI's status lines; light (no dataclasses or
logging), as the one-shot CLI imports it.
"""

from __future__ import annotations

import signal as _signal
from typing import Final

from .props._tables import EXIT_STATUS_BY_NAME

__all__ = ["CLD_EXITED", "exit_text", "signal_name"]

CLD_EXITED: Final = 1
_CLD: Final = {1: "exited", 2: "killed", 3: "dumped", 4: "trapped", 5: "stopped", 6: "continued"}
# exit_status_to_string(EXIT_STATUS_LIBC | EXIT_STATUS_SYSTEMD): 0, 1 and systemd's 200+.
_EXIT_NAMES: Final = {n: name for name, n in EXIT_STATUS_BY_NAME.items() if n in (0, 1) or n >= 200}


def signal_name(number: int) -> str:
    """``signal_to_string()``: ``"TERM"``, ``"RTMIN+3"``; the number when unknown."""
    try:
        return _signal.Signals(number).name.removeprefix("SIG")
    except ValueError:
        rtmin, rtmax = int(_signal.SIGRTMIN), int(_signal.SIGRTMAX)
        if rtmin <= number <= rtmax:
            return f"RTMIN+{number - rtmin}"
        return str(number)


def exit_text(code: int, status: int) -> str:
    """``code=exited, status=1/FAILURE`` / ``code=killed, signal=TERM``."""
    kind = _CLD.get(code, str(code))
    if code == CLD_EXITED:
        name = _EXIT_NAMES.get(status)
        return f"code={kind}, status={status}" + (f"/{name}" if name else "")
    return f"code={kind}, signal={signal_name(status)}"
