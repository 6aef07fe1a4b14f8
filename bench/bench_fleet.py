"""Status of one unit on 1, 5 and 20 hosts: sysd vs ``systemctl -H`` in a shell loop, vs
``parallel-ssh`` running ``systemctl is-active``, vs Ansible ad-hoc
``ansible.builtin.systemd_service`` (issue 14), plus a scale test of up to 200
connections.

Run it as root on the host (it boots the lead's SSH lab: ``sysd.sandbox.SshLab``, one
real systemd behind a real sshd per host, reached by the real ``ssh`` client through a
``ProxyCommand``, no network)::

    bash bench/run_fleet.sh            # or, by hand:
    .venv/bin/python bench/bench_fleet.py run --hosts 1,5,20 --reps 3 \\
        --scale 20,40,100,200 --json bench/fleet.json
    .venv/bin/python bench/bench_fleet.py render bench/fleet.json --results bench/RESULTS.md

Every contender runs as its own client process, cold (no ssh connection kept from a
previous run), and must report the unit active on every host, else the script fails:

* sysd: ``sysd.aio.fleet(hosts).is_active(unit)`` when this sysd has it, else one
  ``sysd.aio.connect(host=...)`` per host, concurrently, and ``unit.active_state()``;
  a Python process started for it (its start and ``import sysd`` are in the time; the
  time inside the process is shown too);
* ``for h in ...; do systemctl -H "$h" is-active UNIT; done``;
* ``parallel-ssh -p 20 -H "h1 ..." -i systemctl is-active UNIT`` (Debian's pssh);
* ``ansible all -i INVENTORY -f 20 -m ansible.builtin.systemd_service -a name=UNIT``
  (ansible-core from PyPI; the remote module runs under the hosts' /usr/bin/python3).

The lab's ssh configuration reaches everyone the same way: ``ssh`` on PATH is a
two-line wrapper adding ``-F LAB_CONFIG`` (sysd and systemctl run ``ssh`` from PATH),
``parallel-ssh -x "-F LAB_CONFIG"``, Ansible's ``ansible_ssh_common_args``.  Ansible
keeps its default ssh multiplexing within a run (ControlPersist shortened to 2 s so
that no master outlives its run into the next measurement).

Client memory: the peak, sampled every 10 ms, of the summed RSS of the client's process
tree (the client and its ssh processes; what runs behind an ssh's ProxyCommand stands
for the remote host and is not counted).  Summed RSS counts shared library pages once
per process: an upper bound, the same for every contender.

Scale: M connections (M up to 200) spread over the lab's hosts, several per host, all
opened at once by one sysd client process that reads ActiveState on each: time and
peak client memory as M grows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pycache import use_bytecode_cache

UNIT = "systemd-journald.service"
PAGE = os.sysconf("SC_PAGE_SIZE")
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SECTION = "## Fleet: status of one unit on N hosts over ssh"

# ------------------------------------------------------------------ the sysd client


async def _client(unit: str, hosts: list[str], repeat: int, timeout: float) -> dict[str, Any]:
    """In the client process: the unit's ActiveState on every host (``repeat``
    connections to each); how long it took and how it was done.  ``timeout``: each
    connection's deadline (sysd's default is 25 s)."""
    import sysd.aio

    start = time.perf_counter()
    fleet = getattr(sysd.aio, "fleet", None)
    if fleet is not None and repeat == 1:
        how = "sysd.aio.fleet(hosts).is_active(unit)"
        async with fleet(hosts, concurrency=max(64, len(hosts))) as f:
            result = await f.is_active(unit)  # per host: True/False or its typed error
            answers = ["active" if v is True else repr(v) for _, v in result.items()]
    else:
        how = "asyncio.gather(sysd.aio.connect(host=h) ... unit.active_state())"

        async def one(host: str) -> str:
            async with await sysd.aio.connect(host=host, timeout=timeout) as sd:
                unit_ = await sd.unit(unit)
                return await unit_.active_state()

        targets = [h for h in hosts for _ in range(repeat)]
        results = await asyncio.gather(*(one(h) for h in targets), return_exceptions=True)
        answers = [r if isinstance(r, str) else f"{type(r).__name__}: {r}" for r in results]
    return {"seconds": time.perf_counter() - start, "answers": answers, "how": how}


def client_main(argv: Sequence[str]) -> None:
    p = argparse.ArgumentParser(prog="bench_fleet.py client")
    p.add_argument("--unit", default=UNIT)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--timeout", type=float, default=25.0)
    p.add_argument("hosts", nargs="+")
    a = p.parse_args(argv)
    print(json.dumps(asyncio.run(_client(a.unit, a.hosts, a.repeat, a.timeout))))


# ----------------------------------------------------------------- measuring


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> int:
    """Summed RSS of ``root`` and its descendants, without what an ssh client runs as
    its ProxyCommand (the lab's stand-in for the remote host: nsenter, sshd, ...)."""
    kids = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss(pid)
        is_ssh = _comm(pid) == "ssh"
        for child in kids.get(pid, []):
            if is_ssh and _comm(child) != "ssh":
                continue  # a ProxyCommand: the remote side
            todo.append(child)
    return total


def measure(argv: list[str], env: dict[str, str], timeout: float = 600) -> dict[str, Any]:
    """Run a client process: wall time, peak client memory (sampled), CPU seconds of the
    process tree it reaped (client *and* the lab's server side behind ProxyCommand), its
    stdout."""
    peak = 0
    done = threading.Event()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"seconds": seconds, "rss": peak, "cpu": cpu, "rc": proc.returncode, "out": out,
            "err": err}  # fmt: skip


# ---------------------------------------------------------------- contenders


class Contenders:
    def __init__(self, lab: Any, unit: str, scratch: Path) -> None:
        self.lab = lab
        self.unit = unit
        self.scratch = scratch
        wrappers = scratch / "bin"
        wrappers.mkdir()
        ssh = wrappers / "ssh"
        ssh.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F "{lab.ssh_config}" "$@"\n')
        ssh.chmod(0o755)
        self.env = os.environ | {
            "PATH": f"{wrappers}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "LC_ALL": "C.UTF-8",
            "PYTHONWARNINGS": "ignore",
        }
        self.runs = 0

    def sysd(
        self, hosts: list[str], repeat: int = 1, timeout: float | None = None
    ) -> dict[str, Any]:
        r = measure(
            [sys.executable, str(HERE / "bench_fleet.py"), "client", "--unit", self.unit,
             "--repeat", str(repeat), *(["--timeout", str(timeout)] if timeout else []),
             *hosts],
            self.env,
        )  # fmt: skip
        _check(r, "sysd")
        inner = json.loads(r["out"])
        answers = inner["answers"]
        if timeout is None:
            _expect(answers, len(hosts) * repeat, "sysd")
        errors = [a for a in answers if a != "active"]
        return r | {"inner": inner["seconds"], "how": inner["how"], "errors": errors}

    def systemctl_loop(self, hosts: list[str]) -> dict[str, Any]:
        script = 'for h in "$@"; do systemctl -H "$h" is-active "$UNIT"; done'
        r = measure(["/bin/sh", "-c", script, "sh", *hosts], self.env | {"UNIT": self.unit})
        _check(r, "systemctl -H loop")
        _expect(r["out"].split(), len(hosts), "systemctl -H loop")
        return r

    def pssh(self, hosts: list[str]) -> dict[str, Any]:
        r = measure(
            ["parallel-ssh", "-p", "20", "-t", "120", "-x", f"-F {self.lab.ssh_config}",
             "-H", " ".join(hosts), "-i", "systemctl", "is-active", self.unit],
            self.env,
        )  # fmt: skip
        _check(r, "parallel-ssh")
        lines = [ln for ln in r["out"].splitlines() if not ln.startswith("[")]
        _expect(lines, len(hosts), "parallel-ssh")
        return r

    def ansible(self, hosts: list[str]) -> dict[str, Any]:
        self.runs += 1
        run = self.scratch / f"ansible-{self.runs}"
        run.mkdir()
        inventory = run / "hosts.ini"
        inventory.write_text(
            "\n".join(hosts)
            + f"\n\n[all:vars]\nansible_ssh_common_args='-F {self.lab.ssh_config}'\n"
            "ansible_python_interpreter=/usr/bin/python3\n"
        )
        env = self.env | {
            "ANSIBLE_LOCAL_TEMP": str(run / "local"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(run / "cp"),
            "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=2s",
            "ANSIBLE_NOCOLOR": "1",
        }
        r = measure(
            [str(BIN / "ansible"), "all", "-i", str(inventory), "-f", "20", "-o",
             "-m", "ansible.builtin.systemd_service", "-a", f"name={self.unit}"],
            env,
        )  # fmt: skip
        _check(r, "ansible")
        ok = [ln for ln in r["out"].splitlines() if " | SUCCESS " in ln]
        states = ['"ActiveState": "active"' in ln for ln in ok]
        if len(ok) != len(hosts) or not all(states):
            raise SystemExit(f"ansible: not every host answered active:\n{r['out'][-3000:]}")
        return r


def _check(r: dict[str, Any], who: str) -> None:
    if r["rc"] != 0:
        raise SystemExit(f"{who} failed (exit {r['rc']}):\n{r['out'][-2000:]}\n{r['err'][-2000:]}")


def _expect(answers: Sequence[str], n: int, who: str) -> None:
    if len(answers) != n or any(a != "active" for a in answers):
        raise SystemExit(f"{who}: expected {n} x active, got {list(answers)[:25]}")


# ------------------------------------------------------------------------ run


def run_main(argv: Sequence[str]) -> None:
    p = argparse.ArgumentParser(prog="bench_fleet.py run")
    p.add_argument("--hosts", default="1,5,20", help="host counts, e.g. 1,5,20")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument(
        "--scale", default="20,40,100,200", help="connection counts (multiples of the lab size)"
    )
    p.add_argument("--unit", default=UNIT)
    p.add_argument("--json", default=str(HERE / "fleet.json"))
    p.add_argument("--no-ansible", action="store_true")
    p.add_argument("--scale-timeout", type=float, default=120.0,
                   help="each scale-test connection's deadline, seconds")  # fmt: skip
    a = p.parse_args(argv)
    counts = [int(x) for x in a.hosts.split(",")]
    scale = [int(x) for x in a.scale.split(",") if x]

    from sysd.errors import SandboxError
    from sysd.sandbox import SshLab

    results: dict[str, Any] = {
        "unit": a.unit,
        "reps": a.reps,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": os.getloadavg(),
        },
        "versions": _versions(),
        "status": {},
        "scale": [],
        "command": " ".join(["bench/bench_fleet.py", "run", *argv]),
    }
    use_bytecode_cache()
    booted = time.perf_counter()
    lab = SshLab(n=max(counts), special=False).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results["lab_boot_seconds"] = time.perf_counter() - booted
            _measure_all(lab, a, counts, scale, results, Path(tmp))
    finally:
        try:
            lab.close()
        except SandboxError as exc:  # the lab's teardown: reported, the numbers stand
            results["teardown"] = str(exc)
            print(f"note: {exc}", file=sys.stderr)
    results["machine"]["load_after"] = os.getloadavg()
    Path(a.json).write_text(json.dumps(results, indent=1) + "\n")
    print(render(results))


def _measure_all(
    lab: Any, a: argparse.Namespace, counts: list[int], scale: list[int],
    results: dict[str, Any], tmp: Path,
) -> None:  # fmt: skip
    c = Contenders(lab, a.unit, tmp)
    names: list[tuple[str, Callable[[list[str]], dict[str, Any]]]] = [
        ("sysd", c.sysd),
        ("systemctl -H loop", c.systemctl_loop),
        ("parallel-ssh", c.pssh),
    ]
    if not a.no_ansible:
        names.append(("ansible ad-hoc", c.ansible))
    # warm-up: every host answered once by ssh and by sysd (first-touch costs of the
    # fresh sandboxes are not what is measured), and every Python contender's bytecode
    # written to the cache (use_bytecode_cache)
    c.systemctl_loop(lab.hosts)
    c.sysd(lab.hosts)
    if not a.no_ansible:
        c.ansible(lab.hosts[:1])
    for n in counts:
        hosts = lab.hosts[:n]
        per: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in names}
        for rep in range(a.reps):
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for name, fn in order:
                r = fn(hosts)
                per[name].append(
                    {k: r[k] for k in ("seconds", "rss", "cpu") if k in r}
                    | ({"inner": r["inner"], "how": r["how"]} if "inner" in r else {})
                )
                mib = r["rss"] / 2**20
                print(f"N={n} rep={rep} {name}: {r['seconds']:.3f} s {mib:.1f} MiB "
                      f"cpu {r['cpu']:.2f} s", file=sys.stderr)  # fmt: skip
        results["status"][str(n)] = per
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n")  # partial results
    for m in scale:
        hosts = lab.hosts
        repeat = max(1, m // len(hosts))
        total = repeat * len(hosts)
        r = c.sysd(hosts, repeat=repeat, timeout=a.scale_timeout)
        results["scale"].append(
            {"connections": total, "per_host": repeat, "seconds": r["seconds"],
             "inner": r["inner"], "rss": r["rss"], "cpu": r["cpu"],
             "failed": len(r["errors"]), "errors": sorted(set(r["errors"]))[:5]}
        )  # fmt: skip
        print(f"scale {total}: {r['seconds']:.3f} s {r['rss'] / 2**20:.1f} MiB "
              f"cpu {r['cpu']:.1f} s failed {len(r['errors'])}", file=sys.stderr)  # fmt: skip
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n")  # partial results


def _versions() -> dict[str, str]:
    def out(argv: list[str]) -> str:
        try:
            text = subprocess.run(argv, capture_output=True, text=True, check=False)
            return (text.stdout or text.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    return {
        "ssh": out(["ssh", "-V"]),
        "systemctl": out(["systemctl", "--version"]),
        "parallel-ssh": out(["parallel-ssh", "--version"]),
        "ansible": out([str(BIN / "ansible"), "--version"]),
        "sysd": out(["git", "-C", str(HERE.parent), "rev-parse", "--short=12", "HEAD"]),
    }


# ---------------------------------------------------------------------- render


def _med(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def render(res: dict[str, Any]) -> str:
    status = res["status"]
    counts = sorted(status, key=int)
    names = list(status[counts[0]])
    mib = 2**20
    lines = [
        SECTION,
        "",
        f"Command: `.venv/bin/python {res['command']}` (as root; `bash bench/run_fleet.sh`).",
        f"Unit `{res['unit']}`; median of {res['reps']} runs per cell, contenders rotated;"
        f" each a cold client process. {res['machine']['cpus']} CPUs shared with other work"
        f" (load average {res['machine']['load_before'][0]:.1f} before,"
        f" {res['machine'].get('load_after', [float('nan')])[0]:.1f} after); lab boot"
        f" {res['lab_boot_seconds']:.0f} s. Versions: {res['versions']['ansible']},"
        f" {res['versions']['ssh']}, {res['versions']['systemctl']},"
        f" parallel-ssh {res['versions']['parallel-ssh']}, sysd {res['versions']['sysd']}.",
        "",
        "Wall time, seconds (sysd: whole process; in brackets: inside it, after"
        " start-up and `import sysd`):",
        "",
        "| contender | "
        + " | ".join(f"{n} host{'s' if n != '1' else ''}" for n in counts)
        + f" | {counts[-1]} vs 1 |",
        "|---|" + "---:|" * (len(counts) + 1),
    ]
    for name in names:
        cells = []
        for n in counts:
            rows = status[n][name]
            cell = f"{_med(rows, 'seconds'):.3f}"
            if name == "sysd":
                cell += f" ({_med(rows, 'inner'):.3f})"
            cells.append(cell)
        growth = _med(status[counts[-1]][name], "seconds") / _med(
            status[counts[0]][name], "seconds"
        )
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {growth:.2f}x |")
    lines += ["", "Ratios (contender time / sysd time, same run):", ""]
    lines.append("| contender | " + " | ".join(counts) + " |")
    lines.append("|---|" + "---:|" * len(counts))
    for name in names[1:]:
        cells = [
            f"{_med(status[n][name], 'seconds') / _med(status[n]['sysd'], 'seconds'):.1f}x"
            for n in counts
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Peak client memory (summed RSS of the client's process tree), MiB:", ""]
    lines.append("| contender | " + " | ".join(counts) + " | per extra host |")
    lines.append("|---|" + "---:|" * (len(counts) + 1))
    for name in names:
        peaks = [_med(status[n][name], "rss") / mib for n in counts]
        extra = (peaks[-1] - peaks[0]) / max(1, int(counts[-1]) - int(counts[0]))
        lines.append(f"| {name} | " + " | ".join(f"{x:.1f}" for x in peaks) + f" | {extra:.1f} |")
    lines += [
        "",
        "CPU seconds (user + system) of each run's process tree: the client *and* the"
        " lab's server side (ssh's ProxyCommand: nsenter, sshd, the bridge or the remote"
        " command), all on this machine's CPUs:",
        "",
    ]
    lines.append("| contender | " + " | ".join(counts) + " |")
    lines.append("|---|" + "---:|" * len(counts))
    for name in names:
        lines.append(
            f"| {name} | " + " | ".join(f"{_med(status[n][name], 'cpu'):.2f}" for n in counts)
            + " |"
        )  # fmt: skip
    how = status[counts[0]]["sysd"][0].get("how", "")
    lines += ["", f"sysd client: `{how}`.", ""]
    if res["scale"]:
        lines += [
            "Scale: M connections from one sysd client process, spread over the lab's"
            " hosts (several per host), all opened at once, ActiveState read on each:",
            "",
            "| connections | per host | seconds (inside) | peak client MiB | MiB per"
            " connection | CPU s (client + server) | failed |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in res["scale"]:
            lines.append(
                f"| {s['connections']} | {s['per_host']} | {s['seconds']:.2f}"
                f" ({s['inner']:.2f}) | {s['rss'] / mib:.0f} |"
                f" {s['rss'] / mib / s['connections']:.2f} | {s.get('cpu', 0):.1f} |"
                f" {s.get('failed', 0)} |"
            )
            if s.get("errors"):
                lines.append(f"|  |  | errors: {'; '.join(s['errors'])[:200]} |  |  |  |  |")
        lines.append("")
    # targets
    one, many = counts[0], counts[-1]
    sysd_growth = _med(status[many]["sysd"], "seconds") / _med(status[one]["sysd"], "seconds")
    lines.append(
        f"Target: {many} hosts within 1.5x of one host's time: sysd {sysd_growth:.2f}x"
        f" ({'met' if sysd_growth <= 1.5 else 'MISSED'})."
    )
    if "ansible ad-hoc" in names:
        worst = min(
            _med(status[n]["ansible ad-hoc"], "seconds") / _med(status[n]["sysd"], "seconds")
            for n in counts
        )
        lines.append(
            f"Target: >= 10x faster than Ansible ad-hoc: {worst:.1f}x at worst"
            f" ({'met' if worst >= 10 else 'MISSED'})."
        )
    return "\n".join(lines) + "\n"


def render_main(argv: Sequence[str]) -> None:
    p = argparse.ArgumentParser(prog="bench_fleet.py render")
    p.add_argument("json")
    p.add_argument("--results", help="rewrite this section of this RESULTS.md")
    p.add_argument("--notes", default="", help="a paragraph appended to the section")
    a = p.parse_args(argv)
    text = render(json.loads(Path(a.json).read_text()))
    if a.notes:
        text += "\n" + a.notes.strip() + "\n"
    if not a.results:
        print(text)
        return
    path = Path(a.results)
    doc = path.read_text()
    if SECTION in doc:
        start = doc.index(SECTION)
        nxt = doc.find("\n## ", start + len(SECTION))
        doc = doc[:start] + text + ("\n" + doc[nxt + 1 :] if nxt >= 0 else "")
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    path.write_text(doc)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "render", "client"):
        raise SystemExit("usage: bench_fleet.py run|render|client ... (see the docstring)")
    {"run": run_main, "render": render_main, "client": client_main}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
