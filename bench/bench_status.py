"""Cost of typed unit snapshots, in-process, no I/O: ``python bench/bench_status.py``.

Builds a ``ServiceStatus`` from a recorded ``GetAll`` pair (dbus.service, ~400 properties,
``tests/core/data/service_dbus.getall``) and reads the fields ``systemctl status`` shows.
Prints operations per second; each case runs for about ``SECONDS`` seconds, best of
``REPEAT`` runs.  Building must stay far below the cost of the two ``GetAll`` calls it stands
for (the typed ``Unit.status()`` target is 1.5x the C sd-bus floor for those calls).
"""

from __future__ import annotations

import ast
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sysd._core.status import ServiceStatus  # noqa: E402

SECONDS = 0.2
REPEAT = 3
DATA = ROOT / "tests/core/data/service_dbus.getall"

_recorded = ast.literal_eval(DATA.read_text())
UNIT = _recorded["org.freedesktop.systemd1.Unit"]
SERVICE = _recorded["org.freedesktop.systemd1.Service"]
COMMON = (
    "id",
    "description",
    "load_state",
    "active_state",
    "sub_state",
    "since",
    "fragment_path",
    "unit_file_state",
    "main_pid",
    "tasks_current",
    "memory_current",
    "cpu_usage",
    "control_group",
    "exec_main_start_timestamp",
    "result",
)


def _ops_per_second(func: Callable[[], object]) -> float:
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= SECONDS / 10:
            break
        n *= 4
    n = max(1, int(n * SECONDS / elapsed))
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        for _ in range(n):
            func()
        best = min(best, time.perf_counter() - start)
    return n / best


def build() -> object:
    return ServiceStatus.from_dbus(UNIT, SERVICE)


def build_and_read_common() -> object:
    st = ServiceStatus.from_dbus(UNIT, SERVICE)
    return [getattr(st, name) for name in COMMON]


def build_and_read_direct() -> object:
    st = ServiceStatus.from_dbus(UNIT, SERVICE)
    return (
        st.id,
        st.description,
        st.load_state,
        st.active_state,
        st.sub_state,
        st.since,
        st.fragment_path,
        st.unit_file_state,
        st.main_pid,
        st.tasks_current,
        st.memory_current,
        st.cpu_usage,
        st.control_group,
        st.exec_main_start_timestamp,
        st.result,
    )


_warm = ServiceStatus.from_dbus(UNIT, SERVICE)
for _name in COMMON:
    getattr(_warm, _name)


def read_cached() -> object:
    return (_warm.active_state, _warm.main_pid, _warm.exec_main_start_timestamp)


def convert_everything() -> object:
    return ServiceStatus.from_dbus(UNIT, SERVICE).as_dict()


_pickled = pickle.dumps(_warm)

CASES: list[tuple[str, Callable[[], object]]] = [
    ("from_dbus (no conversion)", build),
    (f"from_dbus + {len(COMMON)} common fields (getattr)", build_and_read_common),
    (f"from_dbus + {len(COMMON)} common fields (attributes)", build_and_read_direct),
    ("3 cached field reads", read_cached),
    (f"from_dbus + as_dict ({len(ServiceStatus.FIELDS)} fields)", convert_everything),
    ("pickle round trip", lambda: pickle.loads(pickle.dumps(_warm))),
    ("unpickle", lambda: pickle.loads(_pickled)),
]


def main() -> int:
    print(f"# ServiceStatus from {DATA.name}: {len(UNIT)} + {len(SERVICE)} raw properties")
    print(f"{'case':<52} {'ops/s':>12} {'µs/op':>9}")
    for label, func in CASES:
        rate = _ops_per_second(func)
        print(f"{label:<52} {rate:>12,.0f} {1e6 / rate:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
