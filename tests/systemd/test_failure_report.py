"""Failure reports against the real systemd: each failure names its step, and carries
exactly the failing invocation's journal lines (issue 13).

Every unit prints a counter, and is started twice: the report must show the second
run's lines only.  Where the report's lines are compared with journalctl, journalctl
is asked for the same invocation (``_SYSTEMD_INVOCATION_ID`` + ``INVOCATION_ID``).
"""

from __future__ import annotations

import asyncio
import pickle
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from throwaway_units import Units

import sysd
from sysd.errors import (
    JobAssertError,
    JobCanceledError,
    JobDependencyError,
    JobError,
    JobFailedError,
    JournalNotFoundError,
    RunFailedError,
)

COUNTER = (
    "/bin/sh -c 'f=/run/sysdt-{tag}-%N.count; n=$$(($$(cat $$f 2>/dev/null || echo 0) + 1)); "
    'echo $$n > $$f; echo "%N run $$n"; exit %E\''
)


def counted(name: str, status: int) -> str:
    """A command printing ``NAME run N`` (N counts its runs), then exiting ``status``."""
    return COUNTER.replace("%N", name).replace("%E", str(status))


def messages(report: sysd.FailureReport) -> list[str]:
    return [line.text for line in report.logs]


def journalctl_invocation(invocation: str, lines: int = 10) -> list[str]:
    proc = subprocess.run(
        ["journalctl", "-q", "-o", "short", "-n", str(lines),
         f"_SYSTEMD_INVOCATION_ID={invocation}", "+", f"INVOCATION_ID={invocation}", "_PID=1"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return proc.stdout.splitlines(keepends=True)


def same_as_journalctl(report: sysd.FailureReport) -> None:
    """The report's lines are journalctl's for the invocation, plus (when journald read a
    line only after its process had exited, too late to tag it with the invocation) lines
    of the failed step's process."""
    assert report.invocation_id is not None and report.failed_step is not None
    theirs = journalctl_invocation(report.invocation_id)
    ours = messages(report)
    assert set(theirs) <= set(ours)
    extra = [line for line in ours if line not in theirs]
    assert all(f"[{report.failed_step.pid}]: " in line for line in extra), extra


def fail_twice(sd: sysd.Systemd, name: str, error: type[JobError] = JobFailedError) -> JobError:
    """Start the unit twice (both fail); the second error."""
    unit = sd.unit(name)
    with pytest.raises(error):
        unit.start()
    with pytest.raises(error) as info:
        unit.start()
    return info.value


def test_failing_exec_start_pre(sd: sysd.Systemd, units: Units) -> None:
    name = units.add(
        "pre",
        f"[Service]\nType=exec\nExecStartPre={counted('pre', 4)}\nExecStart=/bin/sleep 60\n",
    )
    units.reload()
    error = fail_twice(sd, name)
    report = error.report
    assert report is not None and report.unit == name
    assert report.job_result == "failed" and report.job_type == "start"
    assert report.job_id == error.job_id and report.ran is True
    assert report.result == "exit-code" and report.active_state == "failed"
    step = report.failed_step
    assert step is not None and step.name == "ExecStartPre"
    assert (step.code, step.status) == (1, 4)
    assert report.invocation_id == sd.unit(name).status().invocation_id.hex  # type: ignore[union-attr]
    text = "".join(messages(report))
    assert "pre run 2" in text and "pre run 1" not in text
    assert report.logs_missing_reason is None
    same_as_journalctl(report)
    assert "ExecStartPre=" in report.render() and "(code=exited, status=4)" in report.render()


def test_failing_exec_start_oneshot(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("oneshot", f"[Service]\nType=oneshot\nExecStart={counted('oneshot', 3)}\n")
    units.reload()
    error = fail_twice(sd, name)
    report = error.report
    assert report is not None and report.failed_step is not None
    assert report.failed_step.name == "ExecStart" and report.failed_step.status == 3
    assert report.exit_code == 3 == error.exit_code
    text = "".join(messages(report))
    assert "oneshot run 2" in text and "oneshot run 1" not in text
    same_as_journalctl(report)


def test_failing_exec_start_type_exec(sd: sysd.Systemd, units: Units) -> None:
    # Type=exec: the start fails when ExecStart= cannot be executed (203/EXEC)
    name = units.add(
        "exec",
        f"[Service]\nType=exec\nExecStartPre={counted('exec', 0)}\n"
        "ExecStart=/nonexistent/sysdt-{tag}\n",
    )
    units.reload()
    error = fail_twice(sd, name)
    report = error.report
    assert report is not None and report.failed_step is not None
    assert report.failed_step.name == "ExecStart"
    assert (report.failed_step.code, report.failed_step.status) == (1, 203)
    assert "status=203/EXEC" in report.render()
    text = "".join(messages(report))
    assert "exec run 2" in text and "exec run 1" not in text, text


def test_failed_condition_is_reported_not_raised(sd: sysd.Systemd, units: Units) -> None:
    flag = Path(f"/run/sysdt-cond-{units.tag}.flag")
    name = units.add(
        "cond",
        f"[Unit]\nConditionPathExists={flag}\n"
        f"[Service]\nType=oneshot\nExecStart={counted('cond', 0)}\n",
    )
    units.reload()
    unit = sd.unit(name)
    flag.touch()
    try:
        unit.start()  # runs: "cond run 1"
    finally:
        flag.unlink()
    # the unit is unloaded as the job ends (inactive): the caller watching it keeps what
    # its signals said, and hands that to the report
    with sd.watch_unit(name) as watch:
        sent_at = time.monotonic()
        job = unit.start()  # the condition fails: not an error
        assert job.result == "done"
        from sysd._sync.report import failure_report

        report = failure_report(
            sd, name, job_id=job.id, job_type="start", job_result="done",
            sent_at=sent_at, seen=dict(watch.props),
        )  # fmt: skip
    assert report.condition_result is False
    assert report.failed_conditions == (f"ConditionPathExists={flag}",)
    assert report.failed_step is None and report.ran is False
    text = "".join(messages(report))
    assert "cond run 1" not in text  # the earlier run is not this job's
    assert "skipped because of an unmet condition check" in text
    assert "condition failed" in report.render()


def test_failed_assert(sd: sysd.Systemd, units: Units) -> None:
    flag = Path(f"/run/sysdt-assert-{units.tag}.flag")
    name = units.add(
        "assert",
        f"[Unit]\nAssertPathExists={flag}\n"
        f"[Service]\nType=oneshot\nExecStart={counted('assert', 0)}\n",
    )
    units.reload()
    unit = sd.unit(name)
    flag.touch()
    try:
        unit.start()
    finally:
        flag.unlink()
    with pytest.raises(JobAssertError) as info:
        unit.start()
    report = info.value.report
    assert report is not None and report.job_result == "assert"
    assert report.assert_result is False
    assert report.failed_asserts == (f"AssertPathExists={flag}",)
    assert report.ran is False and report.failed_step is None
    text = "".join(messages(report))
    assert "assert run 1" not in text
    assert "Assertion failed" in text
    assert "assertion failed" in report.render()


def test_start_limit_hit(sd: sysd.Systemd, units: Units) -> None:
    name = units.add(
        "limit",
        "[Unit]\nStartLimitIntervalSec=300\nStartLimitBurst=2\n"
        f"[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart={counted('limit', 0)}\n",
    )
    units.reload()
    unit = sd.unit(name)
    unit.start()  # run 1
    unit.restart()  # run 2
    with pytest.raises(JobFailedError) as info:
        unit.restart()  # refused: the start limit
    assert info.value.service_result == "start-limit-hit"
    report = info.value.report
    assert report is not None and report.result == "start-limit-hit"
    assert report.job_type == "restart" and report.ran is False
    assert report.failed_step is None
    text = "".join(messages(report))
    # the last run (the one that hit the limit) and the manager's refusal, not run 1
    assert "limit run 2" in text and "limit run 1" not in text
    assert "Start request repeated too quickly" in text


def test_start_limit_of_a_failed_unit(sd: sysd.Systemd, units: Units) -> None:
    # a unit that failed already keeps its Result (exit-code) when the limit refuses it
    name = units.add(
        "limitfail",
        "[Unit]\nStartLimitIntervalSec=300\nStartLimitBurst=2\n"
        f"[Service]\nType=oneshot\nExecStart={counted('limitfail', 1)}\n",
    )
    units.reload()
    error = fail_twice(sd, name)  # runs 1 and 2
    with pytest.raises(JobFailedError) as info:
        sd.unit(name).start()
    report = info.value.report
    assert report is not None and report.ran is False
    assert report.invocation_id == error.report.invocation_id  # type: ignore[union-attr]
    text = "".join(messages(report))
    assert "limitfail run 2" in text and "limitfail run 1" not in text
    assert "Start request repeated too quickly" in text


def test_dependency_failure(sd: sysd.Systemd, units: Units) -> None:
    flag = Path(f"/run/sysdt-dep-{units.tag}.flag")
    dep = units.add("dep", f"[Service]\nType=oneshot\nExecStart=/bin/test -e {flag}\n")
    name = units.add(
        "needs",
        f"[Unit]\nRequires={dep}\nAfter={dep}\n"
        f"[Service]\nType=oneshot\nExecStart={counted('needs', 0)}\n",
    )
    units.reload()
    flag.touch()
    try:
        sd.unit(name).start()  # "needs run 1"
    finally:
        flag.unlink()
    with pytest.raises(JobDependencyError) as info:
        sd.unit(name).start()
    report = info.value.report
    assert report is not None and report.job_result == "dependency"
    assert report.failed_dependencies == (dep,)
    assert report.ran is False
    text = "".join(messages(report))
    assert "needs run 1" not in text
    assert "Dependency failed" in text
    assert f"Failed dep: {dep}" in report.render()


def test_restart_and_reload_failures_carry_reports(sd: sysd.Systemd, units: Units) -> None:
    name = units.add(
        "reload",
        f"[Service]\nType=exec\nExecStart=/bin/sleep 300\nExecReload={counted('reload', 6)}\n",
    )
    units.reload()
    unit = sd.unit(name)
    unit.start()
    with pytest.raises(JobFailedError) as info:
        unit.reload()
    report = info.value.report
    assert report is not None and report.job_type == "reload"
    assert report.failed_step is not None and report.failed_step.name == "ExecReload"
    assert "reload run 1" in "".join(messages(report))


def test_canceled_job_reports_without_waiting_for_a_done_message(
    sd: sysd.Systemd, units: Units
) -> None:
    # systemd logs no message when a job is canceled: the report reads the journal once
    slow = units.add("slow", "[Service]\nType=oneshot\nExecStart=/bin/sleep 60\n")
    name = units.add(
        "queued", f"[Unit]\nAfter={slow}\n[Service]\nType=oneshot\nExecStart=/bin/true\n"
    )
    units.reload()
    # subscribed throughout, so the JobRemoved of the canceled job is seen
    with (
        sd.subscribed(),
        sd.unit(slow).start(wait=False) as first,
        sd.unit(name).start(wait=False) as job,
    ):
        job.cancel()  # still waiting for the slow one (After=)
        with pytest.raises(JobCanceledError) as info:
            job.wait()
        first.cancel()
    report = info.value.report
    assert report is not None and report.job_result == "canceled"
    assert report.ran is False and report.logs == ()
    assert report.logs_missing_reason == "none found"


def test_run_failed_error_carries_the_report(sd: sysd.Systemd) -> None:
    with pytest.raises(RunFailedError) as info:
        sd.run(["/bin/sh", "-c", "echo sysdt-run-output; exit 9"], wait=True, check=True)
    error = info.value
    report = error.report
    assert report is not None and report.unit == error.unit
    assert report.invocation_id == error.invocation_id.hex  # type: ignore[union-attr]
    assert report.result == "exit-code" and report.exit_code == 9
    assert any("sysdt-run-output" in line for line in messages(report))
    assert pickle.loads(pickle.dumps(error)).report == report


def test_report_of_an_earlier_invocation(sd: sysd.Systemd, units: Units) -> None:
    # what ensure's settle error needs: the report of one given invocation
    # The report of a run that is no longer the unit's has no PIDs to find the lines
    # journald read after their process exited (it tags a stream's line with the
    # invocation from /proc/PID/cgroup when it reads it): the process lingers a little.
    name = units.add(
        "earlier",
        "[Service]\nType=oneshot\n"
        "ExecStart=/bin/sh -c 'echo \"earlier run $$INVOCATION_ID\"; sleep 0.5; exit 1'\n",
    )
    units.reload()
    unit = sd.unit(name)
    with pytest.raises(JobFailedError) as first:
        unit.start()
    with pytest.raises(JobFailedError):
        unit.start()
    assert first.value.report is not None
    invocation = first.value.report.invocation_id
    report = unit.failure_report(invocation)
    assert report.invocation_id == invocation
    text = "".join(messages(report))
    assert f"earlier run {invocation}" in text and text.count("earlier run ") == 1
    assert report.properties_missing_reason is not None
    assert "of a later run" in report.properties_missing_reason
    assert unit.failure_report(uuid.UUID(invocation)).invocation_id == invocation


def test_the_report_pickles_with_the_error(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("pickle", f"[Service]\nType=oneshot\nExecStart={counted('pickle', 2)}\n")
    units.reload()
    error = fail_twice(sd, name)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)
    assert again.report == error.report and again.report is not None
    assert again.report.render() == error.report.render()  # type: ignore[union-attr]


def test_async_flavour(units: Units) -> None:
    name = units.add("aio", f"[Service]\nType=oneshot\nExecStart={counted('aio', 5)}\n")
    units.reload()

    async def go() -> JobError:
        async with sysd.aio.connect() as sd:
            unit = await sd.unit(name)
            try:
                await unit.start()
            except JobError as exc:
                return exc
        raise AssertionError("the start did not fail")

    error = asyncio.run(go())
    assert error.report is not None and error.report.failed_step is not None
    assert error.report.failed_step.status == 5
    assert "aio run 1" in "".join(messages(error.report))


# ------------------------------------------------------------------ fetching fails


def test_journal_unavailable_still_raises_the_error(
    sd: sysd.Systemd, units: Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    # journald cannot be taken away from the other tests sharing this sandbox: the read
    # itself fails as it does with no journal files
    import sysd._sync.report as report_module

    def no_journal(matches: list[str], lines: int) -> list[object]:
        raise JournalNotFoundError("no journal files were found")

    monkeypatch.setattr(report_module, "read_entries", no_journal)
    name = units.add("nojournal", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
    units.reload()
    with pytest.raises(JobFailedError) as info:
        sd.unit(name).start()
    report = info.value.report
    assert report is not None and report.logs == ()
    assert report.logs_missing_reason == (
        "not fetched: JournalNotFoundError: no journal files were found"
    )
    assert report.failed_step is not None and report.failed_step.name == "ExecStart"
    assert "Logs: not fetched: JournalNotFoundError" in report.render()


def test_report_building_crashing_still_raises_the_error(
    sd: sysd.Systemd, units: Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sysd._sync.report as report_module

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug in the report")

    monkeypatch.setattr(report_module, "failure_report", broken)
    name = units.add("broken", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
    units.reload()
    with pytest.raises(JobFailedError) as info:
        sd.unit(name).start()
    report = info.value.report
    assert report is not None
    assert report.logs_missing_reason == "not fetched: RuntimeError: bug in the report"


def test_remote_manager_logs_are_not_fetched(
    sd: sysd.Systemd, units: Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a host=/machine= connection, as far as the report can tell (its target's scope)
    monkeypatch.setattr(sd.bus, "target", sd.bus.target._replace(scope="remote"))
    name = units.add("remote", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
    units.reload()
    with pytest.raises(JobFailedError) as info:
        sd.unit(name).start()
    report = info.value.report
    assert report is not None and report.logs == ()
    assert report.logs_missing_reason is not None
    assert "address=" in report.logs_missing_reason  # neither a host's nor a machine's
    assert report.failed_step is not None  # the properties still come over the bus


def test_bounds(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("bounds", f"[Service]\nType=oneshot\nExecStart={counted('bounds', 1)}\n")
    units.reload()
    fail_twice(sd, name)
    unit = sd.unit(name)
    assert unit.failure_report(lines=0).logs_missing_reason == "not fetched: lines=0"
    two = unit.failure_report(lines=2)
    assert len(two.logs) == 2
    assert len(unit.failure_report(lines=10**9).logs) <= 1000
    # no time at all: the properties may be missing, but no error
    quick = unit.failure_report(timeout=0)
    assert quick.unit == name


def test_synchronize_journal() -> None:
    import time as _time

    from sysd._sync.report import synchronize_journal

    assert synchronize_journal(_time.monotonic() + 10) is True  # root, journald running
    assert synchronize_journal(_time.monotonic() + 10, "/nonexistent/socket") is None
    assert synchronize_journal(_time.monotonic() - 1) is False  # no time left


# ------------------------------------------------------------------------------ CLI


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from sysd.cli import main

    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("verb", ["start", "restart"])
def test_cli_prints_the_line_then_the_report(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sd: sysd.Systemd,
    units: Units,
    verb: str,
) -> None:
    monkeypatch.setenv("SYSTEMD_COLORS", "0")
    name = units.add("cli", f"[Service]\nType=oneshot\nExecStart={counted('cli', 7)}\n")
    units.reload()
    rc, out, one_line = cli(capsys, verb, "--no-report", name)  # cli run 1
    assert rc == 1 and out == "" and one_line.count("\n") == 1
    assert one_line.startswith(f"sysd: Job for {name} failed because the control process")
    rc, out, err = cli(capsys, verb, name)  # cli run 2
    assert rc == 1 and out == ""
    first, _, rest = err.partition("\n")
    assert first + "\n" == one_line  # systemctl's line, byte for byte as before
    lines = rest.splitlines()
    assert lines[0] == "" and lines[1] == f"\u00d7 {name}"
    assert f"       Job: {verb} (job " in rest and "): failed\n" in rest
    assert "    Active: failed (Result: exit-code)\n" in rest
    assert "ExecStart=/bin/sh -c " in rest and "(code=exited, status=7)" in rest
    assert "cli run 2" in rest and "cli run 1" not in rest
    assert "\x1b[" not in err


def test_cli_report_in_colour(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, units: Units
) -> None:
    monkeypatch.setenv("SYSTEMD_COLORS", "1")
    name = units.add("clicolor", "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'exit 3'\n")
    units.reload()
    rc, _out, err = cli(capsys, "start", name)
    assert rc == 1
    assert f"\x1b[0;1;31m\u00d7\x1b[0m {name}\n" in err
    assert "\x1b[0;1;31m(code=exited, status=3)\x1b[0m" in err


# ----------------------------------------------------------------------------- docs

ROOT = Path(__file__).resolve().parents[2]
WEB = (
    "[Unit]\nDescription=Example web server\n[Service]\nType=oneshot\n"
    "ExecStart=/bin/sh -c 'echo listening on :8080; echo address already in use >&2; exit 7'\n"
)


def normalized(text: str) -> list[str]:
    """Output with what changes from run to run (times, host, PIDs, IDs) made fixed, and
    each run of journal lines sorted: journald stores a unit's output (a stream) and the
    manager's messages (datagrams) in the order it happens to read them."""
    text = re.sub(r"^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ ", "TIME HOST ", text, flags=re.M)
    text = re.sub(r"\[\d+\]: ", "[PID]: ", text)
    text = re.sub(r"\(job \d+\)", "(job N)", text)
    text = re.sub(r"Failed: \d+ ", "Failed: PID ", text)
    text = re.sub(r"Invocation: [0-9a-f]{32}", "Invocation: ID", text)
    out: list[str] = []
    logs: list[str] = []
    for line in text.splitlines():
        if line.startswith("TIME HOST "):
            logs.append(line)
            continue
        out += [*sorted(logs), line]
        logs = []
    return out + sorted(logs)


def test_cli_doc_example_is_what_sysd_prints(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sd: sysd.Systemd,
    units: Units,
) -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- example: start-report -->\n```text\n(.*?)```", doc, re.S)
    assert block is not None
    monkeypatch.setenv("SYSTEMD_COLORS", "0")
    # the doc's unit under a name of this test's own (the doc's name put back below)
    name = units.add("docweb", WEB)
    units.reload()
    out = ""
    for command in re.findall(r"^\$ sysd (.*)$", block.group(1), re.M):
        argv = command.replace("sysd-doc-web.service", name).split()
        rc, stdout, stderr = cli(capsys, *argv)
        assert rc == 1 and stdout == ""
        out += f"$ sysd {command}\n{stderr.replace(name, 'sysd-doc-web.service')}"
    assert normalized(out) == normalized(block.group(1))


def test_units_doc_rendering_is_what_sysd_prints(sd: sysd.Systemd, units: Units) -> None:
    doc = (ROOT / "docs" / "units.md").read_text(encoding="utf-8")
    section = doc[doc.index("### When a start fails") :]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None and code is not None
    unit_text = re.search(r"unit_file.write_text\(\n(.*?)\n\)", code.group(1), re.S)
    assert unit_text is not None
    # the doc's own unit file text, under a name of this test's own
    name = units.add("docreport", eval("(" + unit_text.group(1) + ")"))
    units.reload()
    with pytest.raises(JobFailedError) as info:
        sd.unit(name).start()
    assert info.value.report is not None
    rendered = info.value.report.render().replace(name, "sysd-doc-report.service")
    assert normalized(rendered) == normalized(block.group(1))
