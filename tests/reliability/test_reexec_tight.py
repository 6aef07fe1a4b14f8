"""PID 1 re-executed back to back during 50 concurrent waits (issue 11; RELIABILITY.md 22, 50).

Is a storm with no gap between reexecs a fair test?  What systemd 252 does:

* ``Manager.Reexecute`` sends no reply (``method_reexecute()`` in dbus-manager.c only
  sets ``m->objective = MANAGER_REEXECUTE``).  The manager serializes and executes
  itself; its bus connections' fds are passed to the new process, which never reads them
  and closes them "at the very end of deserialization, making it possible for clients to
  synchronously wait for systemd to reexec by simply waiting for disconnection"
  (``bus_fdset_add_all()`` in dbus.c).  ``systemctl daemon-reexec`` does exactly that: it
  returns on the disconnect (``daemon_reload()`` in systemctl-daemon-reload.c).
* A Reexecute sent while a reexec is under way is therefore not queued: dbus-daemon
  delivers it to the old connection, which nobody reads, and answers NoReply ("Message
  recipient disconnected") when the new manager closes it; on the private socket a new
  connection is refused until the new manager listens again.  Measured here
  (``test_a_reexecute_sent_during_a_reexec_is_lost``): two Reexecute calls 50 ms apart
  give one reexec, and both callers get NoReply.  A storm that does not wait between
  reexecs mostly re-executes nothing, and nobody can tell: not a fair test.
* The least gap that is fair is waiting until the manager answers again, which
  ``sd.daemon_reexec()`` does (the disconnect, then a Ping that systemd answers).  Each
  reexec takes systemd itself 0.3-0.5 s in the sandbox on 2 busy cores.

The storms in test_reexec.py run inside the suite's sandbox and keep 0.3-0.6 s between
reexecs for another reason: the sandbox's test runner is ``systemd-run --wait``, which
reads its unit again after each reexec and gives up (ending the test session) when the
next reexec cuts that read.  Here the tests run on the host against a sandbox of their
own, so the storm is back to back: each reexec as soon as the manager answers again.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import open_fds

import sysd
import sysd.aio
import sysd.sandbox

pytestmark = [
    pytest.mark.host,
    pytest.mark.skipif(os.geteuid() != 0, reason="booting a sandbox needs root"),
]

REEXECS = 6


@pytest.fixture(scope="module")
def sb() -> Iterator[sysd.sandbox.Sandbox]:
    # the checkout bound in: the private-socket case runs this interpreter inside (its
    # venv lives in the checkout, which may be under /tmp, private to the sandbox)
    root = Path(__file__).resolve().parents[2]
    with sysd.sandbox.Sandbox(name=f"sysd-h3-reexec-{uuid.uuid4().hex[:6]}", binds=[root]) as box:
        yield box


def _sh(sb: sysd.sandbox.Sandbox, script: str) -> str:
    return sb.exec(["sh", "-c", script], capture=True, check=True, timeout=60).stdout


def _reexecs(sb: sysd.sandbox.Sandbox) -> int:
    """How many times PID 1 re-executed since boot (its own "Reexecuting." lines)."""
    out = _sh(sb, "journalctl -b _PID=1 -o cat --no-pager | grep -c '^Reexecuting' || true")
    return int(out.strip() or 0)


def _units(sb: sysd.sandbox.Sandbox, tag: str, n: int) -> list[str]:
    """``n`` oneshots sleeping 0.3-3 s; every other one then exits with status 3."""
    rng = random.Random(n)
    names = []
    script = []
    for i in range(n):
        name = f"sysdr-tight{i}-{tag}.service"
        delay = rng.uniform(0.3, 3.0)
        cmd = f"/bin/sleep {delay:.2f}" if i % 2 else f"/bin/sh -c 'sleep {delay:.2f}; exit 3'"
        text = f"[Service]\nType=oneshot\nExecStart={cmd}\n"
        script.append(f"cat > /run/systemd/system/{name} <<'END'\n{text}END\n")
        names.append(name)
    script.append("systemctl daemon-reload\n")
    sb.exec(["sh"], input="".join(script), capture=True, check=True, timeout=60)
    return names


def _truth(sb: sysd.sandbox.Sandbox, names: list[str]) -> dict[str, tuple[str, int]]:
    out = _sh(sb, "systemctl show -p Id -p Result -p ExecMainStatus " + " ".join(names))
    truth = {}
    for block in out.strip().split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines())
        truth[props["Id"]] = (props["Result"], int(props["ExecMainStatus"]))
    return truth


def _cleanup(sb: sysd.sandbox.Sandbox, tag: str) -> None:
    _sh(
        sb,
        f"systemctl stop 'sysdr-*{tag}*' 2>/dev/null; systemctl reset-failed 'sysdr-*{tag}*' "
        f"2>/dev/null; rm -f /run/systemd/system/sysdr-*{tag}*; systemctl daemon-reload; true",
    )


def _storm(address: str, stop: threading.Event, took: list[float], delay: float = 0.0) -> None:
    """Back to back: each reexec as soon as the manager answers again."""
    time.sleep(delay)
    with sysd.connect(address=address) as sd:
        for _ in range(REEXECS):
            if stop.is_set():
                return
            started = time.monotonic()
            sd.daemon_reexec(timeout=60)
            took.append(time.monotonic() - started)


# The waits over the private socket run inside the sandbox: from the host, its private
# socket refuses to authenticate us.  A process entered with nsenter, not a unit: a
# reexec does not touch it (only systemd-run --wait, as the suite's runner, would care).
_INSIDE = """
import asyncio, json, sys
import sysd, sysd.aio

async def main():
    async with sysd.aio.connect(private=True) as sd:
        units = [await sd.unit(n) for n in sys.argv[1:]]
        got = await asyncio.gather(*(u.start(timeout=90) for u in units), return_exceptions=True)
        sub = sd._subscription
        clean = (sub.holders, sub.active, len(sub.watched), sub.pending_jobs) == (0, False, 0, 0)
        reconnects = sub.reconnects
    out = []
    for r in got:
        if isinstance(r, sysd.JobFailedError):
            out.append(["failed", r.service_result, r.exit_code])
        elif isinstance(r, BaseException):
            out.append(["error", repr(r)])
        else:
            out.append(["done", r.result])
    print(json.dumps({"results": out, "clean": clean, "reconnects": reconnects}))

asyncio.run(main())
"""


def _wrong(truth: dict[str, tuple[str, int]], name: str, got: object) -> object:
    """None when ``got`` is what systemd says of the unit, else what differs."""
    want = truth[name]
    expected = ["done", "done"] if want[0] == "success" else ["failed", *want]
    return None if got == expected else (name, want, got)


def _outcome(got: object) -> object:
    if isinstance(got, sysd.JobFailedError):
        return ["failed", got.service_result, got.exit_code]
    if isinstance(got, BaseException):
        return ["error", repr(got)]
    return ["done", getattr(got, "result", None)]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("private", [False, True], ids=["bus", "private"])
def test_back_to_back_reexec_storm_during_50_waits(sb: sysd.sandbox.Sandbox, private: bool) -> None:
    """50 waits (oneshots of 0.3-3 s, every other failing with status 3) while PID 1
    re-executes REEXECS times back to back: every reexec happened (journal), every wait
    ends with what systemd says of its unit, nothing is left subscribed or counted."""
    tag = uuid.uuid4().hex[:8]
    names = _units(sb, tag, 50)
    before = open_fds()
    first = _reexecs(sb)
    took: list[float] = []
    stop = threading.Event()

    async def main() -> list[object]:
        async with asyncio.timeout(120):
            async with sysd.aio.connect(address=sb.bus_address) as sd:
                units = [await sd.unit(n) for n in names]
                storm = threading.Thread(target=_storm, args=(sb.bus_address, stop, took))
                storm.start()
                try:
                    results = await asyncio.gather(
                        *(u.start(timeout=90) for u in units), return_exceptions=True
                    )
                finally:
                    await asyncio.to_thread(storm.join)
                sub = sd._subscription
                assert (sub.holders, sub.active, sub.watched, sub.pending_jobs) == (
                    0,
                    False,
                    {},
                    0,
                )
                assert {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} == set()
            return results

    try:
        if private:
            # the storm starts once the inner process is connected and waiting (~1 s)
            storm = threading.Thread(target=_storm, args=(sb.bus_address, stop, took, 1.5))
            storm.start()
            try:
                out = sb.exec(
                    [sys.executable, "-c", _INSIDE, *names], capture=True, check=True, timeout=150
                ).stdout
            finally:
                storm.join(120)
            report = json.loads(out.strip().splitlines()[-1])
            assert report["clean"]
            assert report["reconnects"] >= 1  # the storm did cut its connection
            outcomes = report["results"]
        else:
            outcomes = [_outcome(g) for g in asyncio.run(main())]
        print(f"reexecs took {[round(t, 2) for t in took]} s")
        # every reexec asked for happened: none was lost in another one
        assert len(took) == REEXECS
        assert _reexecs(sb) - first == REEXECS
        truth = _truth(sb, names)
        wrong = [_wrong(truth, n, g) for n, g in zip(names, outcomes, strict=True)]
        assert [w for w in wrong if w is not None] == []
        assert open_fds() == before
    finally:
        stop.set()
        _cleanup(sb, tag)


def test_a_reexecute_sent_during_a_reexec_is_lost(sb: sysd.sandbox.Sandbox) -> None:
    """Why a storm must wait for the manager between reexecs: the measurement."""
    first = _reexecs(sb)
    got: list[object] = []

    def reexecute(delay: float) -> None:
        time.sleep(delay)
        with sysd.connect(address=sb.bus_address) as sd:
            try:
                sd.manager_call("Reexecute", timeout=30)
                got.append("reply")
            except (sysd.BusError, sysd.DBusError) as exc:  # NoReply: recipient disconnected
                got.append(type(exc).__name__)

    threads = [threading.Thread(target=reexecute, args=(d,)) for d in (0.0, 0.05)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with sysd.connect(address=sb.bus_address) as sd:
        sd.daemon_reexec(timeout=60)  # one more, waited for: the manager is back after it
    print(f"two Reexecute 50 ms apart: {got}")
    assert got == ["NoReplyError", "NoReplyError"]
    assert _reexecs(sb) - first == 2  # the first and the last: the second call was lost
