"""Every error sysd raises, in one tree.

Each class derives from :class:`SysdError` *and* from the nearest builtin, so
callers that only know the standard library still catch the right thing
(``except PermissionError`` catches a polkit denial, ``except TimeoutError`` a
call past its deadline).  Errors carry structured fields, read as one line with
a hint, and pickle (they cross process boundaries in executors)::

    SysdError
    ├── BusError                                  the connection itself
    │   ├── BusConnectError           (ConnectionError)   could not connect
    │   │   ├── NotBootedError                    host not booted with systemd
    │   │   ├── UserManagerNotRunningError        no user manager / no XDG_RUNTIME_DIR
    │   │   ├── BusAuthenticationError            SASL refused or broken
    │   │   └── RemoteHostError                   a host over ssh: .host named
    │   │       ├── HostUnreachableError          no connection (refused, DNS, timeout)
    │   │       ├── HostAuthenticationError       ssh login refused (key, user)
    │   │       ├── HostKeyError                  host key unknown or changed
    │   │       ├── RemoteBridgeMissingError      no systemd-stdio-bridge on the host
    │   │       ├── RemoteNotBootedError          host not booted with systemd (NotBootedError)
    │   │       └── SudoPasswordRequiredError     sudo=True and sudo wants a password
    │   ├── BusDisconnectedError      (ConnectionError)   peer went away
    │   ├── ProtocolError             (ConnectionError)   peer sent garbage; connection dropped
    │   ├── BusTimeoutError           (TimeoutError)      no reply before the deadline
    │   └── UsedAfterForkError        (RuntimeError)      connection inherited through fork()
    ├── DBusError                                 an error reply; .name, .message
    │   ├── AccessDeniedError         (PermissionError)
    │   │   └── InteractiveAuthorizationRequiredError
    │   ├── NoSuchUnitError           (LookupError)
    │   ├── UnknownObjectError        (LookupError)
    │   ├── UnknownMethodError        (LookupError)
    │   ├── UnknownPropertyError      (LookupError)
    │   ├── PropertyReadOnlyError     (PermissionError)
    │   ├── ServiceUnknownError       (LookupError)
    │   ├── InvalidArgsError          (ValueError)
    │   ├── NoReplyError              (TimeoutError)
    │   ├── LimitsExceededError       (OSError-free; retry later)
    │   │   └── ConnectionBudgetError     (TimeoutError)  no slot in the connection's budget in time
    │   ├── NoSuchJobError            (LookupError)
    │   ├── NoSuchFileError           (FileNotFoundError)
    │   ├── NoSuchSessionError, NoSuchUserError, NoSuchSeatError (LookupError)  logind
    │   ├── NoSuchMachineError, NoSuchImageError (LookupError), MachineExistsError  machined
    │   ├── FileExistsDBusError       (FileExistsError)
    │   └── UnitExistsError, UnitMaskedError, JobTypeNotApplicableError,
    │       OnlyByDependencyError, TransactionIsDestructiveError,
    │       TransactionOrderIsCyclicError, TransactionJobsConflictingError,
    │       NoIsolationError, ShuttingDownError, UnitGeneratedError,
    │       UnitLinkedError, UnitBadPathError, UnitInactiveError
    ├── JobError                      (RuntimeError)  a job ended without success
    │   ├── JobFailedError, JobDependencyError, JobAssertError, JobUnsupportedError,
    │   │   JobInvalidError, JobOnceError
    │   ├── JobCanceledError
    │   │   └── JobCollectedError
    │   ├── JobTimeoutError           (TimeoutError)  systemd's job timeout
    │   └── UnitSettleError                       ensure(settle=): started, did not stay up
    ├── WaitTimeoutError              (TimeoutError)  our own wait gave up; the job goes on
    ├── InvalidCallError              (ValueError)   bad name/signature/args, before sending
    ├── InvalidIntrospectionError     (ValueError)   a peer's introspection XML is not valid
    ├── InvalidUnitNameError          (ValueError)   checked locally, before any bus call
    ├── InvalidEventFilterError       (ValueError)   unknown event kind or unit type
    ├── InvalidEnsureError            (ValueError)   ensure(): contradictory options, before sending
    │   └── UnitNotFoundError         (LookupError)  ensure(): no such unit to start or enable
    ├── InvalidTimespanError          (ValueError)
    ├── InvalidCalendarSpecError      (ValueError)
    ├── InvalidCronExpressionError    (ValueError)
    ├── InvalidPropertyError          (ValueError)
    ├── InvalidUnitFileError          (ValueError)   bad drop-in name/text, or a remote manager
    ├── UnitFileError                 (OSError)      reading/writing unit files failed
    │   ├── UnitFilePermissionError   (PermissionError)
    │   └── UnitFileNotFoundError     (FileNotFoundError)
    ├── InvalidRunOptionError         (ValueError)   run(): bad or clashing options, before sending
    │   └── UnknownUserError          (LookupError)  user=/group= this machine does not know
    ├── RunFailedError                (RuntimeError) run(check=True): the command did not succeed
    ├── RunTimeoutError               (TimeoutError) run(timeout=) expired; the unit was stopped
    ├── JournalError                  (OSError)      reading or writing the journal failed
    │   ├── JournalNotFoundError      (FileNotFoundError) no journal files / directory / socket
    │   ├── JournalPermissionError    (PermissionError)   journal files exist but are not readable
    │   ├── JournalCorruptError                           a journal file is damaged or truncated
    │   ├── JournalStreamError                            not journalctl's export format
    │   ├── RemoteJournalError                            journalctl over ssh / -M failed
    │   └── LibsystemdNotFoundError                       libsystemd.so.0 could not be loaded
    ├── InvalidJournalFieldError      (ValueError)   bad journal field name, match or value
    ├── InvalidTimestampError         (ValueError)   a since/until text that does not parse
    ├── InvalidNotifyError            (ValueError)   sd_notify fields that cannot be sent
    ├── InvalidDaemonEnvironmentError (ValueError)   malformed LISTEN_FDS, WATCHDOG_USEC, ...
    ├── InvalidId128Error             (ValueError)   text that is not a 128-bit ID
    ├── Id128Error                    (OSError)      machine-id/boot-id/invocation ID unreadable
    ├── InvalidLoginCallError         (ValueError)   bad inhibit()/power arguments, before sending
    ├── InvalidMachineCallError       (ValueError)   bad machine/image names, paths, kill()
    ├── InvalidHostError              (ValueError)   a host spec that is not [user@]host[:port]
    ├── NotifyError                   (OSError)      the notification could not be sent
    │   └── NotifyTimeoutError        (TimeoutError) the manager is not reading
    ├── SandboxError                  (RuntimeError)  the throwaway systemd could not run
    ├── InvalidHostListError          (ValueError)   host list, inventory, pattern, batch= unusable
    ├── MissingDependencyError        (ImportError)  an optional dependency is not installed
    ├── FleetError                    (RuntimeError) FleetResult.raise_for_failures(): hosts failed
    ├── RollingCheckError             (RuntimeError) rolling(check=): the check said no for a host
    └── BootNotFinishedError          (RuntimeError)  analyze: the manager is still starting up

Unknown D-Bus error names become a plain :class:`DBusError` with the name kept.
"""

from __future__ import annotations

import os as _os
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ._core.report import FailureReport
    from ._core.run import RunResult

__all__ = [
    "HostAuthenticationError",
    "HostKeyError",
    "HostUnreachableError",
    "InvalidHostError",
    "RemoteBridgeMissingError",
    "RemoteHostError",
    "RemoteNotBootedError",
    "SudoPasswordRequiredError",
    "InvalidIntrospectionError",
    "LibsystemdNotFoundError",
    "JournalPermissionError",
    "JournalNotFoundError",
    "JournalError",
    "JournalCorruptError",
    "JournalStreamError",
    "RemoteJournalError",
    "InvalidTimestampError",
    "InvalidJournalFieldError",
    "UnknownUserError",
    "RunTimeoutError",
    "RunFailedError",
    "InvalidRunOptionError",
    "PropertyReadOnlyError",
    "NotifyTimeoutError",
    "NotifyError",
    "InvalidNotifyError",
    "InvalidDaemonEnvironmentError",
    "InvalidId128Error",
    "Id128Error",
    "InvalidLoginCallError",
    "NoSuchSessionError",
    "NoSuchUserError",
    "NoSuchSeatError",
    "NoSuchMachineError",
    "NoSuchImageError",
    "MachineExistsError",
    "FileExistsDBusError",
    "InvalidMachineCallError",
    "UnitFilePermissionError",
    "UnitFileNotFoundError",
    "UnitFileError",
    "InvalidUnitFileError",
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
    "InvalidUnitNameError",
    "InvalidEnsureError",
    "InvalidEventFilterError",
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
    "NoSuchFileError",
    "NoSuchJobError",
    "TransactionJobsConflictingError",
    "UnitBadPathError",
    "UnitGeneratedError",
    "UnitInactiveError",
    "UnitLinkedError",
    "WaitTimeoutError",
    "LimitsExceededError",
    "ConnectionBudgetError",
    "NoIsolationError",
    "NoReplyError",
    "NoSuchUnitError",
    "NotBootedError",
    "OnlyByDependencyError",
    "ProtocolError",
    "SandboxError",
    "BootNotFinishedError",
    "ServiceUnknownError",
    "ShuttingDownError",
    "SysdError",
    "TransactionIsDestructiveError",
    "TransactionOrderIsCyclicError",
    "UnitExistsError",
    "UnitMaskedError",
    "UnitNotFoundError",
    "UnitSettleError",
    "UnknownMethodError",
    "UnknownObjectError",
    "UnknownPropertyError",
    "UsedAfterForkError",
    "UserManagerNotRunningError",
    "error_from_dbus",
    "InvalidHostListError",
    "MissingDependencyError",
    "FleetError",
    "RollingCheckError",
]


def _restore(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    # Classes with two builtin bases (JobTimeoutError: RuntimeError and
    # TimeoutError) need the __new__ of the base that fixes their layout.
    exc = None
    for base in cls.__mro__:
        if base.__module__ == "builtins":
            try:
                exc = base.__new__(cls)  # type: ignore[call-overload]
                break
            except TypeError:
                continue
    assert exc is not None
    exc.args = args
    exc.__dict__.update(state)
    return exc


def _rebuild(cls: type[SysdError], message: str, kwargs: dict[str, Any]) -> SysdError:
    """Unpickle an error whose builtin base keeps fields outside __dict__ (OSError's errno)."""
    return cls(message, **kwargs)


class SysdError(Exception):
    """Base of every sysd error.

    ``hint`` is a short piece of advice appended to ``str(error)``.
    """

    hint: str | None = None

    def __init__(self, message: str = "", *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def text(self) -> str:
        """The message without the hint."""
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        text = self.text
        if self.hint:
            return f"{text} (hint: {self.hint})" if text else f"hint: {self.hint}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


# --------------------------------------------------------------------------- bus


class BusError(SysdError):
    """Something went wrong with the connection to the bus (not an error reply)."""


class BusConnectError(BusError, ConnectionError):
    """Could not connect to the bus (socket missing, refused, no permission...)."""

    address: str | None = None

    def __init__(
        self, message: str = "", *, address: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        if address is not None:
            self.address = address


class NotBootedError(BusConnectError):
    """The host was not booted with systemd, so there is no manager to talk to."""

    hint = "this host is not running systemd as PID 1; try `sysd sandbox run -- ...`"


class UserManagerNotRunningError(BusConnectError):
    """The calling user's systemd manager is not reachable."""

    hint = "start it with `systemctl start user@UID.service` or log in with a session"


class BusAuthenticationError(BusConnectError):
    """SASL authentication was refused or the handshake broke."""


class RemoteHostError(BusConnectError):
    """Could not reach the systemd manager of a host over ssh; ``.host`` names the host
    (as given), ``.returncode`` and ``.stderr`` are what ssh (or the remote command)
    ended with, when known."""

    host: str | None = None
    returncode: int | None = None
    stderr: str | None = None

    def __init__(
        self,
        message: str = "",
        *,
        host: str | None = None,
        returncode: int | None = None,
        stderr: str | None = None,
        address: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, address=address, hint=hint)
        if host is not None:
            self.host = host
        if returncode is not None:
            self.returncode = returncode
        if stderr is not None:
            self.stderr = stderr


class HostUnreachableError(RemoteHostError):
    """ssh could not connect to the host (refused, no route, unknown name, timed out)."""

    hint = "check the host name and port, and that sshd runs there (try `ssh HOST true`)"


class HostAuthenticationError(RemoteHostError, PermissionError):
    """The host's sshd refused the login (no accepted key for this user)."""

    hint = "check the user and that your key is loaded (ssh-add -l) and authorized there"


class HostKeyError(RemoteHostError):
    """The host's key is not in known_hosts, or differs from the one recorded there."""

    hint = (
        "verify the host key and record it (`ssh HOST true` once, or ssh-keyscan); "
        "sysd never accepts keys on its own"
    )


class RemoteBridgeMissingError(RemoteHostError):
    """The host has no ``systemd-stdio-bridge`` on the PATH of the remote login."""

    hint = "install systemd on the host (systemd-stdio-bridge ships with it, /usr/bin)"


class RemoteNotBootedError(RemoteHostError, NotBootedError):
    """The host is reachable over ssh but was not booted with systemd (no
    ``/run/systemd/system``), so there is no manager to talk to."""

    hint = "this host does not run systemd as PID 1"


class SudoPasswordRequiredError(RemoteHostError, PermissionError):
    """``sudo=True``: sudo on the host wants a password (sysd runs ``sudo -n``)."""

    hint = (
        "allow the login user to run systemd-stdio-bridge without a password "
        "(sudoers: USER ALL=(root) NOPASSWD: /usr/bin/systemd-stdio-bridge), or log in as root"
    )


class BusDisconnectedError(BusError, ConnectionError):
    """The peer closed the connection (or we closed it) while a call needed it."""


class ProtocolError(BusError, ConnectionError):
    """The peer sent bytes that are not valid D-Bus; the connection was dropped."""


class BusTimeoutError(BusError, TimeoutError):
    """No reply arrived before the deadline.  The connection stays usable."""

    hint = "pass timeout= to wait longer (None waits forever)"


class UsedAfterForkError(BusError, RuntimeError):
    """A connection opened in the parent was used in a child after fork()."""

    hint = "open a new connection in the child process"


# ---------------------------------------------------------------- error replies


class DBusError(SysdError):
    """An error reply from the peer; ``.name`` is the D-Bus error name."""

    dbus_name: ClassVar[str | None] = None
    name: str
    message: str

    def __init__(self, message: str = "", *, name: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.name = name or type(self).dbus_name or "org.freedesktop.DBus.Error.Failed"
        self.message = message

    @property
    def text(self) -> str:
        return f"{self.name}: {self.message}" if self.message else self.name


_BY_NAME: dict[str, type[DBusError]] = {}


def _register(*names: str) -> Any:
    def deco(cls: type[DBusError]) -> type[DBusError]:
        cls.dbus_name = names[0]
        for n in names:
            _BY_NAME[n] = cls
        return cls

    return deco


@_register("org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.systemd1.AccessDenied")
class AccessDeniedError(DBusError, PermissionError):
    """The call was refused by policy (bus policy or polkit)."""

    hint = "run as root or add a polkit rule"


@_register("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired")
class InteractiveAuthorizationRequiredError(AccessDeniedError):
    """polkit would allow the call after asking the user, but asking was not allowed."""

    hint = "run as root, add a polkit rule, or pass interactive=True to let polkit ask"


@_register("org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.systemd1.LoadFailed")
class NoSuchUnitError(DBusError, LookupError):
    """The unit is not loaded and could not be found."""


@_register("org.freedesktop.DBus.Error.FileNotFound")
class NoSuchFileError(DBusError, FileNotFoundError):
    """The peer found no such file (e.g. no unit file for that name)."""


@_register("org.freedesktop.DBus.Error.UnknownObject")
class UnknownObjectError(DBusError, LookupError):
    """No object at that path."""


@_register(
    "org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.UnknownInterface"
)
class UnknownMethodError(DBusError, LookupError):
    """The object has no such method or interface."""


@_register("org.freedesktop.DBus.Error.UnknownProperty")
class UnknownPropertyError(DBusError, LookupError):
    """The interface has no such property."""


@_register("org.freedesktop.DBus.Error.PropertyReadOnly")
class PropertyReadOnlyError(DBusError, PermissionError):
    """The property cannot be written with Properties.Set."""

    hint = "change units with Unit.set_properties() (SetUnitProperties), not Properties.Set"


@_register("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner")
class ServiceUnknownError(DBusError, LookupError):
    """No peer owns that bus name."""


@_register("org.freedesktop.DBus.Error.InvalidArgs", "org.freedesktop.DBus.Error.InvalidSignature")
class InvalidArgsError(DBusError, ValueError):
    """The peer rejected the arguments."""


@_register("org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout")
class NoReplyError(DBusError, TimeoutError):
    """The bus gave up waiting for the peer's reply."""


@_register("org.freedesktop.DBus.Error.LimitsExceeded")
class LimitsExceededError(DBusError):
    """The bus refused the call because a per-connection limit was reached."""

    hint = "a per-connection limit of the bus was reached; retry later"


class ConnectionBudgetError(LimitsExceededError, TimeoutError):
    """Raised by sysd itself, before anything is sent: the connection's budget for what
    waits (pending jobs, pinned units; RELIABILITY.md 44, 49) had no free slot before
    the caller's deadline.  Without a deadline the call queues instead."""

    hint = "the connection is busy with other jobs; wait longer, or use another connection"


@_register("org.freedesktop.systemd1.UnitExists")
class UnitExistsError(DBusError):
    """A unit of that name already exists (transient units)."""


@_register("org.freedesktop.systemd1.UnitMasked")
class UnitMaskedError(DBusError):
    """The unit is masked."""

    hint = "unmask it first"


@_register("org.freedesktop.systemd1.JobTypeNotApplicable")
class JobTypeNotApplicableError(DBusError):
    """That job type does not apply to this unit (e.g. reload of a unit without ExecReload)."""


@_register("org.freedesktop.systemd1.OnlyByDependency")
class OnlyByDependencyError(DBusError):
    """The unit may only be started or stopped as a dependency (RefuseManualStart=)."""


@_register("org.freedesktop.systemd1.TransactionIsDestructive")
class TransactionIsDestructiveError(DBusError):
    """The job conflicts with queued jobs and mode 'fail' was requested."""


@_register("org.freedesktop.systemd1.TransactionOrderIsCyclic")
class TransactionOrderIsCyclicError(DBusError):
    """The transaction contains an ordering cycle."""


@_register("org.freedesktop.systemd1.NoIsolation")
class NoIsolationError(DBusError):
    """The unit does not allow isolation."""


@_register("org.freedesktop.systemd1.TransactionJobsConflicting")
class TransactionJobsConflictingError(DBusError):
    """The requested jobs conflict with each other."""


@_register("org.freedesktop.systemd1.NoSuchJob")
class NoSuchJobError(DBusError, LookupError):
    """No job with that id (it finished, or never existed)."""


@_register("org.freedesktop.systemd1.UnitGenerated")
class UnitGeneratedError(DBusError):
    """The unit file is generated and cannot be changed this way."""


@_register("org.freedesktop.systemd1.UnitLinked")
class UnitLinkedError(DBusError):
    """The unit file is linked from outside the search path."""


@_register("org.freedesktop.systemd1.UnitBadPath")
class UnitBadPathError(DBusError):
    """A unit file path given is not valid."""


@_register("org.freedesktop.systemd1.UnitInactive")
class UnitInactiveError(DBusError):
    """The operation needs an active unit."""


@_register("org.freedesktop.systemd1.ShuttingDown")
class ShuttingDownError(DBusError):
    """The manager is shutting down and refuses new work."""


@_register("org.freedesktop.login1.NoSuchSession")
class NoSuchSessionError(DBusError, LookupError):
    """logind knows no session of that ID (or none for that PID)."""


@_register("org.freedesktop.login1.NoSuchUser", "org.freedesktop.login1.NoUserForPID")
class NoSuchUserError(DBusError, LookupError):
    """logind knows no such user: it has no session, and lingering is off."""


@_register("org.freedesktop.login1.NoSuchSeat")
class NoSuchSeatError(DBusError, LookupError):
    """logind knows no seat of that name."""


_BY_NAME["org.freedesktop.login1.NoSessionForPID"] = NoSuchSessionError


@_register("org.freedesktop.machine1.NoSuchMachine", "org.freedesktop.machine1.NoMachineForPID")
class NoSuchMachineError(DBusError, LookupError):
    """machined knows no machine of that name (or none for that PID)."""


@_register("org.freedesktop.machine1.NoSuchImage")
class NoSuchImageError(DBusError, LookupError):
    """machined finds no image of that name (in /var/lib/machines and its other paths)."""


@_register("org.freedesktop.DBus.Error.FileExists")
class FileExistsDBusError(DBusError, FileExistsError):
    """The file to create exists already (machined's copy_to/copy_from without
    ``replace=True``)."""


@_register("org.freedesktop.machine1.MachineExists")
class MachineExistsError(DBusError, FileExistsError):
    """A machine (or image) of that name exists already."""


def error_from_dbus(
    name: str,
    message: str,
    *,
    interface: str | None = None,
    member: str | None = None,
    interactive: bool = False,
) -> DBusError:
    """The typed error for a D-Bus error reply (a plain DBusError when unknown).

    ``interface``, ``member`` and ``interactive`` describe the call that failed,
    so that the hint fits it (a hint that tells a caller to do what it did, or
    names a method it did not call, misleads).
    """
    cls = _BY_NAME.get(name, DBusError)
    return cls(message, name=name, hint=_hint_for(cls, message, interface, member, interactive))


def _hint_for(
    cls: type[DBusError],
    message: str,
    interface: str | None,
    member: str | None,
    interactive: bool,
) -> str | None:
    """A hint for this error from this call, or None for the class's own."""
    if cls is InteractiveAuthorizationRequiredError and interactive:
        return (
            "polkit wanted to ask, but no authentication agent answered for this session: "
            "run one (e.g. pkttyagent), run as root, or add a polkit rule"
        )
    if cls is AccessDeniedError:
        if interface == "org.freedesktop.DBus.Properties" and member == "Set":
            return "systemd refuses Properties.Set on units; use set_properties (SetUnitProperties)"
        if message.startswith("Rejected send message"):  # dbus-daemon's policy, not polkit
            return "the bus policy refuses this call to this user; run as root"
    if cls is LimitsExceededError:
        lowered = message.lower()
        if member == "AddMatch" or "match rule" in lowered:
            return (
                "this connection holds too many signal match rules (dbus-daemon allows 512): "
                "close run/watch handles you no longer need, or use another connection"
            )
        if "pending repl" in lowered:
            return "too many calls in flight on this connection; retry later"
    return None


# -------------------------------------------------------------------- jobs


class JobError(SysdError, RuntimeError):
    """A job ended with a result other than ``done``/``skipped``.

    Fields: ``unit`` (primary name), ``job_id``, ``job_type``, ``result`` (the
    job result string), and for units that report one: ``service_result``
    (the unit's Result, e.g. ``exit-code``, ``signal``, ``start-limit-hit``),
    ``exit_code`` / ``exit_signal`` of the main process.  Unknown result
    strings (a newer systemd) raise this base class.

    ``report``: a :class:`~sysd.FailureReport` (the unit's state, the failed step, the
    failing invocation's last journal lines; ``e.report.render()`` prints it) on every
    error of a waited job; None where none was built.
    """

    job_result: ClassVar[str | None] = None
    report: FailureReport | None = None

    def __init__(
        self,
        message: str = "",
        *,
        unit: str | None = None,
        job_id: int | None = None,
        job_type: str | None = None,
        result: str | None = None,
        service_result: str | None = None,
        exit_code: int | None = None,
        exit_signal: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.unit = unit
        self.job_id = job_id
        self.job_type = job_type
        self.result = result if result is not None else type(self).job_result
        self.service_result = service_result
        self.exit_code = exit_code
        self.exit_signal = exit_signal


class JobFailedError(JobError):
    """The job failed (the unit's own Result says why)."""

    job_result = "failed"


class JobCanceledError(JobError):
    """The job was canceled (by another job, a stop, or an administrator)."""

    job_result = "canceled"


class JobCollectedError(JobCanceledError):
    """The queued job was garbage-collected (nothing needed it any more)."""

    job_result = "collected"


class JobTimeoutError(JobError, TimeoutError):
    """systemd's job timeout (JobTimeoutSec=) expired."""

    job_result = "timeout"


class JobDependencyError(JobError):
    """A job this one depends on failed."""

    job_result = "dependency"
    hint = "see the status and journal of the units it requires"


class JobAssertError(JobError):
    """An Assert*= condition of the unit failed."""

    job_result = "assert"


class JobUnsupportedError(JobError):
    """The operation or unit type is not supported on this system."""

    job_result = "unsupported"


class JobInvalidError(JobError):
    """The job made no sense for the unit's state (e.g. reload of an inactive unit)."""

    job_result = "invalid"


class JobOnceError(JobError):
    """The unit may be started only once (e.g. a oneshot with RemainAfterExit in a target)."""

    job_result = "once"


class UnitSettleError(JobError):
    """``ensure(settle=...)``: the job succeeded, but within the settle window the unit
    left active, its main process died, or it was started again (a restart loop).

    Fields as JobError (``result`` is the job's, ``done``; ``service_result``,
    ``exit_code``/``exit_signal`` as read when it failed), plus ``reason``
    (``left-active``, ``main-process-died``, ``restarted``), ``invocation_id`` (the
    run that was started), ``settle`` (the window, seconds) and ``report``: the
    :class:`FailureReport` of that run (its status and its own log lines).
    """

    reason: str | None = None
    invocation_id: str | None = None
    settle: float | None = None
    report: Any = None
    hint = "see the unit's status and journal; the job succeeded, the service did not stay up"


JOB_ERRORS: dict[str, type[JobError]] = {
    str(cls.job_result): cls
    for cls in (
        JobFailedError,
        JobCanceledError,
        JobCollectedError,
        JobTimeoutError,
        JobDependencyError,
        JobAssertError,
        JobUnsupportedError,
        JobInvalidError,
        JobOnceError,
    )
}


class WaitTimeoutError(SysdError, TimeoutError):
    """sysd stopped waiting before the job finished; the job itself goes on."""

    hint = "wait longer (timeout=None waits until systemd ends the job), or use wait=False"


# ------------------------------------------------------------------ local input


class InvalidCallError(SysdError, ValueError):
    """A call that cannot be sent: invalid bus name, path, member, signature or arguments."""


class InvalidIntrospectionError(SysdError, ValueError):
    """A peer's introspection data (XML) is not valid: bad XML, entities, bad names."""

    hint = "the service's Introspect reply is broken; call its methods by name with sd.call()"


class InvalidUnitNameError(SysdError, ValueError):
    """A unit name (or a string to make one from) is not valid."""


class InvalidEventFilterError(SysdError, ValueError):
    """``sd.events()`` / ``wait_for()``: an unknown event kind or unit type, a bad queue
    size or state; raised before anything is sent."""


class InvalidEnsureError(SysdError, ValueError):
    """``ensure()``: contradictory or malformed options (``active=True, masked=True``, a
    negative settle...), or a state that cannot be reached from here; raised before
    anything is changed."""


class UnitNotFoundError(InvalidEnsureError, LookupError):
    """``ensure()``: the unit does not exist (LoadState ``not-found``) and was asked to
    be active or enabled; raised before anything is changed."""

    hint = "check the name; a unit file written just now is found after a daemon-reload"


class InvalidTimespanError(SysdError, ValueError):
    """A time span such as ``"1h 30min"`` could not be parsed."""


class InvalidCalendarSpecError(SysdError, ValueError):
    """A calendar specification such as ``"Mon *-*-* 10:00"`` is not valid.

    ``spec`` is the text, ``position`` where parsing failed (or None), and
    ``errno`` the error systemd's parser would return (EINVAL, ERANGE...).
    """

    spec: str | None = None
    position: int | None = None
    errno: int | None = None

    def __init__(
        self,
        message: str = "",
        *,
        spec: str | None = None,
        position: int | None = None,
        errno: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.spec = spec
        self.position = position
        self.errno = errno


class InvalidCronExpressionError(SysdError, ValueError):
    """A cron expression could not be translated."""


class InvalidPropertyError(SysdError, ValueError):
    """A ``Name=value`` unit property assignment is not valid.

    ``property_name`` and ``value`` are the assignment's two sides and
    ``unit_type`` the type it was parsed for (None where the input had no such part).
    """

    property_name: str | None = None
    value: str | None = None
    unit_type: str | None = None

    def __init__(
        self,
        message: str = "",
        *,
        property_name: str | None = None,
        value: str | None = None,
        unit_type: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.property_name = property_name
        self.value = value
        self.unit_type = unit_type


class UnitFileError(SysdError, OSError):
    """Reading or writing a unit file or drop-in failed (permission, disk full, read-only...).

    ``path`` is the file or directory concerned; ``errno`` and ``strerror`` are
    the operating system's (None when the error did not come from it).
    """

    path: str | None

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        errno: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.filename = path
        self.errno = errno
        self.strerror = _os.strerror(errno) if errno is not None else None

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"path": self.path, "errno": self.errno, "hint": self.__dict__.get("hint")}
        return (_rebuild, (type(self), self.text, kwargs))


class UnitFilePermissionError(UnitFileError, PermissionError):
    """The unit directory or file may not be written (or read) by this process."""

    hint = "the system manager's unit files need root; for your own units use connect(user=True)"


class UnitFileNotFoundError(UnitFileError, FileNotFoundError):
    """A file is missing, or a unit has no files at all (``No files found for NAME.``)."""


class InvalidUnitFileError(SysdError, ValueError):
    """A unit file or drop-in cannot be written as asked: bad drop-in name or text, or no
    local unit directory for this connection (a remote manager)."""


class InvalidNotifyError(SysdError, ValueError):
    """A notification that cannot be sent as asked, refused before anything is sent.

    A newline or NUL in a value (``STATUS=`` is one line), an ``FDNAME=`` systemd would
    ignore, a negative file descriptor, ``mainpid <= 0``, a message longer than systemd
    reads, contradictory fields.  ``field`` names the offending field (``"STATUS"``...)
    when there is one.
    """

    field: str | None

    def __init__(self, message: str = "", *, field: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.field = field


class InvalidDaemonEnvironmentError(SysdError, ValueError):
    """``$LISTEN_PID``, ``$LISTEN_FDS``, ``$LISTEN_FDNAMES``, ``$WATCHDOG_USEC`` or
    ``$WATCHDOG_PID`` is malformed, or names a file descriptor that is not open.

    ``variable`` names the variable.  systemd never sets them so; something else did.
    """

    variable: str | None

    def __init__(
        self, message: str = "", *, variable: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.variable = variable


class InvalidId128Error(SysdError, ValueError):
    """Text (or bytes) that is not a 128-bit ID: systemd takes 32 hex digits or the UUID
    form ``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx``, nothing else.  ``value`` is what was given.
    """

    value: str | None = None

    def __init__(self, message: str = "", *, value: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.value = value


class Id128Error(SysdError, OSError):
    """An ID could not be read: ``/etc/machine-id`` missing, empty (``ENOMEDIUM``),
    ``uninitialized`` (``ENOPKG``) or malformed (``EINVAL``); the boot ID unreadable; an
    invocation ID key in the keyring that systemd would not trust (``EPERM``).

    ``errno``/``strerror`` are the reason as systemd's ``sd_id128_get_*()`` return it,
    ``path`` the file when there is one.
    """

    path: str | None

    def __init__(
        self,
        message: str = "",
        *,
        errno: int | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.errno = errno
        self.strerror = _os.strerror(errno) if errno is not None else None
        self.path = path
        self.filename = path

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"errno": self.errno, "path": self.path, "hint": self.__dict__.get("hint")}
        return (_rebuild, (type(self), self.text, kwargs))


class InvalidLoginCallError(SysdError, ValueError):
    """Arguments logind would refuse (an unknown inhibitor ``what=`` or ``mode=``, an
    empty ``who=``...), refused before anything is sent.  ``field`` names the argument."""

    field: str | None = None

    def __init__(self, message: str = "", *, field: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.field = field


class InvalidHostError(SysdError, ValueError):
    """A host spec that is not ``[user@]host[:port]`` (or would reach ssh as an option or
    a shell word): checked before anything runs.  ``.spec`` is the text given."""

    spec: str | None = None
    hint = "write hosts as [user@]host[:port], e.g. admin@web1:2222"

    def __init__(self, message: str = "", *, spec: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        if spec is not None:
            self.spec = spec


class InvalidMachineCallError(SysdError, ValueError):
    """Arguments machined would refuse (an invalid machine or image name, a relative path,
    an unknown ``whom=``...), or a run option a container cannot honour, refused before
    anything is sent.  ``field`` names the argument."""

    field: str | None = None

    def __init__(self, message: str = "", *, field: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.field = field


class NotifyError(SysdError, OSError):
    """The notification datagram could not be sent to ``$NOTIFY_SOCKET``.

    ``address`` is the socket (``$NOTIFY_SOCKET`` as given); ``errno`` and ``strerror``
    are the operating system's (``EINVAL`` for a ``$NOTIFY_SOCKET`` that is neither an
    absolute path nor an ``@abstract`` name).
    """

    address: str | None

    def __init__(
        self,
        message: str = "",
        *,
        address: str | None = None,
        errno: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.address = address
        self.filename = address
        self.errno = errno
        self.strerror = _os.strerror(errno) if errno is not None else None

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"address": self.address, "errno": self.errno, "hint": self.__dict__.get("hint")}
        return (_rebuild, (type(self), self.text, kwargs))


class NotifyTimeoutError(NotifyError, TimeoutError):
    """The manager did not take the datagram (its queue stayed full), or did not close the
    barrier's pipe, before the deadline."""

    hint = "the service manager is not reading notifications; pass timeout= to wait longer"


# ------------------------------------------------------------------------------ notify


class RunFailedError(SysdError, RuntimeError):
    """``run(..., check=True)``: the command did not succeed (systemd's Result is not
    ``success``: a non-zero exit, a signal, a timeout...).

    Fields: ``unit``, ``invocation_id``, ``result`` (systemd's Service.Result),
    ``exit_code``, ``exit_signal``, ``stdout``, ``stderr`` (bytes when piped),
    ``run_result``, the whole :class:`RunResult`, and ``report``, the
    :class:`~sysd.FailureReport` (None where none was built).
    """

    report: FailureReport | None = None

    def __init__(
        self,
        message: str = "",
        *,
        run_result: RunResult | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.run_result = run_result
        self.unit = run_result.unit if run_result else None
        self.invocation_id = run_result.invocation_id if run_result else None
        self.result = run_result.result if run_result else None
        self.exit_code = run_result.exit_code if run_result else None
        self.exit_signal = run_result.exit_signal if run_result else None
        self.stdout = run_result.stdout if run_result else None
        self.stderr = run_result.stderr if run_result else None


class RunTimeoutError(SysdError, TimeoutError):
    """``run(..., timeout=)`` expired: sysd stopped the unit and gave up.

    Fields: ``unit``, ``timeout`` (seconds), and ``run_result``: what the unit
    reported after it was stopped (output captured so far in ``stdout``/``stderr``),
    or None when it could not be read.
    """

    def __init__(
        self,
        message: str = "",
        *,
        unit: str | None = None,
        timeout: float | None = None,
        run_result: RunResult | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.unit = unit
        self.timeout = timeout
        self.run_result = run_result
        self.stdout = run_result.stdout if run_result else None
        self.stderr = run_result.stderr if run_result else None


class InvalidRunOptionError(SysdError, ValueError):
    """An option of ``run()`` is not valid, or options that do not go together
    (``scope`` with ``remain_after_exit``, ``pty`` with a timer...).  Raised before
    anything is sent; ``option`` names the option."""

    def __init__(
        self, message: str = "", *, option: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.option = option


class UnknownUserError(InvalidRunOptionError, LookupError):
    """``user=``/``group=`` names an account this machine does not know."""

    def __init__(
        self,
        message: str = "",
        *,
        option: str | None = None,
        user: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, option=option, hint=hint)
        self.user = user


class JournalError(SysdError, OSError):
    """Reading or writing the journal failed.

    ``path`` is the journal file, directory or socket concerned (None when there is
    no single one); ``errno`` and ``strerror`` are the operating system's (None when
    the error did not come from it).
    """

    path: str | None

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        errno: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.filename = path
        self.errno = errno
        self.strerror = _os.strerror(errno) if errno is not None else None

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"path": self.path, "errno": self.errno, "hint": self.__dict__.get("hint")}
        return (_rebuild, (type(self), self.text, kwargs))


class JournalNotFoundError(JournalError, FileNotFoundError):
    """No journal to read (no files, missing directory) or to write to (no socket)."""

    hint = "is systemd-journald running? (`systemctl status systemd-journald`)"


class JournalPermissionError(JournalError, PermissionError):
    """Journal files exist, but this process may not read them."""

    hint = "run as root, or add the user to the systemd-journal (or adm) group"


class JournalCorruptError(JournalError):
    """A journal file is damaged or truncated.

    Every entry that could be read before the damage was yielded first; ``path`` names
    the damaged file (``paths`` all of them, when several are), ``cursor`` is the
    cursor of the last entry yielded (None when there was none).
    """

    hint = "entries past the damage are lost; `journalctl --verify` shows where"

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        errno: int | None = None,
        hint: str | None = None,
        paths: tuple[str, ...] = (),
        cursor: str | None = None,
    ) -> None:
        super().__init__(message, path=path, errno=errno, hint=hint)
        self.paths = paths or ((path,) if path else ())
        self.cursor = cursor

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "path": self.path,
            "errno": self.errno,
            "hint": self.__dict__.get("hint"),
            "paths": self.paths,
            "cursor": self.cursor,
        }
        return (_rebuild, (type(self), self.text, kwargs))


class JournalStreamError(JournalError):
    """A stream that should be ``journalctl -o export`` output is not (or ends inside an
    entry); ``offset`` is the position of the first bad byte in the stream."""

    def __init__(
        self, message: str = "", *, offset: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.offset = offset

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"offset": self.offset, "hint": self.__dict__.get("hint")}
        return (_rebuild, (type(self), self.text, kwargs))


class RemoteJournalError(JournalError):
    """journalctl run on another host (ssh, ``host=``) or for a container (``-M``,
    ``machine=``) failed: ``where`` names the host or container, ``status`` is the exit
    status (255: ssh itself failed), ``stderr`` what it said (the last lines)."""

    def __init__(
        self,
        message: str = "",
        *,
        where: str | None = None,
        status: int | None = None,
        stderr: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.where = where
        self.status = status
        self.stderr = stderr

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "where": self.where,
            "status": self.status,
            "stderr": self.stderr,
            "hint": self.__dict__.get("hint"),
        }
        return (_rebuild, (type(self), self.text, kwargs))


class LibsystemdNotFoundError(JournalError):
    """``libsystemd.so.0`` (or a function the journal needs) could not be loaded."""

    hint = "install libsystemd0 (Debian/Ubuntu) or systemd-libs (Fedora/Arch)"


class InvalidJournalFieldError(SysdError, ValueError):
    """A journal field name, match or value is not valid (checked before anything is sent).

    ``field`` is the offending field name or match text.
    """

    field: str | None = None

    def __init__(self, message: str = "", *, field: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.field = field


class InvalidTimestampError(SysdError, ValueError):
    """A timestamp such as ``"2024-05-01 10:00"``, ``"-1h"`` or ``"yesterday"`` did not parse.

    ``value`` is the text that was given.
    """

    value: str | None = None

    def __init__(self, message: str = "", *, value: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.value = value


class SandboxError(SysdError, RuntimeError):
    """A throwaway systemd could not be booted, used or torn down."""


class BootNotFinishedError(SysdError, RuntimeError):
    """The manager has not finished starting up, so there are no boot times to analyze
    (``systemd-analyze``'s "Bootup is not yet finished").

    ``finish_timestamp`` is the manager's FinishTimestampMonotonic (0), ``user`` whether
    it is a user manager."""

    hint = "try again later; `systemctl list-jobs` shows the jobs still running"

    def __init__(
        self,
        message: str = "",
        *,
        finish_timestamp: int = 0,
        user: bool = False,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.finish_timestamp = finish_timestamp
        self.user = user
        if user and hint is None:
            self.hint = "try again later; `systemctl --user list-jobs` shows the jobs still running"


# --------------------------------------------------------------------------- fleet


class InvalidHostListError(SysdError, ValueError):
    """A host list, host file, Ansible inventory, ``--limit`` pattern or rolling option
    (``batch=``, ``max_failures=``) that cannot be used; raised before any host is
    contacted.  ``source`` names the file or text it came from, when known."""

    source: str | None = None

    def __init__(
        self, message: str = "", *, source: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        if source is not None:
            self.source = source


class MissingDependencyError(SysdError, ImportError):
    """An optional dependency a feature needs is not installed (PyYAML for YAML
    inventories: ``pip install 'sysd[fleet]'``)."""


class FleetError(SysdError, RuntimeError):
    """``FleetResult.raise_for_failures()``: some hosts failed.  ``failed`` maps each
    failed host to its error (``skipped`` lists the hosts a rolling action never
    reached); the first error is also the ``__cause__``."""

    failed: dict[str, BaseException]
    skipped: list[str]

    def __init__(
        self,
        message: str = "",
        *,
        failed: dict[str, BaseException] | None = None,
        skipped: list[str] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.failed = dict(failed or {})
        self.skipped = list(skipped or [])


class RollingCheckError(SysdError, RuntimeError):
    """A rolling action's ``check(sd, host)`` returned False for a host (the host
    counts as failed)."""
