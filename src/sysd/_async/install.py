"""Unit-file installation through the manager: enable, disable, reenable, mask, unmask,
preset, link, revert (``systemctl enable`` and friends), and the changes they report.

:class:`AsyncInstall` is a part of :class:`~sysd._async.systemd.AsyncSystemd` (it
inherits these methods); ``src/sysd/_sync/install.py`` is generated from this file by
``tools/unasync.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .._bus.wire import DEFAULT
from .._core import unitname

if TYPE_CHECKING:
    from .unit import AsyncUnit

__all__ = ["AsyncInstall", "UnitFileChange", "UnitFileChanges", "file_changes"]


class UnitFileChange(NamedTuple):
    """One change made by enable/disable/mask/...: ``type`` is symlink, unlink, ..."""

    type: str
    file: str
    destination: str


class UnitFileChanges(list[UnitFileChange]):
    """The changes enable/disable/mask/... made, in order.

    ``carries_install_info`` (enable, reenable): False when none of the unit files has
    an [Install] section (nothing to enable: systemctl says so in a notice), None where
    the manager does not say.
    """

    carries_install_info: bool | None = None


class AsyncInstall:
    """``systemctl enable`` and friends, as methods of a manager connection: each
    returns the changes systemd made and reloads it when there were any (``reload``);
    ``now`` starts, stops or restarts the units afterwards, as systemctl's ``--now``."""

    if TYPE_CHECKING:  # what the connection provides (AsyncSystemd)

        async def manager_call(
            self,
            member: str,
            signature: str = "",
            args: Sequence[Any] = (),
            *,
            timeout: float | None = DEFAULT,
        ) -> Any: ...

        async def daemon_reload(self, *, timeout: float | None = ...) -> None: ...

        async def unit(self, name: str, *, timeout: float | None = DEFAULT) -> AsyncUnit: ...

    async def enable(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        now: bool = False,
        reload: bool = True,
    ) -> UnitFileChanges:
        """Enable unit files; returns the changes made.  ``now`` also starts them."""
        files = unit_file_names(names)
        # Not EnableUnitFilesWithFlags: the system bus policy lets unprivileged callers send
        # EnableUnitFiles only, so that polkit can decide (as for systemctl).
        install_info, changes = await self.manager_call(
            "EnableUnitFiles", "asbb", (files, runtime, force)
        )
        return await self._after_install(
            files, file_changes(changes, install_info), reload, "start" if now else None
        )

    async def disable(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        now: bool = False,
        reload: bool = True,
    ) -> UnitFileChanges:
        files = unit_file_names(names)
        changes = await self.manager_call("DisableUnitFiles", "asb", (files, runtime))
        return await self._after_install(
            files, file_changes(changes), reload, "stop" if now else None
        )

    async def reenable(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        now: bool = False,
        reload: bool = True,
    ) -> UnitFileChanges:
        files = unit_file_names(names)
        install_info, changes = await self.manager_call(
            "ReenableUnitFiles", "asbb", (files, runtime, force)
        )
        return await self._after_install(
            files, file_changes(changes, install_info), reload, "restart" if now else None
        )

    async def mask(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        now: bool = False,
        reload: bool = True,
    ) -> UnitFileChanges:
        files = unit_file_names(names)
        changes = await self.manager_call("MaskUnitFiles", "asbb", (files, runtime, force))
        return await self._after_install(
            files, file_changes(changes), reload, "stop" if now else None
        )

    async def unmask(
        self, names: str | Iterable[str], *, runtime: bool = False, reload: bool = True
    ) -> UnitFileChanges:
        files = unit_file_names(names)
        changes = await self.manager_call("UnmaskUnitFiles", "asb", (files, runtime))
        return await self._after_install(files, file_changes(changes), reload, None)

    async def preset(
        self,
        names: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        reload: bool = True,
    ) -> UnitFileChanges:
        files = unit_file_names(names)
        install_info, changes = await self.manager_call(
            "PresetUnitFiles", "asbb", (files, runtime, force)
        )
        return await self._after_install(files, file_changes(changes, install_info), reload, None)

    async def link(
        self,
        paths: str | Iterable[str],
        *,
        runtime: bool = False,
        force: bool = False,
        reload: bool = True,
    ) -> UnitFileChanges:
        """Link unit files from outside the search path (absolute paths)."""
        files = [paths] if isinstance(paths, str) else list(paths)
        for path in files:
            if not path.startswith("/"):
                raise ValueError(f"link needs absolute unit file paths, got {path!r}")
        changes = await self.manager_call("LinkUnitFiles", "asbb", (files, runtime, force))
        return await self._after_install(files, file_changes(changes), reload, None)

    async def revert(self, names: str | Iterable[str], *, reload: bool = True) -> UnitFileChanges:
        """Drop vendor overrides: drop-ins, /etc copies, masks (systemctl revert)."""
        files = unit_file_names(names)
        changes = await self.manager_call("RevertUnitFiles", "as", (files,))
        return await self._after_install(files, file_changes(changes), reload, None)

    async def _after_install(
        self,
        names: list[str],
        changes: UnitFileChanges,
        reload: bool,
        then: str | None,
    ) -> UnitFileChanges:
        if reload and changes:
            await self.daemon_reload()
        if then is not None:
            for name in names:
                unit = await self.unit(name.rpartition("/")[2])
                await getattr(unit, then)()
        return changes


def unit_file_names(names: str | Iterable[str]) -> list[str]:
    items = [names] if isinstance(names, str) else list(names)
    if not items:
        raise ValueError("no unit names given")
    out = []
    for item in items:
        if item.startswith("/"):
            out.append(item)  # a unit file path, as systemctl accepts
        elif unitname.is_valid(item, unitname.NameKind.ANY):
            out.append(item)
        else:
            out.append(unitname.normalize(item))
    return out


def file_changes(
    rows: Iterable[Sequence[str]], install_info: bool | None = None
) -> UnitFileChanges:
    changes = UnitFileChanges(UnitFileChange(kind, file, dest) for kind, file, dest in rows)
    changes.carries_install_info = install_info
    return changes
