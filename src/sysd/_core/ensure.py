"""``ensure()``: desired unit state, without I/O.

What is asked (:class:`Request`, checked by :func:`request`), what a unit is
(:class:`UnitState`), and the actions that take it there (:func:`plan`), in the
order systemctl users run them: daemon-reload, unmask, enable/disable, mask, then
start/stop/restart/reload.  "Already as asked" is decided as systemd 252's
``systemctl is-active`` / ``is-enabled`` decide it (systemctl-is-active.c,
systemctl-is-enabled.c); the I/O is in ``_async/ensure.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from ..errors import InvalidEnsureError, InvalidTimespanError, UnitNotFoundError
from . import timespan

__all__ = [
    "ACTIVE",
    "ENABLED",
    "MASKED",
    "Change",
    "JobResult",
    "Request",
    "UnitState",
    "holds",
    "plan",
    "request",
    "settle_seconds",
]

# systemctl is-active exits 0 for these ActiveStates (verb_is_active(), systemd 252)
ACTIVE = frozenset({"active", "reloading"})
# ... and is-enabled for these UnitFileStates (verb_is_enabled())
ENABLED = frozenset({"enabled", "enabled-runtime", "static", "alias", "indirect", "generated"})
MASKED = frozenset({"masked", "masked-runtime"})
# what disable changes: the other "enabled" states (static, alias, indirect, generated)
# have nothing systemctl disable removes, so asking for disabled leaves them as they are
DISABLEABLE = frozenset({"enabled", "enabled-runtime"})
# running or on its way there (a start job, an auto-restart): active=False stops these
RUNNING = ACTIVE | {"activating", "refreshing"}

DAEMON_RELOAD = ("auto", True, False)


@dataclass(frozen=True, slots=True)
class UnitState:
    """A unit's states as ``ensure()`` compares them."""

    active_state: str
    sub_state: str
    unit_file_state: str
    load_state: str

    @property
    def is_active(self) -> bool:
        """As ``systemctl is-active`` exits 0."""
        return self.active_state in ACTIVE

    @property
    def is_enabled(self) -> bool:
        """As ``systemctl is-enabled`` exits 0."""
        return self.unit_file_state in ENABLED

    @property
    def is_masked(self) -> bool:
        return self.unit_file_state in MASKED or self.load_state == "masked"


class JobResult(NamedTuple):
    """One job ``ensure()`` ran: its action (start, stop, restart, reload), id, result."""

    action: str
    job_id: int
    result: str


@dataclass(frozen=True, slots=True)
class Request:
    """What ``ensure()`` was asked, checked (see :func:`request`)."""

    active: bool | None = None
    enabled: bool | None = None
    masked: bool | None = None
    restart: bool = False
    reload: bool = False
    settle: float | None = None  # seconds
    dry_run: bool = False
    daemon_reload: bool | str = "auto"


@dataclass(frozen=True, slots=True)
class Change:
    """What ``ensure()`` did to one unit (or, with ``dry_run``, would do).

    ``changed``: any action was (or would be) taken.  ``actions``: in the order
    taken (``("daemon-reload", "enable", "start")``).  ``before``/``after``: the
    unit's states around them (the same with ``dry_run``).  ``jobs``: the result of
    each job run.  ``ok``: the state asked for holds in ``after`` (False e.g. when
    a start job was ``done`` but a Condition kept the unit inactive).
    """

    unit: str
    changed: bool
    actions: tuple[str, ...]
    before: UnitState
    after: UnitState
    jobs: tuple[JobResult, ...] = ()
    dry_run: bool = False
    ok: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (``sysd ensure --json``)."""
        return {
            "unit": self.unit,
            "changed": self.changed,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "actions": list(self.actions),
            "before": _state_dict(self.before),
            "after": _state_dict(self.after),
            "jobs": [j._asdict() for j in self.jobs],
        }


def _state_dict(state: UnitState) -> dict[str, str]:
    return {
        "active_state": state.active_state,
        "sub_state": state.sub_state,
        "unit_file_state": state.unit_file_state,
        "load_state": state.load_state,
    }


def _tristate(name: str, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InvalidEnsureError(f"{name} must be True, False or None, not {value!r}")


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidEnsureError(f"{name} must be True or False, not {value!r}")


def settle_seconds(value: object) -> float | None:
    """``settle=``: a timedelta, seconds, or a systemd time span (``"5s"``, ``"1min 30s"``);
    None for no settling.  InvalidEnsureError when negative, infinite or malformed."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            span = timespan.parse(value)
        except InvalidTimespanError as exc:
            raise InvalidEnsureError(
                f"settle: {exc.text}", hint='a time span such as "5s" or "1min 30s"'
            ) from None
        if span is None:
            raise InvalidEnsureError(f"settle must be finite, not {value!r}")
        seconds = span.total_seconds()
    else:
        raise InvalidEnsureError(
            f"settle must be a timedelta, seconds or a time span such as '5s', not {value!r}"
        )
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidEnsureError(f"settle must be a finite duration >= 0, not {value!r}")
    return seconds


def request(
    active: object = None,
    enabled: object = None,
    masked: object = None,
    restart: object = False,
    reload: object = False,
    settle: object = None,
    dry_run: object = False,
    daemon_reload: object = "auto",
) -> Request:
    """The options of ``ensure()`` checked: typed InvalidEnsureError for each mistake."""
    req = Request(
        _tristate("active", active),
        _tristate("enabled", enabled),
        _tristate("masked", masked),
        _flag("restart", restart),
        _flag("reload", reload),
        settle_seconds(settle),
        _flag("dry_run", dry_run),
        daemon_reload,  # type: ignore[arg-type]  # checked below
    )
    if not any(daemon_reload is v for v in DAEMON_RELOAD):
        raise InvalidEnsureError(
            f"daemon_reload must be 'auto', True or False, not {daemon_reload!r}"
        )
    if req.masked and req.active:
        raise InvalidEnsureError("a masked unit cannot be active: active=True with masked=True")
    if req.masked and req.enabled:
        raise InvalidEnsureError("a masked unit cannot be enabled: enabled=True with masked=True")
    if req.masked and (req.restart or req.reload):
        raise InvalidEnsureError("a masked unit cannot be restarted or reloaded")
    if req.active is False and (req.restart or req.reload):
        what = "restart" if req.restart else "reload"
        raise InvalidEnsureError(f"{what}=True contradicts active=False")
    if req.restart and req.reload:
        raise InvalidEnsureError(
            "restart=True and reload=True: choose one", hint="a restart reloads the configuration"
        )
    if req.settle is not None and req.active is not True and not req.restart and not req.reload:
        raise InvalidEnsureError(
            "settle= watches a unit after it was started: it needs active=True or restart=True"
        )
    return req


def plan(req: Request, unit: str, before: UnitState, need_daemon_reload: bool) -> tuple[str, ...]:
    """The actions that take ``unit`` from ``before`` to what ``req`` asks, in order.

    Raises UnitNotFoundError (a unit that does not exist asked to be active or
    enabled) or InvalidEnsureError (a masked unit asked to run or be enabled
    without ``masked=False``) before anything is done.
    """
    wants_running = req.active is True or req.restart or req.reload
    if before.load_state == "not-found" and (wants_running or req.enabled is True):
        raise UnitNotFoundError(f"unit {unit} not found: it cannot be made active or enabled")
    masked = before.is_masked
    if masked and req.masked is not False and (wants_running or req.enabled is True):
        raise InvalidEnsureError(
            f"unit {unit} is masked: it cannot be started or enabled",
            hint="unmask it in the same call: masked=False",
        )
    actions: list[str] = []
    if req.daemon_reload is True or (req.daemon_reload == "auto" and need_daemon_reload):
        actions.append("daemon-reload")
    if req.masked is False and masked:
        actions.append("unmask")
        masked = False
    file_state = "" if before.unit_file_state in MASKED else before.unit_file_state
    if req.enabled is True and file_state not in ENABLED:
        actions.append("enable")
    elif req.enabled is False and file_state in DISABLEABLE:
        actions.append("disable")
    if req.masked is True and not masked:
        actions.append("mask")
    running = before.active_state in RUNNING
    if req.restart:
        actions.append("restart")
    elif req.reload:
        actions.append("reload" if before.is_active else "start")
    elif req.active is True and not before.is_active:
        actions.append("start")
    elif req.active is False and running:
        actions.append("stop")
    return tuple(actions)


def holds(req: Request, state: UnitState) -> bool:
    """Whether ``state`` is what ``req`` asks."""
    if (req.active is True or req.restart or req.reload) and not state.is_active:
        return False
    if req.active is False and state.active_state in RUNNING:
        return False
    if req.enabled is True and not state.is_enabled:
        return False
    if req.enabled is False and state.unit_file_state in DISABLEABLE:
        return False
    if req.masked is True and not state.is_masked:
        return False
    return not (req.masked is False and state.is_masked)
