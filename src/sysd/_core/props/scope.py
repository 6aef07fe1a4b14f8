"""Scopes: ``bus_append_scope_property()``."""

from __future__ import annotations

from typing import Final

from ._kit import Handler, sec_rename, string

__all__ = ["HANDLERS"]

HANDLERS: Final[dict[str, Handler]] = {
    "RuntimeMaxSec": sec_rename,
    "RuntimeRandomizedExtraSec": sec_rename,
    "TimeoutStopSec": sec_rename,
    # Scopes have no execution context, but systemd still lets these two through.
    "User": string,
    "Group": string,
    "OOMPolicy": string,
}
