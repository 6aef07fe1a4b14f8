"""Record real GetAll results for the pure snapshot tests: run inside a sandbox, as root.

    python -m sysd sandbox run -- python tests/core/data/record.py

Writes ``tests/core/data/<name>.getall``: a Python literal (``ast.literal_eval``) keeping the
exact shapes the connection returns (tuples for structs, lists for arrays, bytes for ``ay``),
which JSON could not.
"""

from __future__ import annotations

import pprint
import subprocess
import sys
import time
from pathlib import Path

import sysd
from sysd import Variant

HERE = Path(__file__).resolve().parent
PREFIX = "org.freedesktop.systemd1."
MANAGER = ("/org/freedesktop/systemd1", PREFIX + "Manager")
TYPES = {
    "service": "Service",
    "socket": "Socket",
    "target": "Target",
    "device": "Device",
    "mount": "Mount",
    "automount": "Automount",
    "swap": "Swap",
    "timer": "Timer",
    "path": "Path",
    "slice": "Slice",
    "scope": "Scope",
}
UNITS = {
    "service_dbus": "dbus.service",
    "service_failed": "sysd-record-failed.service",
    "socket_dbus": "dbus.socket",
    "target_multi_user": "multi-user.target",
    "device_stub": "sysd-record-stub.device",
    "mount_root": "-.mount",
    "automount_binfmt": "proc-sys-fs-binfmt_misc.automount",
    "swap_not_found": "sysd-record-stub.swap",
    "timer_tmpfiles_clean": "systemd-tmpfiles-clean.timer",
    "path_ask_password": "systemd-ask-password-wall.path",
    "slice_system": "system.slice",
    "scope_init": "init.scope",
}


def transient(
    sd: sysd.Systemd, name: str, argv: list[str], extra: list[tuple[str, Variant]]
) -> str:
    props = [
        ("Type", Variant("s", "oneshot")),
        ("ExecStart", Variant("a(sasb)", [(argv[0], argv, False)])),
        *extra,
    ]
    job: str = sd.call(
        None, *MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))", (name, "replace", props, [])
    )
    return job


def main() -> int:
    with sysd.connect() as sd:
        version = sd.version
        # a failed oneshot: exit status 3 after a start, kept by RemainAfterExit=no + failure
        transient(
            sd,
            UNITS["service_failed"],
            ["/bin/sh", "-c", "exit 3"],
            [("CPUAccounting", Variant("b", True))],
        )
        time.sleep(1)
        out = {"manager": {MANAGER[1]: sd.get_all(*MANAGER)}}
        for name, unit in UNITS.items():
            path = sd.call(None, *MANAGER, "LoadUnit", "s", (unit,))
            ifaces = {PREFIX + "Unit": sd.get_all(path, PREFIX + "Unit")}
            short = TYPES[unit.rpartition(".")[2]]
            ifaces[PREFIX + short] = sd.get_all(path, PREFIX + short)
            out[name] = ifaces
        job = transient(sd, "sysd-record-job.service", ["/bin/sleep", "30"], [])
        out["job_running"] = {PREFIX + "Job": sd.get_all(job, PREFIX + "Job")}
        sd.call(None, *MANAGER, "StopUnit", "ss", ("sysd-record-job.service", "replace"))
        sd.call(None, *MANAGER, "ResetFailedUnit", "s", (UNITS["service_failed"],))
    for name, ifaces in out.items():
        text = f"# GetAll results recorded from systemd {version} by tests/core/data/record.py\n"
        text += pprint.pformat(ifaces, width=100, sort_dicts=False) + "\n"
        (HERE / f"{name}.getall").write_text(text)
    subprocess.run(["ls", "-l", str(HERE)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
