"""Path units: ``bus_append_path_property()``."""

from __future__ import annotations

from typing import Final

from ._c import dbus_str
from ._kit import Assignment, Handler, Out, boolean, mode, sec_rename, u32

__all__ = ["HANDLERS"]


def watch(out: Out, field: str, eq: str) -> None:
    """PathExists= & co -> ``Paths`` ``a(ss)`` of (condition, path)."""
    value = [(field, dbus_str(eq))] if eq else []
    out.append(Assignment("Paths", "a(ss)", value))


HANDLERS: Final[dict[str, Handler]] = {
    "MakeDirectory": boolean,
    "DirectoryMode": mode,
    **dict.fromkeys(
        ("PathExists", "PathExistsGlob", "PathChanged", "PathModified", "DirectoryNotEmpty"), watch
    ),
    "TriggerLimitBurst": u32,
    "TriggerLimitIntervalSec": sec_rename,
}
