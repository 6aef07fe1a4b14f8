"""Mounts and automounts: ``bus_append_mount_property()``, ``bus_append_automount_property()``."""

from __future__ import annotations

from typing import Final

from ._kit import Handler, boolean, mode, sec_rename, string

__all__ = ["AUTOMOUNT_HANDLERS", "HANDLERS"]

HANDLERS: Final[dict[str, Handler]] = {
    **dict.fromkeys(("What", "Where", "Options", "Type"), string),
    "TimeoutSec": sec_rename,
    "DirectoryMode": mode,
    **dict.fromkeys(("SloppyOptions", "LazyUnmount", "ForceUnmount", "ReadwriteOnly"), boolean),
}

AUTOMOUNT_HANDLERS: Final[dict[str, Handler]] = {
    "Where": string,
    "ExtraOptions": string,
    "DirectoryMode": mode,
    "TimeoutIdleSec": sec_rename,
}
