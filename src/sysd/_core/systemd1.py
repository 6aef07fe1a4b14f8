"""systemd's D-Bus names (the service manager, ``org.freedesktop.systemd1``): defined
once, used by every module that talks to it."""

from __future__ import annotations

__all__ = [
    "JOB_INTERFACE",
    "MANAGER_INTERFACE",
    "MANAGER_PATH",
    "SCOPE_INTERFACE",
    "SERVICE_INTERFACE",
    "SYSTEMD_BUS_NAME",
    "TIMER_INTERFACE",
    "UNITS_PATH",
    "UNIT_INTERFACE",
]

SYSTEMD_BUS_NAME = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER_INTERFACE = "org.freedesktop.systemd1.Manager"
UNITS_PATH = "/org/freedesktop/systemd1/unit"
UNIT_INTERFACE = "org.freedesktop.systemd1.Unit"
SERVICE_INTERFACE = "org.freedesktop.systemd1.Service"
SCOPE_INTERFACE = "org.freedesktop.systemd1.Scope"
TIMER_INTERFACE = "org.freedesktop.systemd1.Timer"
JOB_INTERFACE = "org.freedesktop.systemd1.Job"
