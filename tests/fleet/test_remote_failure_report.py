"""Failure reports of units on another host: the failing invocation's lines come from that
host's journal (journalctl there over the connection's ssh master), equal to what
journalctl on that host shows for the invocation.
"""

from __future__ import annotations

import uuid

import pytest

import sysd
from sysd.errors import JobFailedError, RunFailedError
from sysd.sandbox import SshLab


def test_a_failed_run_on_a_host_reports_that_hosts_lines(ssh_lab: SshLab) -> None:
    token = uuid.uuid4().hex[:12]
    with sysd.connect(host="h4", ssh_config=ssh_lab.ssh_config) as sd:
        before = ssh_lab.handshakes("h4")
        with pytest.raises(RunFailedError) as info:
            sd.run(["sh", "-c", f"echo boom-{token}; exit 3"], wait=True, check=True)
        report = info.value.report
        assert ssh_lab.handshakes("h4") == before  # the connection's own master
    assert report is not None
    assert report.logs_missing_reason is None, report.logs_missing_reason
    text = "\n".join(line.text for line in report.logs)
    assert f"boom-{token}" in text
    # the same invocation's lines, as journalctl there shows them: tagged with the
    # invocation, or (a process that exits at once can be gone before journald reads
    # its cgroup, and its lines then carry no invocation) by the unit and the main PID
    there = ssh_lab.ssh(
        "h4",
        f"journalctl -o cat _SYSTEMD_INVOCATION_ID={report.invocation_id} + "
        f"_SYSTEMD_UNIT={report.unit} _PID={report.exec_main_pid} --no-pager",
    )
    assert f"boom-{token}" in there.stdout
    assert f"boom-{token}" not in ssh_lab.ssh("h2", f"journalctl -o cat --grep=boom-{token}").stdout


def test_a_failed_start_on_a_host_reports_the_managers_messages(ssh_lab: SshLab) -> None:
    name = f"sysd-remote-report-{uuid.uuid4().hex[:8]}.service"
    unit_file = f"[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo nope-{name}; exit 7'\n"
    put = ssh_lab.ssh(
        "h3", f"cat > /run/systemd/system/{name} && systemctl daemon-reload", input=unit_file
    )
    assert put.returncode == 0, put.stderr
    try:
        with (
            sysd.connect(host="h3", ssh_config=ssh_lab.ssh_config) as sd,
            pytest.raises(JobFailedError) as info,
        ):
            sd.unit(name).start()
        report = info.value.report
        assert report is not None and report.logs_missing_reason is None
        text = "\n".join(line.text for line in report.logs)
        assert f"nope-{name}" in text  # after journalctl --sync there, as here
        assert "Failed with result 'exit-code'" in text
    finally:
        ssh_lab.ssh("h3", f"systemctl reset-failed {name}; rm -f /run/systemd/system/{name}")
