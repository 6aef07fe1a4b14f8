"""sysd: systemd from Python without shelling out.

Blocking API here, asyncio twins under :mod:`sysd.aio` with the same names::

    import sysd

    with sysd.connect() as sd:
        print(sd.version)

``import sysd`` imports no asyncio, starts no threads, and loads the D-Bus layer only
when something needs it (``sysd.connect``...), so ``sysd.daemon`` and
``sysd.journal`` stay light in services.
"""

# Not typing.TYPE_CHECKING: `import sysd` (and so `sysd --help`) must not import typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any as _Any

    from .errors import (
        AccessDeniedError,
        BusAuthenticationError,
        BusConnectError,
        BusDisconnectedError,
        BusError,
        BusTimeoutError,
        ConnectionBudgetError,
        DBusError,
        InteractiveAuthorizationRequiredError,
        InvalidArgsError,
        InvalidCalendarSpecError,
        InvalidCallError,
        InvalidCronExpressionError,
        InvalidDaemonEnvironmentError,
        InvalidJournalFieldError,
        InvalidNotifyError,
        InvalidPropertyError,
        InvalidRunOptionError,
        InvalidTimespanError,
        InvalidTimestampError,
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
        JournalCorruptError,
        JournalError,
        JournalNotFoundError,
        JournalPermissionError,
        LibsystemdNotFoundError,
        LimitsExceededError,
        NoIsolationError,
        NoReplyError,
        NoSuchFileError,
        NoSuchJobError,
        NoSuchUnitError,
        NotBootedError,
        NotifyError,
        NotifyTimeoutError,
        OnlyByDependencyError,
        PropertyReadOnlyError,
        ProtocolError,
        RunFailedError,
        RunTimeoutError,
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
        UnknownUserError,
        UsedAfterForkError,
        UserManagerNotRunningError,
        WaitTimeoutError,
    )

if TYPE_CHECKING:
    from . import aio
    from ._bus.address import booted
    from ._bus.wire import DEFAULT, Variant
    from ._core.run import DEVNULL, PIPE, STDOUT, RunResult
    from ._sync.run import RunningUnit, TriggerHandle
    from ._sync.systemd import Systemd, connect
    from .executor import (
        BrokenUnitExecutorError,
        RemoteError,
        UnitExecutor,
        WorkerDiedError,
        run_function,
    )

# Loaded on first use: name -> (module, attribute)
_LAZY = {
    "booted": ("._bus.address", "booted"),
    "DEFAULT": ("._bus.wire", "DEFAULT"),
    "Variant": ("._bus.wire", "Variant"),
    "Systemd": ("._sync.systemd", "Systemd"),
    "connect": ("._sync.systemd", "connect"),
    "PIPE": ("._core.run", "PIPE"),
    "DEVNULL": ("._core.run", "DEVNULL"),
    "STDOUT": ("._core.run", "STDOUT"),
    "RunResult": ("._core.run", "RunResult"),
    "RunningUnit": ("._sync.run", "RunningUnit"),
    "TriggerHandle": ("._sync.run", "TriggerHandle"),
    "UnitExecutor": (".executor", "UnitExecutor"),
    "run_function": (".executor", "run_function"),
    "WorkerDiedError": (".executor", "WorkerDiedError"),
    "BrokenUnitExecutorError": (".executor", "BrokenUnitExecutorError"),
    "RemoteError": (".executor", "RemoteError"),
}

# The error tree too: the classes are many, and `sysd.cli` must start fast.
_LAZY.update({name: (".errors", name) for name in (
    "AccessDeniedError",
    "BusAuthenticationError",
    "BusConnectError",
    "BusDisconnectedError",
    "BusError",
    "BusTimeoutError",
    "ConnectionBudgetError",
    "DBusError",
    "InteractiveAuthorizationRequiredError",
    "InvalidArgsError",
    "InvalidCalendarSpecError",
    "InvalidCallError",
    "InvalidCronExpressionError",
    "InvalidDaemonEnvironmentError",
    "InvalidJournalFieldError",
    "InvalidNotifyError",
    "InvalidPropertyError",
    "InvalidRunOptionError",
    "InvalidTimespanError",
    "InvalidTimestampError",
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
    "JournalCorruptError",
    "JournalError",
    "JournalNotFoundError",
    "JournalPermissionError",
    "LibsystemdNotFoundError",
    "LimitsExceededError",
    "NoIsolationError",
    "NoReplyError",
    "NoSuchFileError",
    "NoSuchJobError",
    "NoSuchUnitError",
    "NotBootedError",
    "NotifyError",
    "NotifyTimeoutError",
    "OnlyByDependencyError",
    "PropertyReadOnlyError",
    "ProtocolError",
    "RunFailedError",
    "RunTimeoutError",
    "SandboxError",
    "ServiceUnknownError",
    "ShuttingDownError",
    "SysdError",
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
    "UnknownUserError",
    "UsedAfterForkError",
    "UserManagerNotRunningError",
    "WaitTimeoutError",
)})  # fmt: skip
del TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "DEFAULT",
    "DEVNULL",
    "PIPE",
    "STDOUT",
    "AccessDeniedError",
    "BrokenUnitExecutorError",
    "BusAuthenticationError",
    "BusConnectError",
    "BusDisconnectedError",
    "BusError",
    "BusTimeoutError",
    "ConnectionBudgetError",
    "DBusError",
    "InteractiveAuthorizationRequiredError",
    "InvalidArgsError",
    "InvalidCalendarSpecError",
    "InvalidCallError",
    "InvalidCronExpressionError",
    "InvalidDaemonEnvironmentError",
    "InvalidJournalFieldError",
    "InvalidNotifyError",
    "InvalidPropertyError",
    "InvalidRunOptionError",
    "InvalidTimespanError",
    "InvalidTimestampError",
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
    "JournalCorruptError",
    "JournalError",
    "JournalNotFoundError",
    "JournalPermissionError",
    "LibsystemdNotFoundError",
    "LimitsExceededError",
    "NoIsolationError",
    "NoReplyError",
    "NoSuchFileError",
    "NoSuchJobError",
    "NoSuchUnitError",
    "NotBootedError",
    "NotifyError",
    "NotifyTimeoutError",
    "OnlyByDependencyError",
    "PropertyReadOnlyError",
    "ProtocolError",
    "RemoteError",
    "RunFailedError",
    "RunResult",
    "RunTimeoutError",
    "RunningUnit",
    "SandboxError",
    "ServiceUnknownError",
    "ShuttingDownError",
    "SysdError",
    "Systemd",
    "TransactionIsDestructiveError",
    "TransactionJobsConflictingError",
    "TransactionOrderIsCyclicError",
    "TriggerHandle",
    "UnitBadPathError",
    "UnitExecutor",
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
    "UnknownUserError",
    "UsedAfterForkError",
    "UserManagerNotRunningError",
    "Variant",
    "WaitTimeoutError",
    "WorkerDiedError",
    "__version__",
    "aio",
    "booted",
    "connect",
    "run_function",
]


def __getattr__(name: str) -> "_Any":
    import importlib

    # sysd.aio is imported on first use only: the blocking API must not pull in asyncio.
    if name == "aio":
        return importlib.import_module(".aio", __name__)
    if name == "errors":  # `import sysd; sysd.errors.X` worked when errors loaded eagerly
        return importlib.import_module(".errors", __name__)
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sysd' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"aio"})
