"""``sysd.analyze.verify()`` against ``systemd-analyze verify`` 252 on the same files.

Every unit file shipped on this machine (``/lib/systemd/system``, ``/usr/lib/systemd/user``)
plus a few hundred seeded mutations of them (an unknown key, a bad value, a misplaced section,
a bad specifier): sysd must report every ``FILE:LINE: message`` systemd-analyze prints, at the
same file and line with the same message, and nothing more except the cases docs/analyze.md
lists as stricter (:data:`STRICTER`).  systemd-analyze runs once per batch of files, not once
per file, to stay well under a minute on two cores.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import sysd.analyze

SEED = 16
MUTANTS = 1500
SHIPPED_DIRS = ("/lib/systemd/system", "/usr/lib/systemd/user")
_LINE = re.compile(r"^(/[^:]+):(\d+): (.*)$")

#: (section, line) pairs a mutation inserts: values each section's parser refuses.
BAD_VALUES: dict[str, tuple[str, ...]] = {
    "Unit": (
        "StartLimitBurst=many", "StartLimitIntervalSec=soon", "JobTimeoutSec=soon",
        "FailureAction=explode", "SuccessAction=maybe", "Wants=no_suffix", "Before=a..b",
        "After=foo@.service",
        "Documentation=readme.txt", "RefuseManualStart=perhaps", "DefaultDependencies=2",
        "ConditionPathExists=relative/path", "AssertPathIsDirectory=!relative",
        "CollectMode=sometimes", "OnFailureJobMode=whenever", "IgnoreOnSnapshot=yes",
        'Documentation=man:a "x', "ConditionPathExists=/a/../b", "AssertPathIsDirectory=|!rel",
        "StopWhenUnneeded=nah", 'RequiresMountsFor=relative /ok /a/../b %Z "x', "SourcePath=rel",
        "SuccessActionExitStatus=256", "FailureActionExitStatus=-1",
        "RequiresOverridable=a.service",
        "RequisiteOverridable=bad",
    ),
    "Service": (
        "Restart=sometimes", "Type=simpel", "TimeoutSec=abc", "RestartSec=5 parsecs",
        "KillSignal=SIGFOO", "KillMode=all", "UMask=0999", "NotifyAccess=some",
        "RemainAfterExit=perhaps", "ProtectSystem=everything", "ProtectHome=maybe",
        "OOMPolicy=panic", "ExitType=process", "TimeoutStartFailureMode=explode",
        "KeyringMode=public", "RuntimeDirectoryPreserve=forever", "KillMode=none",
        "LimitNOFILE=lots", "LimitNOFILE=4096:1024", "LimitCORE=1Q", "LimitCPU=forever",
        "LimitNICE=+25", "LimitNICE=41", "LimitRTTIME=soon", "LimitAS=-1",
        "MemoryMax=lots", "MemoryMax=0", "MemoryLow=0", "MemoryHigh=101%", "MemorySwapMax=1X",
        "MemoryMax=99999999999999999999", "TasksMax=many", "TasksMax=0", "TasksMax=-5",
        "CPUQuota=0%", "CPUQuota=fast", "CPUQuota=20", "Nice=20", "Nice=-21", "Nice=high",
        "OOMScoreAdjust=1001", "OOMScoreAdjust=x", "CPUSchedulingPriority=100",
        "CPUSchedulingPriority=top", "IOSchedulingPriority=8", "IOSchedulingClass=fast",
        "IOSchedulingClass=4", "IOSchedulingClass=9", "CPUSchedulingPolicy=deadline",
        "CPUSchedulingPolicy=7", "LogLevelMax=loud", "LogLevelMax=8", "LogLevelMax=",
        "SyslogLevel=info", "CPUWeight=0", "CPUWeight=idle", "CPUWeight=10001", "IOWeight=x",
        "StartupCPUWeight=", "CPUShares=1", "CPUShares=512", "BlockIOWeight=5",
        "StandardOutput=jounral", "StandardOutput=syslog", "StandardError=syslog+console",
        "StandardOutput=file:/var/log/%Z.log", "StandardOutput=append:/var/log/x.log",
        "StandardOutput=", "StandardInput=keyboard", "StandardInput=file:/etc/%Z",
        "StandardInput=", "StandardError=kmsg",
        "ExecStart=/bin/%Z", "ExecStartPre=-/bin/true %Z", "ExecStartPre=relative/path",
        "ExecStartPost=/usr/bin/", "ExecStop=@/bin/sh", 'ExecReload=/bin/echo "unbalanced',
        "ExecStartPre=/bin/echo \\q", "ExecStartPre=/bin/true ; /bin/false %Q",
        "ExecStopPost=-", "ExecCondition=+!/bin/x", "ExecStartPost=!!/bin/true",
        "ExecStop=/bin/true \\; %%", 'ExecStartPre=/bin/sh -c "echo \\"hi\\""',
        "ExecStartPre=-@/bin/sh", "ExecStartPre=@", "ExecStartPre=:/bin/echo $X",
        "Environment=NOEQUALS", "Environment=1X=2", "Environment=A-B=1", 'Environment="A=1 2" B',
        'Environment="A=1', "Environment=A=%Z", "Environment=A=%n B=%%", "Environment==x",
        "Environment=A=\\q", "Environment=",
        # lint_sandbox.py
        "LoadCredential=foo/bar:x", "LoadCredential=a:../x", "LoadCredential=:x",
        "LoadCredentialEncrypted=a:b:c", "CapabilityBoundingSet=CAP_FOO", "AmbientCapabilities=~x",
        "SystemCallArchitectures=native foo", 'SystemCallArchitectures="native',
        "SystemCallErrorNumber=EFOO", "SystemCallErrorNumber=0", "SystemCallErrorNumber=eperm",
        "RestrictAddressFamilies=AF_UNIX af_inet AF_FOO", 'RestrictAddressFamilies=~AF_X "y',
        "SystemCallFilter=@system-service @foo read foo uname:EILSEQ",
        "SystemCallFilter=~@mount read:EFOO :EPERM chown:kill @bar:EPERM", "SystemCallLog=~@x y",
        "RestrictNamespaces=net foo", "RestrictNamespaces=~net ipc", "MountFlags=foo",
        "NUMAPolicy=foo", "StateDirectory=foo /abs private/x a:/c ../x",
        "ConfigurationDirectory=a:b", 'RuntimeDirectory=%Z a:%Z "x', "LogsDirectory=a\\:b:c",
        'ReadWritePaths=/a -relative +/b /a/../b /a// %Z "x', "InaccessiblePaths=-/a/./b",
        "ReadOnlyPaths=-+rel", 'UnsetEnvironment=A B=1 1X C-D=2 %Z "x', "User=foo:bar",
        "User=65535", "User=nobody", "Group=007", "User=+5", "SupplementaryGroups=a b:c",
        "SupplementaryGroups=%Z",
        # lint_resources.py
        "DeviceAllow=/dev/null rwx", "DeviceAllow=foo r", "DeviceAllow=/dev/../x rw",
        "DeviceAllow=char-pts rw", "DeviceAllow=/dev/%Z", 'DeviceAllow="/dev/sda',
        "DeviceAllow=/dev/", "IPAddressAllow=10.0.0.0/8 ::1/129 localhost foo 1.2.3.4/33 1.2.3.4/",
        "IPAddressDeny=1.2.3 1.2.3.4/08 link-local multicast any",
        "SuccessExitStatus=1 FOO SIGKILL 300", 'RestartPreventExitStatus=256 -1 0x10 RTMIN+1 "x',
        "Delegate=cpu memory foo", "TTYRows=x", "TTYColumns=-1",
        # lint_cgroup.py
        "IOReadBandwidthMax=/dev/sda 0", "IOWriteIOPSMax=/dev/sda lots",
        "IOWriteBandwidthMax=/dev/sda", 'IOReadIOPSMax="/dev/sda 5',
        "IOReadBandwidthMax=/dev/../sda 5",
        "IOReadBandwidthMax=%Z 5", "IODeviceWeight=/dev/sda 0", "IODeviceWeight=/dev/sda x",
        "IODeviceWeight=/dev/sda -1", "IODeviceLatencyTargetSec=/dev/sda 5x",
        "BlockIODeviceWeight=/dev/sda 5", "BlockIOReadBandwidth=/dev/sda infinity",
        "BlockIOWriteBandwidth=/dev/sda 1M", "AllowedCPUs=3-1", "AllowedCPUs=0-8192",
        "AllowedCPUs=x 1-2", "AllowedMemoryNodes=1- 2", 'AllowedCPUs="1 2', "AllowedCPUs=%Z",
        "ManagedOOMSwap=always", "ManagedOOMSwap=kill", "DisableControllers=foo",
        'DisableControllers="cpu', "IPIngressFilterPath=relative", "BPFProgram=bogus:/x",
        "BPFProgram=egress", "BPFProgram=egress:rel", "SocketBindAllow=ipv4:",
        "SocketBindAllow=80:tcp", "SocketBindDeny=ipv4:tcp:80:x", "SocketBindDeny=90-80",
        "SocketBindDeny=0", "SocketBindAllow=ipv6:udp:53",
        'RestrictNetworkInterfaces=eth0 5 all verylonginterfacename a:b "x',
        # lint_exec.py
        "SELinuxContext=-%Z", "AppArmorProfile=%Z", "SecureBits=keep-caps bogus",
        "MountAPIVFS=maybe",
        "CoredumpFilter=bogus", "CoredumpFilter=ffffffffffffffffff", "CPUAffinity=0-3 x",
        "CPUAffinity=5-2", "NUMAMask=x", "NUMAMask=1-9000", "SyslogFacility=bogus",
        "SyslogFacility=128", "LogNamespace=foo/bar", "LogNamespace=fo*o", "Personality=arm64",
        'PassEnvironment=A 1B C-D %Z "x', "ExecSearchPath=/usr/bin:relative:/x",
        "ExecSearchPath=/a::/b",
        "StandardInputText=bad \\q", "StandardInputText=%Z", "StandardInputData=aGVsbG8",
        'LogExtraFields=NOEQ foo=1 _X=1 1A=2 %Z "x', "RootHash=0123", "RootHash=xyz",
        "RootHashSignature=base64:!!", "RootHashSignature=aGVsbG8=", "SetCredential=foo",
        "SetCredential=a/b:x", "SetCredential=foo:bad\\q", "SetCredentialEncrypted=foo:!!",
        'TemporaryFileSystem=/tmp:size=10M rel /a/../b %Z "x',
        "BindPaths=/a /b:/c /d:/e:norbind /f:/g:bogus -/h:rel /i: rel",
        'BindReadOnlyPaths=/a:/b:rbind %Z /x:%Z "y', "RestrictFileSystems=ext4 @bogus",
        "TimeoutAbortSec=bogus", "CoredumpFilter=-1", "CPUSchedulingPriority=", "MemoryMin=-1",
        "MemoryMax=0%", "MemoryLimit=", "MemoryLimit=1G",
        # lint_units.py
        "BusName=not..valid", "BusName=nodot", "BusName=", "Sockets=foo bar.socket",
        'Sockets="x.socket', "Slice=foo.service", "Slice=foo", "Slice=x@.slice", "Slice=",
        "RootDirectory=relative", "RootDirectory=/a/../b", "RootImage=%Z", "TTYPath=relative",
        "WorkingDirectory=relative", "WorkingDirectory=-relative", "WorkingDirectory=/a/../b",
        "EnvironmentFile=relative", "EnvironmentFile=-/a/../b", "NetworkNamespacePath=rel",
        "PIDFile=/run/../x.pid", "PIDFile=foo/../x.pid", "PIDFile=/var/run/x.pid",
        "RootImageOptions=bogus:ro", "RootImageOptions=a:b:c", "RootImageOptions=root:%Z",
        "MountImages=/a.raw", "MountImages=rel:/mnt", "MountImages=/a.raw:/mnt:bogus:ro",
        "MountImages=/a.raw:/mnt:%Z", 'MountImages=%Z:/mnt /b.raw:%Z "x', "ExtensionImages=rel",
        "ExtensionImages=-/a.raw:root:ro:bogus:x", 'ExtensionImages=/a.raw:root:%Z /b/../c "x',
    ),
    "Socket": (
        "Accept=perhaps", "KillSignal=TERMINATE", "TriggerLimitBurst=-3", "ReceiveBuffer=1Q",
        "SendBuffer=99999999999999999999", "PipeSize=-1", "PipeSize=", "FileDescriptorName=a:b",
        "FileDescriptorName=%Z", "FileDescriptorName=ähm", "Timestamping=ms", "Timestamping=µs",
        "BindIPv6Only=sometimes", "IPTOS=256", "IPTOS=fast", "Delegate=yes", "DeviceAllow=/sys/x",
        "IPAddressAllow=localhost.localdomain fe80::/64 nope", "ManagedOOMSwap=kill",
        "ListenStream=0", "ListenStream=65536", "ListenStream=1.2.3.4", "ListenStream=[::1]80",
        "ListenStream=1.2.3.4:80#x", "ListenStream=@", "ListenStream=vsock:1234",
        "ListenStream=rel",
        "ListenStream=%Z", "ListenSequentialPacket=1.2.3.4:53", "ListenNetlink=foo 1",
        "ListenNetlink=route -1", "ListenFIFO=relative", "ListenSpecial=/run/../x",
        "ListenDatagram=[::1]:53",
        "Service=foo.socket", "Service=x@.service", "Service=", "Symlinks=/a rel /b",
        "SocketProtocol=tcp", "BindToDevice=a/b", "BindToDevice=12", "MessageQueueMaxMessages=x",
        "TCPCongestion=cubic",
    ),
    "Timer": (
        "OnCalendar=every tuesday", "OnBootSec=later", "Persistent=maybe", "AccuracySec=1x",
        "Unit=foo", "Unit=", "Unit=foo.bogus", "Unit=a.service",
    ),
    "Path": (
        "MakeDirectory=maybe", "DirectoryMode=999", "Unit=x", "PathExists=relative",
        "PathChanged=/a/../b", "Unit=b.service",
    ),
    "Mount": ("LazyUnmount=maybe", "TimeoutSec=never-ish", "Delegate=yes", "ReadWritePaths=x"),
    "Swap": ("TimeoutSec=abc", "Priority=-2", "Priority=40000", "Priority=x"),
    "Slice": (
        "ManagedOOMMemoryPressureLimit=50", "ManagedOOMMemoryPressure=sometimes", "Slice=-.slice",
    ),
    "Install": (),
}  # fmt: skip
BAD_SPECIFIERS: dict[str, tuple[str, ...]] = {
    "Unit": (
        "Description=Broken %Z", "After=%Q.service", "ConditionPathExists=/etc/%Z",
        "Documentation=man:%Z(8)", "RequiresMountsFor=/srv/%Z", "Wants=%h.service",
    ),
    "Service": (
        "User=%Z", "Group=%Q", "PIDFile=/run/%Z.pid", "EnvironmentFile=/etc/default/%Z",
        "WorkingDirectory=/srv/%Z", "WorkingDirectory=-/srv/%Z", "RootDirectory=/srv/%Z",
        "BusName=org.%Z", "Slice=%h.slice", "PAMName=%Z",
    ),
    "Timer": ("OnCalendar=%Z",),
    "Path": ("PathExists=/tmp/%Z",),
    "Socket": ("Service=%Z.service",),
}  # fmt: skip
#: A section another unit type reads, with a key of it, for each private section.
MISPLACED: dict[str, str] = {
    "Service": "[Timer]\nOnCalendar=daily",
    "Socket": "[Service]\nType=simple",
    "Timer": "[Service]\nExecStart=/bin/true",
    "Path": "[Socket]\nListenStream=/run/x.sock",
    "Target": "[Service]\nRestart=always",
    "Mount": "[Automount]\nTimeoutIdleSec=10",
    "Automount": "[Mount]\nWhat=/dev/sda1",
    "Slice": "[Scope]\nRuntimeMaxSec=5",
    "Swap": "[Mount]\nOptions=ro",
}


def _stricter(path: str, failed_units: set[str]) -> bool:
    """sysd findings systemd-analyze does not print -- each case documented in docs/analyze.md
    ("Where sysd lint is stricter"): a drop-in of a unit whose file has an error (systemd
    stops loading the unit there and never reads its drop-ins; sysd checks them all the same).
    """
    parent = os.path.dirname(path)
    return path.endswith(".conf") and parent.endswith(".d") and parent[:-2] in failed_units


def _shipped() -> dict[str, list[str]]:
    """Unit files per directory: regular files and symlinks to one (masks included)."""
    out = {}
    for d in SHIPPED_DIRS:
        files = []
        for p in sorted(Path(d).iterdir()):
            if p.is_dir():
                continue
            files.append(str(p))
        out[d] = files
    return out


def _mutate(rng: random.Random, text: str, unit_type: str) -> tuple[str, str] | None:
    """(kind, mutated text) with one defect put after a section header, or None."""
    lines = text.split("\n")
    headers = [
        (i, line.strip()[1:-1])
        for i, line in enumerate(lines)
        if line.strip().startswith("[") and line.strip().endswith("]")
    ]
    if not headers:
        return None
    kind = rng.choice(["unknown key", "bad value", "misplaced section", "bad specifier"])
    private = unit_type.capitalize()
    if kind == "misplaced section":
        if private not in MISPLACED:
            return None
        return kind, text.rstrip("\n") + "\n" + MISPLACED[private] + "\n"
    i, section = rng.choice(headers)
    if kind == "unknown key":
        new = f"Bogus{rng.randrange(1000)}Setting=1"
    else:
        table = BAD_VALUES if kind == "bad value" else BAD_SPECIFIERS
        choices = table.get(section, ())
        if not choices:
            return None
        new = rng.choice(choices)
    lines.insert(i + 1, new)
    return kind, "\n".join(lines)


def _insert(text: str, section: str, new: str) -> str | None:
    """``text`` with the line ``new`` right after its first ``[section]`` header."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == f"[{section}]":
            lines.insert(i + 1, new)
            return "\n".join(lines)
    return None


def _mutants(root: Path, shipped: list[str]) -> tuple[list[str], list[str]]:
    """(mutated unit files, mutated drop-ins for some of them).

    First one mutant per line of BAD_VALUES and BAD_SPECIFIERS (in a random shipped file with
    that section), so every case is seen; then random ones up to MUTANTS.
    """
    rng = random.Random(SEED)
    sources = [p for p in shipped if os.path.realpath(p) != os.devnull]
    texts = {p: Path(p).read_text() for p in sources}
    out: list[str] = []
    dropins: list[str] = []
    n = 0

    def add(src: str, text: str) -> None:
        nonlocal n
        n += 1
        name = os.path.basename(src)
        path = root / f"m{n}-{name}"
        path.write_text(text)
        out.append(str(path))
        if n % 10 == 0:  # a drop-in for it, with a defect of its own
            dropin = root / f"m{n}-{name}.d" / "50-lint.conf"
            dropin.parent.mkdir()
            dropin.write_text("[Unit]\nDescription=ok\n" + rng.choice(BAD_VALUES["Unit"]) + "\n")
            dropins.append(str(dropin))

    for table in (BAD_VALUES, BAD_SPECIFIERS):
        for section, lines in table.items():
            having = [p for p in sources if f"[{section}]" in texts[p]]
            if not having:  # no shipped unit of this type (swap): a small one of our own
                fake = f"/synthetic/lint.{section.lower()}"
                texts[fake] = f"[Unit]\nDescription=synthetic\n[{section}]\n"
                having = [fake]
            for line in lines:
                src = rng.choice(having)
                mutated = _insert(texts[src], section, line)
                assert mutated is not None
                add(src, mutated)
    while len(out) < MUTANTS:
        src = rng.choice(sources)
        mutated = _mutate(rng, texts[src], os.path.basename(src).rpartition(".")[2])
        if mutated is not None:
            add(src, mutated[1])
    return out, dropins


def _systemd_analyze(files: list[str]) -> dict[tuple[str, int], list[str]]:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.fail("systemd-analyze (systemd 252) is needed as the oracle for this test")
    proc = subprocess.run(
        [exe, "verify", "--man=no", *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=dict(os.environ, SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER=""),
    )
    found: dict[tuple[str, int], list[str]] = {}
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            found.setdefault((m[1], int(m[2])), []).append(m[3])
    return found


def _dropins(files: list[str]) -> list[str]:
    """The .conf drop-ins systemd reads for these units from their own directories."""
    out = []
    for f in files:
        d = Path(f + ".d")
        if d.is_dir():
            out += sorted(str(p) for p in d.glob("*.conf"))
    return out


def _compare(files: list[str], dropins: list[str] = []) -> tuple[int, int]:  # noqa: B006
    """systemd-analyze verify on ``files`` (it reads their drop-ins itself) vs sysd."""
    expected = _systemd_analyze(files)
    report = sysd.analyze.verify(files + dropins)
    got: dict[tuple[str, int], list[str]] = {}
    for f in report.findings:
        if f.line:
            got.setdefault((f.path, f.line), []).append(f.message)
    missing = []
    for where, messages in expected.items():
        mine = got.get(where, [])
        for message in messages:
            if not any(m == message or m.startswith(message + " (") for m in mine):
                missing.append(f"{where[0]}:{where[1]}: {message}   (sysd: {mine})")
    failed_units = {f.path for f in report.errors}
    extra = [
        f"{path}:{line}: {m}"
        for (path, line), messages in got.items()
        for m in messages
        if (path, line) not in expected and not _stricter(path, failed_units)
    ]
    assert not missing, "systemd reports, sysd does not:\n" + "\n".join(missing)
    assert not extra, "sysd reports, systemd accepts silently:\n" + "\n".join(extra)
    return len(expected), len(report.findings)


def test_shipped_unit_files_agree() -> None:
    for files in _shipped().values():  # one run each: user and system units share names
        assert files
        _compare(files, _dropins(files))


def test_seeded_mutations_agree(tmp_path: Path) -> None:
    shipped = _shipped()
    units, dropins = _mutants(tmp_path, [p for files in shipped.values() for p in files])
    assert dropins == _dropins(units)
    reported, found = _compare(units, dropins)
    # the mutations are seen: most mutants carry a finding systemd reports too
    assert reported > MUTANTS * 2 // 3, reported
    assert found >= reported
