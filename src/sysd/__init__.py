"""sysd: systemd from Python without shelling out.

Blocking API here, asyncio twins under :mod:`sysd.aio` with the same names::

    import sysd

    with sysd.connect() as sd:
        print(sd.version)

``import sysd`` imports no asyncio, starts no threads, and loads the D-Bus layer only
when something needs it (``sysd.connect``...), so ``sysd.daemon`` and
``sysd.journal`` stay light in services.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from .errors import (
    AccessDeniedError,
    BusAuthenticationError,
    BusConnectError,
    BusDisconnectedError,
    BusError,
    BusTimeoutError,
    DBusError,
    InteractiveAuthorizationRequiredError,
    InvalidArgsError,
    InvalidCalendarSpecError,
    InvalidCallError,
    InvalidCronExpressionError,
    InvalidPropertyError,
    InvalidTimespanError,
    InvalidUnitFileError,
    InvalidUnitNameError,
    JobAssertError,
    JobCanceledError,
    JobCollectedError,
    JobDependencyError,
    JobError,
    JobFailedError,
    JobInvalidError,
    JobOnceError,
    JobTimeoutError,
    JobTypeNotApplicableError,
    JobUnsupportedError,
    LimitsExceededError,
    NoIsolationError,
    NoReplyError,
    NoSuchFileError,
    NoSuchJobError,
    NoSuchUnitError,
    NotBootedError,
    OnlyByDependencyError,
    PropertyReadOnlyError,
    ProtocolError,
    SandboxError,
    ServiceUnknownError,
    ShuttingDownError,
    SysdError,
    TransactionIsDestructiveError,
    TransactionJobsConflictingError,
    TransactionOrderIsCyclicError,
    UnitBadPathError,
    UnitExistsError,
    UnitFileError,
    UnitFileNotFoundError,
    UnitFilePermissionError,
    UnitGeneratedError,
    UnitInactiveError,
    UnitLinkedError,
    UnitMaskedError,
    UnknownMethodError,
    UnknownObjectError,
    UnknownPropertyError,
    UsedAfterForkError,
    UserManagerNotRunningError,
    WaitTimeoutError,
)

if _TYPE_CHECKING:
    from . import aio
    from ._bus.address import booted
    from ._bus.wire import DEFAULT, Variant
    from ._sync.systemd import Systemd, connect

# Loaded on first use: name -> (module, attribute)
_LAZY = {
    "booted": ("._bus.address", "booted"),
    "DEFAULT": ("._bus.wire", "DEFAULT"),
    "Variant": ("._bus.wire", "Variant"),
    "Systemd": ("._sync.systemd", "Systemd"),
    "connect": ("._sync.systemd", "connect"),
}

__version__ = "0.1.0"

__all__ = [
    "DEFAULT",
    "AccessDeniedError",
    "BusAuthenticationError",
    "BusConnectError",
    "BusDisconnectedError",
    "BusError",
    "BusTimeoutError",
    "DBusError",
    "InteractiveAuthorizationRequiredError",
    "InvalidArgsError",
    "InvalidCalendarSpecError",
    "InvalidCallError",
    "InvalidCronExpressionError",
    "InvalidPropertyError",
    "InvalidTimespanError",
    "InvalidUnitFileError",
    "InvalidUnitNameError",
    "JobAssertError",
    "JobCanceledError",
    "JobCollectedError",
    "JobDependencyError",
    "JobError",
    "JobFailedError",
    "JobInvalidError",
    "JobOnceError",
    "JobTimeoutError",
    "JobTypeNotApplicableError",
    "JobUnsupportedError",
    "LimitsExceededError",
    "NoIsolationError",
    "NoReplyError",
    "NoSuchFileError",
    "NoSuchJobError",
    "NoSuchUnitError",
    "NotBootedError",
    "OnlyByDependencyError",
    "PropertyReadOnlyError",
    "ProtocolError",
    "SandboxError",
    "ServiceUnknownError",
    "ShuttingDownError",
    "SysdError",
    "Systemd",
    "TransactionIsDestructiveError",
    "TransactionJobsConflictingError",
    "TransactionOrderIsCyclicError",
    "UnitBadPathError",
    "UnitExistsError",
    "UnitFileError",
    "UnitFileNotFoundError",
    "UnitFilePermissionError",
    "UnitGeneratedError",
    "UnitInactiveError",
    "UnitLinkedError",
    "UnitMaskedError",
    "UnknownMethodError",
    "UnknownObjectError",
    "UnknownPropertyError",
    "UsedAfterForkError",
    "UserManagerNotRunningError",
    "Variant",
    "WaitTimeoutError",
    "__version__",
    "aio",
    "booted",
    "connect",
]


def __getattr__(name: str) -> _Any:
    import importlib

    # sysd.aio is imported on first use only: the blocking API must not pull in asyncio.
    if name == "aio":
        return importlib.import_module(".aio", __name__)
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sysd' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"aio"})
