"""systemd-run without I/O: option checks, unit names, unit properties, results.

A port of the parts of systemd 252's ``src/run/run.c`` that are a function of
their inputs:

* :func:`validate` -- every check ``parse_argv()`` makes (and a few more: names,
  environment, working directory, user names), before anything touches a bus;
* :func:`make_unit_name` / :func:`trigger_names` -- ``make_unit_name()`` and the
  naming rules of ``start_transient_trigger()``;
* :func:`service_properties`, :func:`scope_properties`, :func:`trigger_properties`
  -- ``transient_{unit,service,scope,timer}_set_properties()``, as ``(name,
  signature, value)`` triples in the order systemd-run sends them;
* :func:`run_ended` and :class:`RunResult` -- what ``run_context_update()`` reads
  once the unit is done, and :func:`systemd_run_exit_status`, the exit status
  ``systemd-run --wait`` passes on.

The I/O half (pipes, ptys, forking scopes, the bus) is :mod:`sysd._async.run`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol
from uuid import UUID

from ..errors import (
    InvalidCalendarSpecError,
    InvalidRunOptionError,
    InvalidUnitNameError,
    RunFailedError,
    RunTimeoutError,
    UnknownUserError,
)
from . import unitname
from .convert import nsec, timestamp, unset64, uuid
from .jobs import exit_status

if TYPE_CHECKING:
    from .properties import Assignment

__all__ = [
    "DEVNULL",
    "PIPE",
    "STDOUT",
    "SERVICE_TYPES",
    "SupportsFileno",
    "InvalidRunOptionError",
    "Prop",
    "Redirect",
    "RunFailedError",
    "RunResult",
    "RunSpec",
    "RunTimeoutError",
    "UnknownUserError",
    "env_name_is_valid",
    "env_value_is_valid",
    "make_unit_name",
    "run_ended",
    "run_result",
    "scope_properties",
    "service_properties",
    "systemd_run_exit_status",
    "trigger_names",
    "trigger_properties",
    "user_name_is_valid",
    "validate",
]


# ------------------------------------------------------------------------ stdio


class Redirect(enum.Enum):
    """Special values of ``stdin``/``stdout``/``stderr`` (as in :mod:`subprocess`)."""

    PIPE = "PIPE"
    """A pipe to sysd: ``input=`` bytes are written to it, output is captured."""
    DEVNULL = "DEVNULL"
    """``/dev/null`` (``StandardInput=null``/``StandardOutput=null``)."""
    STDOUT = "STDOUT"
    """For ``stderr`` only: wherever stdout goes."""

    def __repr__(self) -> str:
        return f"sysd.{self.value}"


PIPE: Final = Redirect.PIPE
DEVNULL: Final = Redirect.DEVNULL
STDOUT: Final = Redirect.STDOUT


class SupportsFileno(Protocol):
    """Anything with a ``fileno()``: files, sockets, pipes."""

    def fileno(self) -> int: ...


#: ``(D-Bus name, signature, value)`` of one unit property.
Prop = tuple[str, str, Any]

SERVICE_TYPES: Final = frozenset({"simple", "exec", "forking", "oneshot", "dbus", "notify", "idle"})
_TIMER_TRIGGERS: Final = (
    "OnActiveSec",
    "OnBootSec",
    "OnStartupSec",
    "OnUnitActiveSec",
    "OnUnitInactiveSec",
    "OnCalendar",
)
# Properties that make a relative command resolve somewhere else than on our file system.
_NO_ABSOLUTE: Final = frozenset(
    {"RootDirectory", "RootImage", "ExecSearchPath", "MountImages", "ExtensionImages"}
)
_ENV_NAME_CHARS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
)
_ARG_MAX: Final = 2097152  # sysconf(_SC_ARG_MAX) on Linux with the default stack limit

# ----------------------------------------------------------------------- checks


def env_name_is_valid(name: str) -> bool:
    """``env_name_is_valid()``: letters, digits and ``_``, not starting with a digit."""
    return (
        bool(name)
        and len(name) <= _ARG_MAX - 2
        and not name[0].isdigit()
        and all(c in _ENV_NAME_CHARS for c in name)
    )


def env_value_is_valid(value: str) -> bool:
    """``env_value_is_valid()``: no control characters other than tab and newline."""
    return all(c in "\t\n" or (ord(c) >= 32 and ord(c) != 127) for c in value)


def user_name_is_valid(name: str) -> bool:
    """``valid_user_group_name(VALID_USER_RELAX|VALID_USER_ALLOW_NUMERIC)`` of systemd 252:
    what ``User=``/``Group=`` accept (a numeric id, or a name checked superficially)."""
    if not name:
        return False
    if name.isdigit() and name.isascii():
        return int(name) < 2**32 - 1 and int(name) != 65535
    if name.startswith("-") or name in (".", ".."):
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return False
    if ":" in name or "/" in name:
        return False
    if name[0].isspace() or name[-1].isspace():
        return False
    return len(name.encode()) <= 255


def _text(value: object, option: str) -> str:
    if not isinstance(value, str):
        raise InvalidRunOptionError(
            f"{option}= must be a str, not {type(value).__name__}", option=option
        )
    if "\0" in value:
        raise InvalidRunOptionError(f"{option}= contains a NUL character", option=option)
    return value


def _unit_name(name: object, suffix: str, option: str = "name") -> str:
    """A unit name given to run(): validated, ``suffix`` added to a bare name."""
    text = _text(name, option)
    kinds = unitname.NameKind.PLAIN | unitname.NameKind.INSTANCE
    if unitname.is_valid(text, kinds):
        if unitname.suffix(text) != suffix:
            raise InvalidUnitNameError(
                f"{option}={text!r}: expected a {suffix} unit here",
                hint=f"e.g. {unitname.change_suffix(text, suffix)!r}",
            )
        return text
    if unitname.is_valid(text, unitname.NameKind.TEMPLATE):
        raise InvalidUnitNameError(
            f"{option}={text!r} is a template: give an instance name",
            hint=f"e.g. {unitname.replace_instance(text, 'INSTANCE')!r}",
        )
    if unitname.is_valid(text + suffix, kinds):
        return text + suffix
    try:
        suggestion: str | None = unitname.mangle(text, suffix)
    except InvalidUnitNameError:
        suggestion = None
    raise InvalidUnitNameError(
        f"invalid unit name {option}={text!r}",
        hint=f"the escaped form is {suggestion!r} (sysd.unitname.mangle)" if suggestion else None,
    )


def _span(value: object, option: str) -> str | int | timedelta:
    """A time span option: systemd's text, seconds (int/float) or a timedelta."""
    if isinstance(value, bool):
        raise InvalidRunOptionError(f"{option}= must be a time span, not a bool", option=option)
    if isinstance(value, str | int | timedelta):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value < 0:
            raise InvalidRunOptionError(
                f"{option}={value!r}: expected a time span that is not negative", option=option
            )
        return timedelta(seconds=value)
    raise InvalidRunOptionError(
        f"{option}= must be a time span (str such as '5min', seconds, or a timedelta), "
        f"not {type(value).__name__}",
        option=option,
    )


def _properties(unit_type: str, value: object, option: str) -> tuple[Assignment, ...]:
    from .properties import parse  # the language's tables load on first use

    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]  # one "K=V" string
    if not isinstance(value, Mapping | Iterable):
        raise InvalidRunOptionError(
            f"{option}= must be a mapping or 'Name=value' strings, not {type(value).__name__}",
            option=option,
        )
    return tuple(parse(unit_type, value))


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What :func:`validate` made of run()'s options (all checked)."""

    cmd: tuple[str, ...]
    mode: str  # "service" or "scope"
    trigger: str | None = None  # "timer", "socket", "path" or None
    name: str | None = None  # the service/scope name asked for (None: generate one)
    trigger_name: str | None = None
    description: str | None = None
    slice: str | None = None
    user: str | None = None
    group: str | None = None
    nice: int | None = None
    cwd: str | None = None
    env: tuple[str, ...] = ()
    service_type: str | None = None
    properties: tuple[Assignment, ...] = ()
    trigger_properties: tuple[Assignment, ...] = ()
    remain_after_exit: bool = False
    collect: bool = True
    send_sighup: bool = False
    resolve_executable: bool = True  # make cmd[0] absolute from our PATH (systemd-run)
    dynamic_user: bool = False
    timeout: float | None = None
    calendar: tuple[str, ...] = field(default=())

    @property
    def unit_type(self) -> str:
        return self.mode


def validate(
    cmd: object,
    *,
    name: object = None,
    description: object = None,
    slice: object = None,
    scope: bool = False,
    user: object = None,
    group: object = None,
    nice: object = None,
    cwd: object = None,
    env: object = None,
    service_type: object = None,
    properties: object = None,
    remain_after_exit: bool = False,
    collect: bool = True,
    send_sighup: bool = False,
    stdio: bool = False,
    pty: bool = False,
    wait: bool = False,
    timeout: object = None,
    on_active: object = None,
    on_boot: object = None,
    on_startup: object = None,
    on_unit_active: object = None,
    on_unit_inactive: object = None,
    on_calendar: object = None,
    timer_properties: object = None,
    socket_properties: object = None,
    path_properties: object = None,
) -> RunSpec:
    """Check run()'s options as systemd-run's ``parse_argv()`` does; raise before any I/O.

    ``stdio`` says whether stdin/stdout/stderr are redirected to something other
    than systemd's defaults (sysd passes them as fds, as ``--pipe`` does).
    Raises :class:`InvalidRunOptionError` (and :class:`~sysd.InvalidPropertyError`,
    :class:`~sysd.InvalidUnitNameError`, :class:`~sysd.InvalidTimespanError`,
    :class:`~sysd.InvalidCalendarSpecError` for those values).
    """
    # -- the command
    if isinstance(cmd, str | bytes) or not isinstance(cmd, Sequence):
        raise InvalidRunOptionError(
            "cmd must be a list of str (the argv), not "
            + (f"a single {type(cmd).__name__}" if isinstance(cmd, str | bytes) else repr(cmd)),
            option="cmd",
            hint="e.g. ['/bin/sh', '-c', 'echo hi']",
        )
    argv = tuple(_text(a, "cmd") for a in cmd)
    if not argv:
        raise InvalidRunOptionError(
            "cmd is empty: a command line to execute is required", option="cmd"
        )
    if not argv[0]:
        raise InvalidRunOptionError("cmd[0] is empty", option="cmd")

    from .calendar import CalendarSpec
    from .properties import parse

    # -- the trigger, if any
    timer: list[tuple[str, object]] = []
    for option, prop, value in (
        ("on_active", "OnActiveSec", on_active),
        ("on_boot", "OnBootSec", on_boot),
        ("on_startup", "OnStartupSec", on_startup),
        ("on_unit_active", "OnUnitActiveSec", on_unit_active),
        ("on_unit_inactive", "OnUnitInactiveSec", on_unit_inactive),
    ):
        if value is not None:
            timer.append((prop, _span(value, option)))
    calendar: list[str] = []
    if on_calendar is not None:
        specs = [on_calendar] if isinstance(on_calendar, str) else on_calendar
        if not isinstance(specs, Iterable):
            raise InvalidRunOptionError(
                "on_calendar= must be a calendar spec (str) or a list of them",
                option="on_calendar",
            )
        for spec in specs:
            text = _text(spec, "on_calendar")
            CalendarSpec.parse(text)  # InvalidCalendarSpecError, as systemd-run says it
            calendar.append(text)
        if not calendar:
            raise InvalidCalendarSpecError("on_calendar= is an empty list", spec="")
        timer.extend(("OnCalendar", c) for c in calendar)
    timer_assignments = tuple(a for k, v in timer for a in parse("timer", {k: v}))
    extra_timer = _properties("timer", timer_properties, "timer_properties")
    with_timer = bool(timer) or any(
        a.name in ("TimersMonotonic", "TimersCalendar", "OnClockChange", "OnTimezoneChange")
        for a in extra_timer
    )
    if extra_timer and not with_timer:
        raise InvalidRunOptionError(
            "timer_properties= has no effect without a timer option "
            "(on_active=, on_calendar=, ... or an On*= timer property)",
            option="timer_properties",
        )
    socket = _properties("socket", socket_properties, "socket_properties")
    path = _properties("path", path_properties, "path_properties")
    if socket_properties is not None and not socket:
        raise InvalidRunOptionError("socket_properties= is empty", option="socket_properties")
    if path_properties is not None and not path:
        raise InvalidRunOptionError("path_properties= is empty", option="path_properties")
    triggers = [t for t, on in (("path", path), ("socket", socket), ("timer", with_timer)) if on]
    if len(triggers) > 1:
        raise InvalidRunOptionError(
            "only one trigger (path, socket or timer) unit can be created",
            option=f"{triggers[0]}_properties",
        )
    trigger = triggers[0] if triggers else None
    trigger_props: tuple[Assignment, ...] = ()
    if trigger == "timer":
        trigger_props = timer_assignments + extra_timer
    elif trigger == "socket":
        trigger_props = socket
    elif trigger == "path":
        trigger_props = path

    # -- combinations systemd-run refuses
    if scope and (remain_after_exit or service_type is not None):
        raise InvalidRunOptionError(
            "remain_after_exit= and service_type= are not supported with scope=True",
            option="remain_after_exit" if remain_after_exit else "service_type",
        )
    if pty and (trigger or scope):
        raise InvalidRunOptionError(
            f"pty=True is not compatible with {'a ' + trigger if trigger else 'scope=True'}",
            option="pty",
        )
    if stdio and trigger:
        raise InvalidRunOptionError(
            f"stdin/stdout/stderr redirection is not compatible with a {trigger} trigger "
            "(the service runs later, when sysd is not there)",
            option="stdout",
        )
    if scope and trigger:
        raise InvalidRunOptionError(
            "path, socket or timer options are not supported with scope=True", option="scope"
        )
    if wait and trigger:
        raise InvalidRunOptionError(
            "wait=True may not be combined with path, socket or timer options "
            "(use the returned handle's wait() for the triggered run)",
            option="wait",
        )

    mode = "scope" if scope else "service"
    suffix = f".{mode}"
    unit_name = trigger_name = None
    if name is not None:
        if trigger:
            unit_name, trigger_name = trigger_names(_text(name, "name"), f".{trigger}")
        else:
            unit_name = _unit_name(name, suffix)

    if description is not None:
        _text(description, "description")
    slice_name = None
    if slice is not None:
        slice_name = _unit_name(slice, ".slice", "slice")
        if not unitname.slice_is_valid(slice_name):
            raise InvalidUnitNameError(f"invalid slice name slice={slice!r}")

    for option, value in (("user", user), ("group", group)):
        if value is not None and not user_name_is_valid(_text(value, option)):
            raise InvalidRunOptionError(f"invalid {option} name {value!r}", option=option)
    nice_value: int | None = None
    if nice is not None:
        if isinstance(nice, bool) or not isinstance(nice, int) or not -20 <= nice <= 19:
            raise InvalidRunOptionError(
                f"nice={nice!r}: expected an int between -20 and 19", option="nice"
            )
        nice_value = nice
    cwd_text = None
    if cwd is not None:
        if hasattr(cwd, "__fspath__"):
            cwd = str(cwd)
        cwd_text = _text(cwd, "cwd")
        if cwd_text != "~" and not cwd_text.startswith("/"):
            raise InvalidRunOptionError(
                f"cwd={cwd_text!r} is relative: the manager would not know relative to what",
                option="cwd",
                hint="give an absolute path (os.path.abspath), or '~' for the user's home",
            )
    env_list: list[str] = []
    if env is not None:
        if not isinstance(env, Mapping):
            raise InvalidRunOptionError(
                f"env= must be a mapping of names to values, not {type(env).__name__}",
                option="env",
            )
        for key, val in env.items():
            if not isinstance(key, str) or not env_name_is_valid(key):
                raise InvalidRunOptionError(
                    f"invalid environment variable name {key!r}",
                    option="env",
                    hint="letters, digits and _, not starting with a digit",
                )
            text = _text(val, f"env[{key!r}]")
            if not env_value_is_valid(text):
                raise InvalidRunOptionError(
                    f"invalid value of environment variable {key}: control characters",
                    option="env",
                )
            env_list.append(f"{key}={text}")
    stype = None
    if service_type is not None:
        stype = _text(service_type, "service_type")
        if stype not in SERVICE_TYPES:
            raise InvalidRunOptionError(
                f"service_type={stype!r}: expected one of {', '.join(sorted(SERVICE_TYPES))}",
                option="service_type",
            )
    props = _properties(mode, properties, "properties")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not timeout > 0
        or not math.isfinite(timeout)
    ):
        raise InvalidRunOptionError(f"timeout={timeout!r}: expected seconds > 0", option="timeout")
    if timeout is not None and not wait:
        raise InvalidRunOptionError(
            "timeout= needs wait=True (with wait=False, pass it to the handle's wait())",
            option="timeout",
        )
    resolve = not any(a.name in _NO_ABSOLUTE for a in props)
    dynamic = any(a.name == "DynamicUser" and a.value is True for a in props)
    return RunSpec(
        cmd=argv,
        mode=mode,
        trigger=trigger,
        name=unit_name,
        trigger_name=trigger_name,
        description=description if isinstance(description, str) else None,
        slice=slice_name,
        user=user if isinstance(user, str) else None,
        group=group if isinstance(group, str) else None,
        nice=nice_value,
        cwd=cwd_text,
        env=tuple(env_list),
        service_type=stype,
        properties=props,
        trigger_properties=trigger_props,
        remain_after_exit=bool(remain_after_exit),
        collect=bool(collect),
        send_sighup=bool(send_sighup),
        resolve_executable=resolve,
        dynamic_user=dynamic,
        timeout=float(timeout) if timeout is not None else None,
        calendar=tuple(calendar),
    )


def with_command(spec: RunSpec, cmd: Sequence[str]) -> RunSpec:
    """The same spec with argv[0] replaced (made absolute)."""
    return replace(spec, cmd=tuple(cmd))


# ------------------------------------------------------------------------- names


def make_unit_name(
    unique_name: str | None, unit_type: str, seq: int = 0, random_hex: str = ""
) -> str:
    """systemd-run's ``make_unit_name()``: ``run-u<N>.<type>`` from the bus unique name
    ``:1.<N>``; ``run-r<128-bit random hex>.<type>`` without one (the private socket).

    systemd-run starts one unit per connection; sysd may start many, so the
    ``seq``-th (from 0) name on one connection gets ``-<seq>`` appended after the first.
    """
    if unique_name is None:
        if len(random_hex) != 32:
            raise ValueError("random_hex must be 32 hex digits")
        return f"run-r{random_hex}.{unit_type}"
    if unique_name.startswith(":1."):
        ident = unique_name[3:]
    elif unique_name.startswith(":"):
        ident = unique_name[1:]
    else:
        raise ValueError(f"unique name {unique_name!r} has an unexpected format")
    ident = unitname.escape(ident) if not unitname.prefix_is_valid(f"run-u{ident}") else ident
    return f"run-u{ident}{'-' + str(seq) if seq else ''}.{unit_type}"


def trigger_names(name: str, suffix: str) -> tuple[str, str]:
    """(service, trigger) names for ``name`` (``start_transient_trigger()``):
    ``foo.service`` -> ``foo.timer``; ``foo.timer`` -> ``foo.service``; a bare ``foo``
    gets both suffixes."""
    kinds = unitname.NameKind.PLAIN | unitname.NameKind.INSTANCE
    if unitname.is_valid(name, kinds):
        own = unitname.suffix(name)
        if own == ".service":
            return name, unitname.change_suffix(name, suffix)
        if own == suffix:
            return unitname.change_suffix(name, ".service"), name
        raise InvalidUnitNameError(
            f"name={name!r}: expected a .service or {suffix} unit (or a bare name)"
        )
    return _unit_name(name, ".service"), _unit_name(name, suffix)


# -------------------------------------------------------------------- properties


def _unit_props(description: str | None, collect: bool, add_ref: bool) -> list[Prop]:
    """``transient_unit_set_properties()`` before the parsed assignments."""
    out: list[Prop] = [("Description", "s", description or "")]
    if collect:
        out.append(("CollectMode", "s", "inactive-or-failed"))
    if add_ref:
        out.append(("AddRef", "b", True))
    return out


def _assigned(assignments: Iterable[Assignment]) -> list[Prop]:
    return [(a.name, a.signature, a.value) for a in assignments]


def _kill_cgroup(spec: RunSpec) -> list[Prop]:
    out: list[Prop] = []
    if spec.send_sighup:
        out.append(("SendSIGHUP", "b", True))
    if spec.slice:
        out.append(("Slice", "s", spec.slice))
    return out


def description(spec: RunSpec) -> str:
    """The Description= systemd-run gives: the command line, else the unit name."""
    if spec.description is not None:
        return spec.description
    text = " ".join(spec.cmd)
    return text or (spec.name or "")


def service_properties(
    spec: RunSpec,
    *,
    add_ref: bool,
    stdio: Sequence[Prop] = (),
    extra_env: Sequence[str] = (),
) -> list[Prop]:
    """``transient_service_set_properties()``: the service's properties in order.

    ``stdio`` are the ``Standard*FileDescriptor``/``Standard*``/``TTYPath``
    entries sysd decided on; ``extra_env`` what goes before the user's environment
    (``TERM=`` when the service gets our terminal).
    """
    out = _unit_props(description(spec), spec.collect, add_ref)
    out += _assigned(spec.properties)
    out += _kill_cgroup(spec)
    if spec.remain_after_exit:
        out.append(("RemainAfterExit", "b", True))
    if spec.service_type:
        out.append(("Type", "s", spec.service_type))
    if spec.user is not None:
        out.append(("User", "s", spec.user))
    if spec.group is not None:
        out.append(("Group", "s", spec.group))
    if spec.nice is not None:
        out.append(("Nice", "i", spec.nice))
    if spec.cwd is not None:
        out.append(("WorkingDirectory", "s", spec.cwd))
    out += stdio
    if extra_env:
        out.append(("Environment", "as", list(extra_env)))
    if spec.env:
        out.append(("Environment", "as", list(spec.env)))
    out.append(("ExecStart", "a(sasb)", [(spec.cmd[0], list(spec.cmd), False)]))
    return out


def scope_properties(spec: RunSpec, *, add_ref: bool, pid: int) -> list[Prop]:
    """``transient_scope_set_properties()``: the scope holds ``pid`` (the forked child)."""
    out = _unit_props(description(spec), spec.collect, add_ref)
    out += _assigned(spec.properties)
    out += _kill_cgroup(spec)
    out.append(("PIDs", "au", [pid]))
    return out


def trigger_properties(spec: RunSpec, *, add_ref: bool) -> list[Prop]:
    """The timer, socket or path unit (``transient_timer_set_properties()`` and the
    ``transient_unit_set_properties()`` calls of ``start_transient_trigger()``)."""
    out = _unit_props(description(spec), spec.collect, add_ref)
    out += _assigned(spec.trigger_properties)
    if spec.trigger == "timer":
        out.append(("RemainAfterElapse", "b", False))  # clean up transient timers
    return out


# ----------------------------------------------------------------------- results


def run_ended(props: Mapping[str, Any], remain_after_exit: bool = False) -> bool:
    """Whether the unit is done (``run_context_check_done()``): inactive or failed with
    no job pending -- or, with ``RemainAfterExit=``, active with the main process gone."""
    job = props.get("Job")
    if job is not None and job[0] != 0:
        return False
    state = props.get("ActiveState")
    if state in ("inactive", "failed"):
        # the unit must have left "inactive" for this invocation (not the state before start)
        return bool(props.get("InactiveExitTimestampMonotonic") or state == "failed")
    return bool(remain_after_exit and state == "active" and props.get("SubState") == "exited")


def _signal_name(sig: int) -> str:
    import signal as _signal

    try:
        return _signal.Signals(sig).name
    except ValueError:
        return str(sig)


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a unit started by ``run()`` ended: what ``systemd-run --wait`` reports, typed.

    ``exit_code`` is the main process's exit status when it exited, ``exit_signal``
    the signal that killed it (None otherwise); ``result`` is systemd's own verdict
    (Service.Result: ``success``, ``exit-code``, ``signal``, ``core-dump``,
    ``timeout``, ``oom-kill``, ...).  ``stdout``/``stderr`` are bytes when piped.
    Accounting fields are None where systemd does not report them (or no longer
    can: the unit was collected before sysd could read them).
    """

    unit: str
    invocation_id: UUID | None = None
    exit_code: int | None = None
    exit_signal: int | None = None
    result: str | None = None
    stdout: bytes | None = field(default=None, repr=False)
    stderr: bytes | None = field(default=None, repr=False)
    started_at: datetime | None = None
    exited_at: datetime | None = None
    main_pid: int | None = None
    cpu_usage: timedelta | None = None
    memory_peak: int | None = None
    io_read_bytes: int | None = None
    io_write_bytes: int | None = None
    ip_ingress_bytes: int | None = None
    ip_egress_bytes: int | None = None

    @property
    def ok(self) -> bool:
        """True when systemd judged the run a success (``result == "success"``)."""
        return self.result == "success"

    @property
    def returncode(self) -> int | None:
        """As :attr:`subprocess.CompletedProcess.returncode`: the exit code, or
        ``-signal``; None when the process never ran."""
        if self.exit_signal is not None:
            return -self.exit_signal
        return self.exit_code

    @property
    def runtime(self) -> timedelta | None:
        """How long the main process ran (None when not known)."""
        if self.started_at is None or self.exited_at is None:
            return None
        return self.exited_at - self.started_at

    @property
    def exit_status(self) -> int:
        """What ``systemd-run --wait`` exits with for this result
        (:func:`systemd_run_exit_status`)."""
        return systemd_run_exit_status(self.result, self.exit_code, self.exit_signal)

    def describe(self) -> str:
        """One line, as systemd-run words it: ``exited with status 3`` ..."""
        if self.exit_signal is not None:
            how = f"killed by signal {self.exit_signal} ({_signal_name(self.exit_signal)})"
        elif self.exit_code is not None:
            how = f"exited with status {self.exit_code}"
        else:
            how = "did not run"
        return f"{self.unit} {how}, result {self.result or 'unknown'}"

    def check_returncode(self) -> None:
        """Raise :class:`RunFailedError` unless the run succeeded."""
        if not self.ok:
            raise RunFailedError(
                f"{self.describe()}",
                run_result=self,
                hint=f"see `sysd status {self.unit}` and the unit's journal",
            )


def systemd_run_exit_status(
    result: str | None, exit_code: int | None, exit_signal: int | None
) -> int:
    """The exit status of ``systemd-run --wait``: 0 for ``success`` (SuccessExitStatus=
    honoured), the exit code for ``exit-code``, 255 (EXIT_EXCEPTION) for ``signal``, 1
    for anything else."""
    if result == "success":
        return 0
    if result == "exit-code" and exit_code:
        return exit_code
    if result == "signal":
        return 255
    return 1


def run_result(
    unit: str,
    props: Mapping[str, Any],
    *,
    stdout: bytes | None = None,
    stderr: bytes | None = None,
) -> RunResult:
    """The :class:`RunResult` of a service from its properties (Unit and Service
    interface, as seen in PropertiesChanged and read at the end)."""
    code, status = props.get("ExecMainCode"), props.get("ExecMainStatus")
    exit_code, exit_signal = exit_status(code or None, status if code else None)

    def ts(key: str) -> datetime | None:
        value = props.get(key)
        return timestamp(value) if isinstance(value, int) else None

    def count(key: str) -> int | None:
        value = props.get(key)
        return unset64(value) if isinstance(value, int) else None

    cpu = props.get("CPUUsageNSec")
    inv = props.get("InvocationID")
    main_pid = props.get("ExecMainPID")
    return RunResult(
        unit=unit,
        invocation_id=uuid(bytes(inv)) if isinstance(inv, bytes | bytearray | list) else None,
        exit_code=exit_code,
        exit_signal=exit_signal,
        result=props.get("Result"),
        stdout=stdout,
        stderr=stderr,
        started_at=ts("ExecMainStartTimestamp"),
        exited_at=ts("ExecMainExitTimestamp"),
        main_pid=main_pid or None,
        cpu_usage=nsec(cpu) if isinstance(cpu, int) else None,
        memory_peak=count("MemoryPeak"),
        io_read_bytes=count("IOReadBytes"),
        io_write_bytes=count("IOWriteBytes"),
        ip_ingress_bytes=count("IPIngressBytes"),
        ip_egress_bytes=count("IPEgressBytes"),
    )


def scope_result(
    unit: str,
    props: Mapping[str, Any],
    returncode: int,
    *,
    pid: int,
    started_at: datetime | None,
    exited_at: datetime | None,
    stdout: bytes | None = None,
    stderr: bytes | None = None,
) -> RunResult:
    """The :class:`RunResult` of a scope run: the exit status is our child's (sysd is its
    parent), ``result`` the scope's own Result when it reports a failure (``timeout``,
    ``oom-kill``), else what a service would report for that exit status."""
    exit_code = returncode if returncode >= 0 else None
    exit_signal = -returncode if returncode < 0 else None
    scope_says = props.get("Result")
    if scope_says not in (None, "success"):
        result = str(scope_says)
    elif exit_signal is not None:
        result = "signal"
    elif exit_code:
        result = "exit-code"
    else:
        result = "success"
    base = run_result(unit, props)
    return replace(
        base,
        exit_code=exit_code,
        exit_signal=exit_signal,
        result=result,
        stdout=stdout,
        stderr=stderr,
        started_at=started_at,
        exited_at=exited_at,
        main_pid=pid,
    )
