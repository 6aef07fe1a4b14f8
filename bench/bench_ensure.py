"""``ensure`` of 100 already-converged units (the no-op an automation run hits most) vs a
shell loop of ``systemctl is-active``/``is-enabled`` and Ansible's
``ansible.builtin.systemd_service`` (issue 13).

Run it inside the throwaway systemd (root, systemd 252 and dbus-daemon)::

    .venv/bin/python -m sysd sandbox run --bind "$PWD" -- \\
        .venv/bin/python bench/bench_ensure.py --units 100 --reps 5 \\
        [--ansible bench/.ansible-env/bin/ansible-playbook]

100 units ``bench-ensure-NNN.service`` (``sleep infinity``, WantedBy=multi-user.target)
are written to /run/systemd/system, enabled and started; then, ``--reps`` times each
(contenders rotated per repetition), the wall time of one pass that checks all of them
is asked for (active and enabled), and nothing changed:

* sysd, blocking, in-process on an open connection: ``sd.ensure(names, active=True,
  enabled=True)`` (one unit after the other);
* sysd, asyncio, in-process on an open connection: the same, awaited (concurrently);
* ``sysd ensure UNIT... --active --enabled``: one process, connecting, as a shell uses it;
* a shell loop: ``systemctl is-active -q U && systemctl is-enabled -q U`` for each unit
  (200 processes): what a script does without a tool for it;
* Ansible (ansible-core from PyPI, ``ansible-playbook -i localhost, -c local``): one
  play, one ``ansible.builtin.systemd_service`` task (``state=started enabled=true``)
  looped over the units (one repetition: it is slow).

Every sysd pass must report ``changed=False`` for every unit, the shell loop must
succeed, and Ansible's recap must say ``changed=0``, else the script fails.  Prints a
Markdown table for bench/RESULTS.md.  The units are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sysd
import sysd.aio

RUNTIME_UNITS = Path("/run/systemd/system")
UNIT = "[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"
PLAY = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: converged
      ansible.builtin.systemd_service:
        name: "{{{{ item }}}}"
        state: started
        enabled: true
      loop: {units}
"""


def set_up(names: list[str]) -> None:
    for name in names:
        (RUNTIME_UNITS / name).write_text(UNIT)
    with sysd.connect() as sd:
        sd.daemon_reload()
        changes = sd.ensure(names, active=True, enabled=True)
        assert all(c.ok for c in changes)


def tear_down(names: list[str]) -> None:
    with sysd.connect() as sd:
        sd.ensure(names, active=False, enabled=False)
        for name in names:
            (RUNTIME_UNITS / name).unlink(missing_ok=True)
        sd.daemon_reload()


def timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def contenders(
    names: list[str], ansible: str | None, workdir: Path
) -> dict[str, Callable[[], None]]:
    sd = sysd.connect()
    loop = asyncio.new_event_loop()
    asd = loop.run_until_complete(sysd.aio.connect())

    def blocking() -> None:
        changes = sd.ensure(names, active=True, enabled=True)
        assert not any(c.changed for c in changes) and all(c.ok for c in changes)

    def aio() -> None:
        changes = loop.run_until_complete(asd.ensure(names, active=True, enabled=True))
        assert not any(c.changed for c in changes) and all(c.ok for c in changes)

    def cli() -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "sysd", "ensure", *names, "--active", "--enabled"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.count(": unchanged\n") == len(names), proc.stdout[:500]

    script = "".join(
        f"systemctl is-active -q {n} && systemctl is-enabled -q {n} || exit 1\n" for n in names
    )

    def shell() -> None:
        subprocess.run(["bash", "-c", script], check=True)

    out: dict[str, Callable[[], None]] = {
        "sysd `sd.ensure()` (blocking, open connection)": blocking,
        "sysd `await sd.ensure()` (asyncio, open connection)": aio,
        "`sysd ensure U... --active --enabled` (one process)": cli,
        "shell loop: `systemctl is-active -q U && systemctl is-enabled -q U`": shell,
    }
    if ansible:
        play = workdir / "play.yml"
        play.write_text(PLAY.format(units="[" + ", ".join(names) + "]"))

        def run_ansible() -> None:
            env = {
                **os.environ,
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_HOME": str(workdir),
                # the modules run with ansible-core's own Python (no interpreter discovery)
                "ANSIBLE_PYTHON_INTERPRETER": str(Path(ansible).absolute().with_name("python")),
            }
            proc = subprocess.run(
                [ansible, "-i", "localhost,", "-c", "local", str(play)],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
            recap = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)", proc.stdout)
            assert recap and recap.group(2) == "0", proc.stdout[-1000:]

        out["Ansible `ansible.builtin.systemd_service` (`-c local`, one looped task)"] = run_ansible
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--ansible", help="path of ansible-playbook (ansible-core)")
    args = parser.parse_args()
    names = [f"bench-ensure-{i:03d}.service" for i in range(args.units)]
    set_up(names)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runs = contenders(names, args.ansible, Path(tmp))
            times: dict[str, list[float]] = {label: [] for label in runs}
            labels = list(runs)
            for fn in runs.values():
                fn()  # warm-up, and the checks once before timing
            for rep in range(args.reps):
                order = labels[rep % len(labels) :] + labels[: rep % len(labels)]
                for label in order:
                    if label.startswith("Ansible") and times[label]:
                        continue  # one timed repetition is enough for seconds-long runs
                    times[label].append(timed(runs[label]))
    finally:
        tear_down(names)
    medians = {label: statistics.median(t) for label, t in times.items()}
    base = medians[labels[0]]
    print(f"| {args.units} converged units, one pass | wall time (median) | per unit | "
          "vs sysd blocking | all runs |")  # fmt: skip
    print("|---|---:|---:|---:|---|")
    for label, median in medians.items():
        all_runs = ", ".join(f"{t * 1000:.0f}" for t in times[label])
        print(
            f"| {label} | {median * 1000:,.1f} ms | {median / args.units * 1000:.2f} ms | "
            f"{median / base:.1f}x | {all_runs} ms |"
        )


if __name__ == "__main__":
    main()
