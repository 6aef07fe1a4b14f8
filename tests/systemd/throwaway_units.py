"""Throwaway unit files for tests: written into /run/systemd/system, removed afterwards.

Shared by the tests under tests/systemd (the ``units`` fixture in conftest.py).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import sysd

RUNTIME_UNITS = Path("/run/systemd/system")


class Units:
    """Writes throwaway unit files into /run/systemd/system and cleans up after."""

    def __init__(self, sd: sysd.Systemd) -> None:
        self.sd = sd
        self.tag = uuid.uuid4().hex[:8]
        self.paths: list[Path] = []
        self.enabled: list[str] = []

    def name(self, stem: str, suffix: str = "service") -> str:
        return f"sysdt-{stem}-{self.tag}.{suffix}"

    def add(self, stem: str, text: str, suffix: str = "service") -> str:
        name = self.name(stem, suffix)
        path = RUNTIME_UNITS / name
        path.write_text(text.replace("{tag}", self.tag))
        self.paths.append(path)
        return name

    def link(self, alias_stem: str, target: str) -> str:
        """An alias: a symlink to another of our units."""
        alias = self.name(alias_stem)
        path = RUNTIME_UNITS / alias
        path.symlink_to(RUNTIME_UNITS / target)
        self.paths.append(path)
        return alias

    def mask(self, stem: str) -> str:
        name = self.name(stem)
        path = RUNTIME_UNITS / name
        path.symlink_to("/dev/null")
        self.paths.append(path)
        return name

    def reload(self) -> None:
        self.sd.daemon_reload()

    def cleanup(self) -> None:
        with sysd.connect() as sd:  # a fresh one: a test may have re-executed systemd
            if self.enabled:
                try:
                    sd.disable(self.enabled)
                except sysd.DBusError:
                    pass
            for path in self.paths:
                if not path.is_symlink():
                    try:
                        sd.manager_call("StopUnit", "ss", (path.name, "replace"))
                        sd.manager_call("ResetFailedUnit", "s", (path.name,))
                    except sysd.DBusError:
                        pass
                path.unlink(missing_ok=True)
            sd.daemon_reload()
