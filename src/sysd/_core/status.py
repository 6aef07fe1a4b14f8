"""Immutable snapshots of systemd objects, built from ``GetAll`` results (pure; no I/O).

A snapshot keeps the raw ``GetAll`` dicts exactly as they came and converts a property only
when it is read (then caches it), so building one costs two attribute stores however many
properties systemd sent::

    unit = sd.get_all(path, "org.freedesktop.systemd1.Unit")
    svc = sd.get_all(path, "org.freedesktop.systemd1.Service")
    st = ServiceStatus.from_dbus(unit, svc)          # or unit_status(unit, svc)

    st.active_state                  # 'active' (enumerations stay str, unknown ones too)
    st.main_pid                      # 1234; None when there is no main process
    st.exec_main_start_timestamp     # datetime(..., tzinfo=UTC); None when never started
    st.cpu_usage                     # timedelta; None when CPU accounting is off
    st.memory_max                    # None: no limit ("infinity")
    st.raw("ExecMainStatus")         # D-Bus name -> the value as sent; None when absent
    st["CPUUsageNSec"]               # the same
    st.dbus                          # every raw property, read-only, by D-Bus name
    st.as_dict()                     # snake_case -> converted values
    st.as_json_dict(), st.to_json()  # ... -> JSON-ready values; the same as JSON text

Field names and the conversion of every property are generated from systemd's introspection
(``sysd._core.status_generated``, rules in ``tools/gen_schema.py`` and
:mod:`sysd._core.convert`).  A property that this unit type or this systemd version lacks reads
as ``None`` (``""`` for the always-present ``id``, ``description``, ``load_state``,
``active_state``, ``sub_state``), never a KeyError.  Snapshots compare equal when their class
and raw values are equal, and pickle (the raw dicts travel, conversions are redone lazily).

The snapshot owns the dicts given to :meth:`Snapshot.from_dbus` and never changes them; the
caller must not change them either.

Classes: :class:`UnitStatus` and one subclass per unit type (:class:`ServiceStatus`,
:class:`SocketStatus`, ...) combining ``org.freedesktop.systemd1.Unit`` with the type's own
interface; :class:`ManagerStatus`; :class:`JobStatus`.  :func:`status_class_for` picks the class
from a unit name; its ``INTERFACES`` are the interfaces to ``GetAll`` (one for a target: the
``Target`` interface has no properties).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self

from .convert import MISSING, Field, to_json
from .status_generated import (
    AutomountFields,
    DeviceFields,
    JobFields,
    ManagerFields,
    MountFields,
    PathFields,
    ScopeFields,
    ServiceFields,
    SliceFields,
    SocketFields,
    SwapFields,
    TargetFields,
    TimerFields,
    UnitFields,
)

__all__ = [
    "AutomountStatus",
    "DeviceStatus",
    "JobStatus",
    "ManagerStatus",
    "MountStatus",
    "PathStatus",
    "ScopeStatus",
    "ServiceStatus",
    "SliceStatus",
    "SocketStatus",
    "Snapshot",
    "SwapStatus",
    "TargetStatus",
    "TimerStatus",
    "UnitStatus",
    "status_class_for",
    "to_json",
    "unit_status",
]

# ActiveState values systemctl is-active counts as active ("refreshing": systemd >= 256)
_ACTIVE_STATES: Final = frozenset({"active", "reloading", "refreshing"})


class Snapshot:
    """The raw properties of one object plus typed, lazily converted fields.

    ``FIELDS`` maps every snake_case field of the class to its :class:`~sysd._core.convert.Field`
    (``.dbus_name``, ``.signature``, ``.kind``), in systemd's order; ``INTERFACES`` names the
    D-Bus interfaces whose ``GetAll`` results the snapshot is made of.
    """

    FIELDS: ClassVar[Mapping[str, Field[Any]]] = MappingProxyType({})
    INTERFACES: ClassVar[tuple[str, ...]] = ()
    __iter__: ClassVar[None] = None  # [] is a lookup by D-Bus name, not a sequence
    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # raw values hold lists

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, Field[Any]] = {}
        interfaces: list[str] = []
        for klass in reversed(cls.__mro__):
            own = [(n, v) for n, v in vars(klass).items() if isinstance(v, Field)]
            fields.update(own)
            if own and klass.__dict__.get("INTERFACE") not in interfaces:
                interfaces.append(klass.__dict__["INTERFACE"])
        cls.FIELDS = MappingProxyType(fields)
        cls.INTERFACES = tuple(interfaces)

    @classmethod
    def from_dbus(
        cls, props: Mapping[str, Any], type_props: Mapping[str, Any] | None = None
    ) -> Self:
        """A snapshot of ``GetAll`` results: the Unit/Manager/Job interface's, then (units)
        the type interface's.  No conversion happens here."""
        self = object.__new__(cls)
        state = self.__dict__
        state["_props"] = props
        state["_type_props"] = type_props if type_props is not None else {}
        return self

    # ------------------------------------------------------------------ raw access

    def raw(self, name: str) -> Any:
        """The value of D-Bus property ``name`` as systemd sent it; None when absent."""
        state = self.__dict__
        value = state["_type_props"].get(name, MISSING)
        if value is MISSING:
            return state["_props"].get(name)
        return value

    __getitem__ = raw

    def __contains__(self, name: object) -> bool:
        state = self.__dict__
        return name in state["_type_props"] or name in state["_props"]

    @property
    def dbus(self) -> Mapping[str, Any]:
        """Every raw property by D-Bus name (read-only; type interface over Unit on a clash)."""
        state = self.__dict__
        merged = state.get("_dbus")
        if merged is None:
            merged = state["_dbus"] = MappingProxyType({**state["_props"], **state["_type_props"]})
        return merged

    # ------------------------------------------------------------------ converted access

    def as_dict(self) -> dict[str, Any]:
        """Every field of the class, snake_case -> converted value (None when absent)."""
        return {name: getattr(self, name) for name in self.FIELDS}

    def as_json_dict(self) -> dict[str, Any]:
        """:meth:`as_dict` with JSON-ready values (:func:`sysd._core.convert.to_json`):
        ISO 8601 strings for times, seconds for durations, None for unset."""
        return {name: to_json(value) for name, value in self.as_dict().items()}

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`as_json_dict` as JSON text; ``kwargs`` go to :func:`json.dumps`
        (``indent=2``...)."""
        import json

        return json.dumps(self.as_json_dict(), **kwargs)

    # ------------------------------------------------------------------ value semantics

    if not TYPE_CHECKING:  # hidden from type checkers, which then flag assignments too

        def __setattr__(self, name: str, value: Any) -> None:
            raise AttributeError(f"{type(self).__name__} is immutable")

        def __delattr__(self, name: str) -> None:
            raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = self.__dict__, other.__dict__
        return bool(
            mine["_props"] == theirs["_props"] and mine["_type_props"] == theirs["_type_props"]
        )

    def __reduce__(self) -> tuple[Any, ...]:
        state = self.__dict__
        return (type(self).from_dbus, (state["_props"], state["_type_props"]))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self.dbus)} properties>"


# ----------------------------------------------------------------------------------- units


class UnitStatus(UnitFields, Snapshot):
    """A unit: ``org.freedesktop.systemd1.Unit`` (and, in subclasses, its type interface).

    ``UNIT_TYPE`` is the unit type ("service", ...; None on this base class, used for unit
    types this version of sysd does not know), ``TYPE_INTERFACE`` the type interface read
    besides Unit (None when it has no properties, as for targets).
    """

    UNIT_TYPE: ClassVar[str | None] = None
    TYPE_INTERFACE: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TYPE_INTERFACE = next((i for i in cls.INTERFACES if i != UnitFields.INTERFACE), None)

    @property
    def unit_type(self) -> str:
        """The unit type ("service", ...): the class's, else the suffix of ``id``."""
        return self.UNIT_TYPE or self.id.rpartition(".")[2]

    @property
    def is_active(self) -> bool:
        """``ActiveState`` is active or reloading (``systemctl is-active`` succeeds)."""
        return self.active_state in _ACTIVE_STATES

    @property
    def is_failed(self) -> bool:
        """``ActiveState`` is failed (``systemctl is-failed`` succeeds)."""
        return self.active_state == "failed"

    @property
    def since(self) -> datetime | None:
        """When the unit entered its current ``ActiveState``, as ``systemctl status`` shows
        after "since": the ActiveEnter, InactiveEnter, InactiveExit (activating) or
        ActiveExit (deactivating) timestamp.  ``state_change_timestamp`` also moves on
        sub-state changes."""
        state = self.active_state
        if state in _ACTIVE_STATES:
            return self.active_enter_timestamp
        if state in ("inactive", "failed"):
            return self.inactive_enter_timestamp
        if state == "activating":
            return self.inactive_exit_timestamp
        return self.active_exit_timestamp

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.id}: {self.load_state}, "
            f"{self.active_state} ({self.sub_state})>"
        )


class ServiceStatus(ServiceFields, UnitStatus):
    """A ``.service``: Unit + ``org.freedesktop.systemd1.Service``."""

    UNIT_TYPE = "service"


class SocketStatus(SocketFields, UnitStatus):
    """A ``.socket``: Unit + ``org.freedesktop.systemd1.Socket``."""

    UNIT_TYPE = "socket"


class TargetStatus(TargetFields, UnitStatus):
    """A ``.target``: Unit only (the Target interface has no properties)."""

    UNIT_TYPE = "target"


class DeviceStatus(DeviceFields, UnitStatus):
    """A ``.device``: Unit + ``org.freedesktop.systemd1.Device``."""

    UNIT_TYPE = "device"


class MountStatus(MountFields, UnitStatus):
    """A ``.mount``: Unit + ``org.freedesktop.systemd1.Mount``."""

    UNIT_TYPE = "mount"


class AutomountStatus(AutomountFields, UnitStatus):
    """An ``.automount``: Unit + ``org.freedesktop.systemd1.Automount``."""

    UNIT_TYPE = "automount"


class SwapStatus(SwapFields, UnitStatus):
    """A ``.swap``: Unit + ``org.freedesktop.systemd1.Swap``."""

    UNIT_TYPE = "swap"


class TimerStatus(TimerFields, UnitStatus):
    """A ``.timer``: Unit + ``org.freedesktop.systemd1.Timer``."""

    UNIT_TYPE = "timer"


class PathStatus(PathFields, UnitStatus):
    """A ``.path``: Unit + ``org.freedesktop.systemd1.Path``."""

    UNIT_TYPE = "path"


class SliceStatus(SliceFields, UnitStatus):
    """A ``.slice``: Unit + ``org.freedesktop.systemd1.Slice``."""

    UNIT_TYPE = "slice"


class ScopeStatus(ScopeFields, UnitStatus):
    """A ``.scope``: Unit + ``org.freedesktop.systemd1.Scope``."""

    UNIT_TYPE = "scope"


_BY_TYPE: Final[Mapping[str, type[UnitStatus]]] = MappingProxyType(
    {
        cls.UNIT_TYPE: cls
        for cls in (
            ServiceStatus,
            SocketStatus,
            TargetStatus,
            DeviceStatus,
            MountStatus,
            AutomountStatus,
            SwapStatus,
            TimerStatus,
            PathStatus,
            SliceStatus,
            ScopeStatus,
        )
        if cls.UNIT_TYPE is not None
    }
)


def status_class_for(unit_name_or_type: str) -> type[UnitStatus]:
    """The snapshot class for ``"foo.service"``, ``"service"`` or ``".service"``.

    An unknown type (a newer systemd's) gives :class:`UnitStatus`: the Unit interface only.
    """
    return _BY_TYPE.get(unit_name_or_type.rpartition(".")[2], UnitStatus)


def unit_status(
    unit_props: Mapping[str, Any], type_props: Mapping[str, Any] | None = None
) -> UnitStatus:
    """A snapshot of the class matching ``unit_props["Id"]``."""
    return status_class_for(unit_props.get("Id", "")).from_dbus(unit_props, type_props)


# ----------------------------------------------------------------------- manager and jobs


class ManagerStatus(ManagerFields, Snapshot):
    """The manager: ``org.freedesktop.systemd1.Manager`` at ``/org/freedesktop/systemd1``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} systemd {self.version}: {self.system_state}>"


class JobStatus(JobFields, Snapshot):
    """A queued job: ``org.freedesktop.systemd1.Job``."""

    @property
    def unit_name(self) -> str:
        """The name of the job's unit (from ``Unit``, a (name, path) pair)."""
        unit = self.unit
        return unit[0] if unit else ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.job_type} {self.unit_name}: {self.state}>"
