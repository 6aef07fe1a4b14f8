"""sysd's property language against systemd's own: the same input must give the same unit.

For every name systemd 252 accepts per unit type (``sysd.properties.names``) and every sample
value in ``property_samples.py``, two twin units are made:

* one by systemd's own tool, which encodes the assignment with the C parser
  (``bus_append_unit_property_assignment``): ``systemd-run`` for service, scope, timer, socket
  and path; ``systemd-mount`` for mount and automount; ``systemctl set-property --runtime``
  on twin units for slice, target, swap and device (systemd cannot start those otherwise);
* one by sysd, sending :func:`sysd.properties.parse`'s encoding plus the same base properties
  the tool adds, through the generic bus call (``StartTransientUnit``/``SetUnitProperties``).

Then either both were refused -- by the client (sysd raises InvalidPropertyError, the tool
fails before calling) or by systemd with the same message -- or both exist and their
``GetAll`` of the Unit interface and the type's interface agree, ignoring what identifies or
times a unit (names, PIDs, timestamps, counters).  Samples run in batches of distinct names;
a batch that fails or differs is re-run one sample at a time to name the culprit.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pytest
from property_samples import SAMPLES

import sysd
from sysd import Variant
from sysd.errors import DBusError, InvalidPropertyError
from sysd.properties import UNIT_TYPES, names, parse

pytestmark = pytest.mark.systemd

MANAGER = "org.freedesktop.systemd1.Manager"
PATH = "/org/freedesktop/systemd1"
IFACE = "org.freedesktop.systemd1."
DESCRIPTION = "sysd-eq"
SLEEP = ["/bin/sleep", "3600"]
BATCH = 12
TOKEN = "eqTOKEN"

_counter = itertools.count()

# What identifies, times or counts a unit rather than configures it.
IGNORED = frozenset(
    {
        "Id", "Names", "InvocationID", "Job", "Following", "Refs", "NeedDaemonReload",
        "ActiveState", "SubState", "Result", "ReloadResult", "CleanResult", "ConditionResult",
        "AssertResult", "MainPID", "ControlPID", "ExecMainPID", "ExecMainCode", "ExecMainStatus",
        "StatusText", "StatusErrno", "NRestarts", "NFileDescriptorStore", "CPUUsageNSec",
        "ControlGroup", "ControlGroupId", "EffectiveCPUs", "EffectiveMemoryNodes", "UID", "GID",
        "NextElapseUSecRealtime", "NextElapseUSecMonotonic", "LastTriggerUSec",
        "LastTriggerUSecMonotonic", "NAccepted", "NConnections", "NRefused",
    }
)  # fmt: skip
IGNORED_SUFFIX = re.compile(
    r"(Timestamp|TimestampMonotonic|Current|Peak|Available|Bytes|Packets|Operations)$"
)
# Kept in hash tables by systemd: their order means nothing.
UNORDERED = frozenset(
    {
        *(f"Unit.{d}" for d in (
            "Requires", "Requisite", "Wants", "BindsTo", "PartOf", "Upholds", "RequiredBy",
            "RequisiteOf", "WantedBy", "BoundBy", "UpheldBy", "ConsistsOf", "Conflicts",
            "ConflictedBy", "Before", "After", "OnSuccess", "OnSuccessOf", "OnFailure",
            "OnFailureOf", "Triggers", "TriggeredBy", "PropagatesReloadTo",
            "ReloadPropagatedFrom", "PropagatesStopTo", "StopPropagatedFrom", "JoinsNamespaceOf",
            "References", "ReferencedBy", "RequiresMountsFor", "Markers",
        )),
    }
)  # fmt: skip
# Configuration read through the unit's current state (the effective watchdog, the mount
# table): compared only when both twins are in the same state, with no job running.
STATE_DEPENDENT = frozenset(
    {
        "Unit.CanStart", "Unit.CanStop", "Unit.CanReload", "Unit.CanIsolate", "Unit.CanClean",
        "Unit.CanFreeze", "Service.WatchdogUSec", "Mount.ExecMount", "Mount.ExecUnmount",
        "Mount.ExecRemount", "Mount.Options", "Mount.What", "Mount.Type",
    }
)  # fmt: skip
# Struct fields after these counts carry runtime state (PIDs, times, results).
TRUNCATE = {"Conditions": 4, "Asserts": 4, "TimersMonotonic": 2, "TimersCalendar": 2}


# ----------------------------------------------------------------------- helpers


def normalize(value: Any, tokens: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for token in tokens:
            value = value.replace(token, TOKEN)
        return value
    if isinstance(value, list | tuple):
        return [normalize(v, tokens) for v in value]
    if isinstance(value, dict):
        return {k: normalize(v, tokens) for k, v in value.items()}
    return value


def clean_properties(props: dict[str, Any], tokens: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for key, value in props.items():
        name = key.rsplit(".", 1)[1]
        if name in IGNORED or IGNORED_SUFFIX.search(name):
            continue
        keep = TRUNCATE.get(name, 3 if name.startswith("Exec") else None)
        if keep is not None and isinstance(value, list):
            out[key] = normalize(
                [v[:keep] if isinstance(v, tuple | list) else v for v in value], tokens
            )
        else:
            out[key] = normalize(value, tokens)
        if key in UNORDERED and isinstance(out[key], list):
            out[key] = sorted(out[key])
    return out


def run(cmd: list[str]) -> tuple[bool, str]:
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=30)
    return proc.returncode == 0, proc.stderr


def encode(unit_type: str, assignments: list[str]) -> list[tuple[str, Variant]]:
    return [(a.name, Variant(a.signature, a.value)) for a in parse(unit_type, assignments)]


def prop(name: str, signature: str, value: Any) -> tuple[str, Variant]:
    return (name, Variant(signature, value))


@dataclass
class Outcome:
    kind: str  # "same", "same-error", "vanished", "mismatch"
    detail: str = ""


@dataclass
class Report:
    compared: int = 0
    same_error: int = 0
    vanished: int = 0
    failures: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------- drivers


class Driver:
    """How one unit type is made both ways.  ``make_*`` return (ok, error text)."""

    unit_type: str
    wait_for_jobs = True  # compare state-dependent properties once both twins settled

    def __init__(self, sd: sysd.Systemd) -> None:
        self.sd = sd

    # the unit whose properties are compared, per token
    def unit(self, token: str) -> str:
        raise NotImplementedError

    def extra_units(self, token: str) -> list[str]:
        return []

    def next_tokens(self) -> tuple[str, str]:
        """Fresh names for the twins: one for systemd's tool, one for sysd."""
        n = next(_counter)
        return f"eqr{n}x", f"eqs{n}x"

    def lookup(self, token: str) -> str:
        """The object path of the unit (GetUnit: only while it is loaded)."""
        path: str = self.sd.call(None, PATH, MANAGER, "GetUnit", "s", (self.unit(token),))
        return path

    def make_native(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        raise NotImplementedError

    def make_sysd(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        raise NotImplementedError

    @contextmanager
    def session(self) -> Iterator[None]:
        yield

    def start_transient(
        self, name: str, props: list[tuple[str, Variant]], aux: list[Any] | None = None
    ) -> None:
        self.sd.call(
            None, PATH, MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))",
            (name, "fail", props, aux or []),
        )  # fmt: skip

    def cleanup(self, token: str) -> None:
        for name in [self.unit(token), *self.extra_units(token)]:
            with suppress(DBusError):
                self.sd.call(None, PATH, MANAGER, "StopUnit", "ss", (name, "replace"))
            with suppress(DBusError):
                self.sd.call(None, PATH, MANAGER, "ResetFailedUnit", "s", (name,))


class ServiceDriver(Driver):
    unit_type = "service"

    def unit(self, token: str) -> str:
        return f"sysdeq-{token}.service"

    def make_native(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        cmd = ["systemd-run", "--quiet", "--no-block", f"--unit={self.unit(token)}"]
        cmd += [f"--description={DESCRIPTION}", *(f"--property={a}" for a in assignments)]
        return run([*cmd, "--", *SLEEP])

    def make_sysd(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        props = [prop("Description", "s", DESCRIPTION), *encode("service", assignments)]
        props.append(prop("ExecStart", "a(sasb)", [(SLEEP[0], SLEEP, False)]))
        self.start_transient(self.unit(token), props)
        return True, ""


class TriggerDriver(Driver):
    """timer, socket, path: systemd-run --X-property=..., with a service to trigger."""

    option: str
    base: tuple[str, ...]  # the trigger systemd-run needs, before the samples

    def unit(self, token: str) -> str:
        return f"sysdeq-{token}.{self.unit_type}"

    def extra_units(self, token: str) -> list[str]:
        return [f"sysdeq-{token}.service"]

    def base_for(self, token: str) -> list[str]:
        return [b.format(token=token) for b in self.base]

    def make_native(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        cmd = ["systemd-run", "--quiet", "--no-block", f"--unit=sysdeq-{token}"]
        cmd.append(f"--description={DESCRIPTION}")
        if self.unit_type == "timer":
            cmd.append("--on-active=1h")
        else:
            cmd += [f"--{self.option}={b}" for b in self.base_for(token)]
        cmd += [f"--{self.option}={a}" for a in assignments]
        # systemd-run waits for a trigger's start job even with --no-block, and with --quiet
        # a failed job fails silently: the unit was made, so compare it.
        ok, err = run([*cmd, "--", *SLEEP])
        return ok or not err.strip(), err

    def make_sysd(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        props = [prop("Description", "s", DESCRIPTION)]
        props += encode(self.unit_type, [*self.base_for(token), *assignments])
        if self.unit_type == "timer":
            props.append(prop("RemainAfterElapse", "b", False))
        service = [
            prop("Description", "s", DESCRIPTION),
            prop("ExecStart", "a(sasb)", [(SLEEP[0], SLEEP, False)]),
        ]
        self.start_transient(self.unit(token), props, [(f"sysdeq-{token}.service", service)])
        return True, ""


class TimerDriver(TriggerDriver):
    unit_type = "timer"
    option = "timer-property"
    base = ("OnActiveSec=1h",)


class SocketDriver(TriggerDriver):
    unit_type = "socket"
    option = "socket-property"
    base = ("ListenStream=/run/sysd-eq-{token}.base",)


class PathDriver(TriggerDriver):
    unit_type = "path"
    option = "path-property"
    base = ("PathExists=/run/sysd-eq-{token}.base",)


class ScopeDriver(Driver):
    unit_type = "scope"

    def __init__(self, sd: sysd.Systemd) -> None:
        super().__init__(sd)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def unit(self, token: str) -> str:
        return f"sysdeq-{token}.scope"

    def make_native(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        cmd = ["systemd-run", "--quiet", "--scope", f"--unit={self.unit(token)}"]
        cmd += [f"--description={DESCRIPTION}", *(f"--property={a}" for a in assignments)]
        proc = subprocess.Popen(
            [*cmd, "--", *SLEEP], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.procs[token] = proc
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with suppress(DBusError):
                self.lookup(token)
                return True, ""
            if proc.poll() is not None:
                # systemd-run waits for the scope's start job; with --quiet a failed job exits
                # silently (the unit was made), anything refused before says why.
                assert proc.stderr is not None
                err = proc.stderr.read().decode(errors="replace")
                return not err.strip(), err
            with suppress(OSError), open(f"/proc/{proc.pid}/comm") as comm:
                if comm.read().strip() == "sleep":
                    return True, ""  # made, started, and already collected (condition false)
            time.sleep(0.01)
        return False, "systemd-run --scope neither started the scope nor failed"

    def make_sysd(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        encoded = encode("scope", assignments)
        proc = subprocess.Popen(SLEEP, stderr=subprocess.PIPE)
        self.procs[token] = proc
        props = [prop("Description", "s", DESCRIPTION), *encoded]
        props.append(prop("PIDs", "au", [proc.pid]))
        self.start_transient(self.unit(token), props)
        return True, ""

    def cleanup(self, token: str) -> None:
        super().cleanup(token)
        proc = self.procs.pop(token, None)
        if proc is not None:
            proc.kill()
            proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()


class MountDriver(Driver):
    """mount and automount: systemd-mount, tmpfs on /run/sysdeq/TOKEN.

    systemd 252 reads the mount table at most 5 times a second, so mount jobs finish slowly:
    the twins are compared without waiting for their jobs (state-dependent properties are
    then left out), and stopped only at the end.
    """

    unit_type = "mount"
    wait_for_jobs = False

    def __init__(self, sd: sysd.Systemd) -> None:
        super().__init__(sd)
        self.made: list[str] = []

    def cleanup(self, token: str) -> None:
        self.made.append(token)

    @contextmanager
    def session(self) -> Iterator[None]:
        try:
            yield
        finally:
            for token in self.made:
                Driver.cleanup(self, token)

    def where(self, token: str) -> str:
        return f"/run/sysdeq/{token}"

    def unit(self, token: str) -> str:
        return f"run-sysdeq-{token}.{self.unit_type}"

    def mount_base(self) -> list[tuple[str, Variant]]:
        return [prop("What", "s", "tmpfs"), prop("Type", "s", "tmpfs")]

    def make_native(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        cmd = ["systemd-mount", "--quiet", "--no-block", f"--description={DESCRIPTION}"]
        cmd += ["--type=tmpfs", *(f"--property={a}" for a in assignments)]
        return run([*cmd, "tmpfs", self.where(token)])

    def make_sysd(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        props = [prop("Description", "s", DESCRIPTION), *encode("mount", assignments)]
        self.start_transient(self.unit(token), [*props, *self.mount_base()])
        return True, ""


class AutomountDriver(MountDriver):
    """Automounts cannot start in a container ("unsupported") and an inactive unit nobody
    references is collected at once; a keeper service that Wants= every automount name the
    test will use keeps them loaded for the comparison."""

    unit_type = "automount"
    keeper = "sysdeq-keeper.service"

    def __init__(self, sd: sysd.Systemd) -> None:
        super().__init__(sd)
        self.pool = [(f"eqr{n}a", f"eqs{n}a") for n in range(400)]
        self.used = 0

    def next_tokens(self) -> tuple[str, str]:
        self.used += 1
        return self.pool[self.used - 1]

    @contextmanager
    def session(self) -> Iterator[None]:
        wants = [self.unit(t) for pair in self.pool for t in pair]
        props = [
            prop("Description", "s", DESCRIPTION),
            prop("Wants", "as", wants),
            prop("ExecStart", "a(sasb)", [(SLEEP[0], SLEEP, False)]),
        ]
        self.start_transient(self.keeper, props)
        try:
            with super().session():
                yield
        finally:
            with suppress(DBusError):
                self.sd.call(None, PATH, MANAGER, "StopUnit", "ss", (self.keeper, "replace"))

    def extra_units(self, token: str) -> list[str]:
        return [f"run-sysdeq-{token}.mount"]

    def make_native(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        cmd = ["systemd-mount", "--quiet", "--no-block", f"--description={DESCRIPTION}"]
        cmd += ["--type=tmpfs", "--automount=yes"]
        cmd += [f"--automount-property={a}" for a in assignments]
        return run([*cmd, "tmpfs", self.where(token)])

    def make_sysd(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        props = [prop("Description", "s", DESCRIPTION), *encode("automount", assignments)]
        mount = [prop("Description", "s", DESCRIPTION), *self.mount_base()]
        self.start_transient(self.unit(token), props, [(f"run-sysdeq-{token}.mount", mount)])
        return True, ""


class SetPropertyDriver(Driver):
    """slice, target, swap, device: ``systemctl set-property --runtime`` on twin units.

    The twins live for the whole test and get the same sequence of changes, so they stay
    equal as long as sysd encodes every change as systemctl does.
    """

    twins = ("eqrTWINx", "eqsTWINx")

    def next_tokens(self) -> tuple[str, str]:
        return self.twins

    def lookup(self, token: str) -> str:
        """LoadUnit: units from files are loaded on demand (and runtime changes persist)."""
        path: str = self.sd.call(None, PATH, MANAGER, "LoadUnit", "s", (self.unit(token),))
        return path

    def make_native(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        return run(["systemctl", "set-property", "--runtime", self.unit(token), *assignments])

    def make_sysd(self, token: str, assignments: list[str]) -> tuple[bool, str]:
        props = encode(self.unit_type, assignments)
        self.sd.call(
            None, PATH, MANAGER, "SetUnitProperties", "sba(sv)", (self.unit(token), True, props)
        )
        return True, ""

    def cleanup(self, token: str) -> None:
        pass  # the twins stay for the next sample


class SliceDriver(SetPropertyDriver):
    unit_type = "slice"

    def unit(self, token: str) -> str:
        return f"{token}.slice"

    @contextmanager
    def session(self) -> Iterator[None]:
        for token in self.twins:
            self.start_transient(self.unit(token), [prop("Description", "s", DESCRIPTION)])
        try:
            yield
        finally:
            for token in self.twins:
                Driver.cleanup(self, token)


class UnitFileDriver(SetPropertyDriver):
    """target and swap twins from unit files in /run/systemd/system; device: none loadable."""

    contents = ""

    def unit_file(self, token: str) -> str:
        return f"/run/systemd/system/{self.unit(token)}"

    @contextmanager
    def session(self) -> Iterator[None]:
        if not self.contents:
            yield
            return
        for token in self.twins:
            with open(self.unit_file(token), "w") as f:
                f.write(self.contents.format(token=token))
        subprocess.run(["systemctl", "daemon-reload"], check=True, timeout=60)
        try:
            yield
        finally:
            for token in self.twins:
                os.unlink(self.unit_file(token))
            subprocess.run(["systemctl", "daemon-reload"], check=True, timeout=60)


class TargetDriver(UnitFileDriver):
    unit_type = "target"
    contents = f"[Unit]\nDescription={DESCRIPTION}\n"

    def unit(self, token: str) -> str:
        return f"{token}.target"


class SwapDriver(UnitFileDriver):
    unit_type = "swap"
    contents = f"[Unit]\nDescription={DESCRIPTION}\n[Swap]\nWhat=/run/{{token}}\n"

    def unit(self, token: str) -> str:
        return f"run-{token}.swap"


class DeviceDriver(UnitFileDriver):
    unit_type = "device"  # no device units in a container: both sides must fail alike

    def unit(self, token: str) -> str:
        return f"dev-{token}.device"


DRIVERS: dict[str, Callable[[sysd.Systemd], Driver]] = {
    "service": ServiceDriver,
    "scope": ScopeDriver,
    "timer": TimerDriver,
    "socket": SocketDriver,
    "path": PathDriver,
    "mount": MountDriver,
    "automount": AutomountDriver,
    "slice": SliceDriver,
    "target": TargetDriver,
    "swap": SwapDriver,
    "device": DeviceDriver,
}


# ----------------------------------------------------------------------- comparing


@dataclass
class Snapshot:
    props: dict[str, Any]
    state: tuple[str, str]
    busy: bool


def snapshot(driver: Driver, token: str, tokens: tuple[str, ...]) -> Snapshot | None:
    sd = driver.sd
    try:
        path = driver.lookup(token)
    except DBusError:
        return None
    props: dict[str, Any] = {}
    try:
        for iface in ("Unit", driver.unit_type.capitalize()):
            values = sd.get_all(path, IFACE + iface)
            props.update({f"{iface}.{k}": v for k, v in values.items()})
        # The two reads are not atomic: a state that moved meanwhile is no state at all.
        after = sd.get_property(path, IFACE + "Unit", "SubState")
    except DBusError:
        return None  # collected meanwhile
    state = (props["Unit.ActiveState"], props["Unit.SubState"])
    if after != state[1]:
        state = ("changing", f"{state[1]}->{after}")
    return Snapshot(clean_properties(props, tokens), state, props["Unit.Job"][0] != 0)


def settled(a: Snapshot | None, b: Snapshot | None) -> bool:
    """Both collected, both in the same state with no job, or both not started yet."""
    if a is None or b is None:
        return a is None and b is None
    if a.state != b.state or a.busy != b.busy:
        return False
    return not a.busy or a.state == ("inactive", "dead")


def snapshots(driver: Driver, tokens: tuple[str, str]) -> tuple[Snapshot | None, Snapshot | None]:
    """Both twins' properties, once both are settled (see above), or as they are after a
    while: one may still be starting, or already be collected (its start job ran first)
    while the other follows."""
    a, b = snapshot(driver, tokens[0], tokens), snapshot(driver, tokens[1], tokens)
    deadline = time.monotonic() + 2
    while (
        not settled(a, b)
        and (driver.wait_for_jobs or (a is None) != (b is None))
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)
        a, b = snapshot(driver, tokens[0], tokens), snapshot(driver, tokens[1], tokens)
    return a, b


def diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = sorted(set(a) | set(b))
    lines = [
        f"    {k}: systemd={a.get(k, '<absent>')!r}  sysd={b.get(k, '<absent>')!r}"
        for k in keys
        if a.get(k, "<absent>") != b.get(k, "<absent>")
    ]
    return "\n".join(lines[:12])


def compare(driver: Driver, batch: list[tuple[str, str]]) -> Outcome:
    native, mine = tokens = driver.next_tokens()
    texts = {t: [f"{k}={v.format(token=t)}" for k, v in batch] for t in tokens}
    try:
        ok_native, err_native = driver.make_native(native, texts[native])
        try:
            ok_mine, err_mine, client_side = (*driver.make_sysd(mine, texts[mine]), False)
        except InvalidPropertyError as exc:
            ok_mine, err_mine, client_side = False, str(exc), True
        except DBusError as exc:
            ok_mine, err_mine, client_side = False, exc.message, False

        shown = " ".join(texts[native])
        if not ok_native and not ok_mine:
            err_native_n = normalize(err_native, tokens)
            if client_side:
                if "Failed to start transient" in err_native or "Failed to set unit" in err_native:
                    return Outcome(
                        "mismatch",
                        f"{shown}\n    sysd refused it ({err_mine}) but systemd called the "
                        f"manager: {err_native_n.strip()}",
                    )
                return Outcome("same-error")
            if normalize(err_mine, tokens) in err_native_n:
                return Outcome("same-error")
            return Outcome(
                "mismatch",
                f"{shown}\n    systemd: {err_native_n.strip()}\n    sysd: {err_mine}",
            )
        if ok_native != ok_mine:
            return Outcome(
                "mismatch",
                f"{shown}\n    systemd {'ok' if ok_native else 'failed: ' + err_native.strip()}"
                f"; sysd {'ok' if ok_mine else 'failed: ' + err_mine}",
            )
        a, b = snapshots(driver, tokens)
        if a is None and b is None:
            return Outcome("vanished")
        if a is None or b is None:
            return Outcome("mismatch", f"{shown}\n    only one of the twins exists")
        pa, pb = a.props, b.props
        if not settled(a, b):
            pa = {k: v for k, v in pa.items() if k not in STATE_DEPENDENT}
            pb = {k: v for k, v in pb.items() if k not in STATE_DEPENDENT}
        if pa != pb:
            return Outcome("mismatch", f"{shown}\n{diff(pa, pb)}")
        return Outcome("same")
    finally:
        driver.cleanup(native)
        driver.cleanup(mine)


def batches(samples: dict[str, list[str]]) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for name in sorted(samples):
        for value in samples[name]:
            for batch in out:
                if len(batch) < BATCH and all(n != name for n, _ in batch):
                    batch.append((name, value))
                    break
            else:
                out.append([(name, value)])
    return out


# ----------------------------------------------------------------------- the tests


@pytest.mark.parametrize("unit_type", UNIT_TYPES)
def test_samples_cover_every_name(unit_type: str) -> None:
    accepted = names(unit_type)
    covered = set(SAMPLES[unit_type]) & accepted
    print(f"{unit_type}: samples for {len(covered)}/{len(accepted)} names")
    assert covered == accepted
    assert all(SAMPLES[unit_type][n] for n in accepted)


@pytest.fixture(scope="module")
def bus(systemd_host: None) -> Iterator[sysd.Systemd]:
    """One connection for every unit type."""
    with sysd.connect() as conn:
        yield conn


@pytest.mark.timeout(600)
@pytest.mark.parametrize("unit_type", UNIT_TYPES)
def test_same_encoding_as_systemd(unit_type: str, bus: sysd.Systemd) -> None:
    driver = DRIVERS[unit_type](bus)
    samples = SAMPLES[unit_type]
    report = Report()
    started = time.monotonic()
    with driver.session():
        for batch in batches(samples):
            outcome = compare(driver, batch)
            if outcome.kind == "same":
                report.compared += len(batch)
                continue
            if len(batch) == 1:
                results = [(batch[0], outcome)]
            else:
                results = [(item, compare(driver, [item])) for item in batch]
            for _item, one in results:
                if one.kind == "same":
                    report.compared += 1
                elif one.kind == "same-error":
                    report.same_error += 1
                elif one.kind == "vanished":
                    report.vanished += 1
                else:
                    report.failures.append(one.detail)
    total = sum(len(v) for v in samples.values())
    print(
        f"\n{unit_type}: {len(samples)}/{len(names(unit_type))} names, {total} samples: "
        f"{report.compared} identical units, {report.same_error} refused alike, "
        f"{report.vanished} collected on both sides, {len(report.failures)} different "
        f"({time.monotonic() - started:.1f}s)"
    )
    assert not report.failures, "\n".join(report.failures[:25])
