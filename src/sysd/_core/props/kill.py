"""Killing: ``bus_append_kill_property()`` (service, socket, scope, mount)."""

from __future__ import annotations

from typing import Final

from ._kit import Handler, boolean, signal, string

__all__ = ["HANDLERS"]

HANDLERS: Final[dict[str, Handler]] = {
    "KillMode": string,
    "SendSIGHUP": boolean,
    "SendSIGKILL": boolean,
    "KillSignal": signal,
    "RestartKillSignal": signal,
    "FinalKillSignal": signal,
    "WatchdogSignal": signal,
}
