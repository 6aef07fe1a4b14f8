"""What the reliability scenarios check with: the bus's match-rule count, open fds,
throwaway units.  A module of its own (not conftest.py): tests/systemd has a conftest too,
and ``from conftest import ...`` would get whichever was imported first.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sysd

# What start()/run() import on first use, imported here: an interrupt the tests raise
# inside an import (under pytest, inside its assertion rewriting's compile()) is about
# the import system, not about sysd.
import sysd._async.job
import sysd._async.run
import sysd._async.watch
import sysd._core.status
import sysd._sync.job
import sysd._sync.run
import sysd._sync.watch

RUNTIME_UNITS = Path("/run/systemd/system")


def match_rules(unique_name: str) -> int:
    """How many match rules dbus-daemon holds for the connection ``unique_name``."""
    with sysd.connect(private=False) as probe:
        stats = probe.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.Debug.Stats",
            "GetConnectionStats",
            "s",
            (unique_name,),
        )
    count = int(stats["MatchRules"])
    if count:
        try:
            rules = probe_rules(unique_name)
        except sysd.DBusError:
            rules = []
        print(f"match rules of {unique_name}: {rules}")
    return count


def probe_rules(unique_name: str) -> list[str]:
    with sysd.connect(private=False) as probe:
        every = probe.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.Debug.Stats",
            "GetAllMatchRules",
        )
    return list(every.get(unique_name, []))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Units:
    """Throwaway unit files in /run/systemd/system (removed, and the units reset, after)."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.names: list[str] = []

    def add(self, stem: str, text: str) -> str:
        name = f"sysdr-{stem}-{self.tag}.service"
        (RUNTIME_UNITS / name).write_text(text)
        self.names.append(name)
        return name

    def name(self, stem: str) -> str:
        """A name for a transient unit of this test (stopped at cleanup)."""
        name = f"sysdr-{stem}-{self.tag}.service"
        self.names.append(name)
        return name

    def cleanup(self) -> None:
        with sysd.connect() as sd:
            for name in self.names:
                try:
                    sd.manager_call("StopUnit", "ss", (name, "replace"))
                except sysd.DBusError:
                    pass
                try:
                    sd.manager_call("ResetFailedUnit", "s", (name,))
                except sysd.DBusError:
                    pass
                (RUNTIME_UNITS / name).unlink(missing_ok=True)
            sd.daemon_reload()


def oneshot(cmd: str) -> str:
    return f"[Service]\nType=oneshot\nExecStart={cmd}\n"
