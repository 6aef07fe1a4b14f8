"""The value parsers ported in lint_sandbox, lint_resources, lint_cgroup, lint_exec, lint_units.

Every expected row is what ``systemd-analyze verify`` 252 prints for a unit file holding the
section header and that one line (the line is 2); ``"error"`` rows are messages systemd logs at
``LOG_ERR``.  The differential test against it is tests/systemd/test_lint_systemd.py.
"""

from __future__ import annotations

import pytest

from sysd._core.lint import CHECKED_PARSERS, lint
from sysd._core.lint_sandbox import (
    credential_name_valid,
    fdname_is_valid,
    path_simplify_and_warn,
    valid_user_group_name_relaxed,
)

# (unit type, section, line, [(severity, message)]), from systemd-analyze verify 252
ROWS = [
    (
        "service",
        "Service",
        "LoadCredential=foo/bar:x",
        [("warning", 'Credential name "foo/bar" not valid, ignoring.')],
    ),
    (
        "service",
        "Service",
        "LoadCredential=a:../x",
        [("warning", 'Credential source "../x" not valid, ignoring.')],
    ),
    (
        "service",
        "Service",
        "LoadCredential=a:/x/../y",
        [("warning", 'Credential source "/x/../y" not valid, ignoring.')],
    ),
    ("service", "Service", "LoadCredential=a:/x/y", []),
    ("service", "Service", "LoadCredential=a", []),
    (
        "service",
        "Service",
        "LoadCredential=:x",
        [("warning", 'Credential name "" not valid, ignoring.')],
    ),
    (
        "service",
        "Service",
        "LoadCredential=%Z:x",
        [("warning", 'Failed to resolve unit specifiers in "%Z", ignoring: Invalid slot')],
    ),
    (
        "service",
        "Service",
        "LoadCredentialEncrypted=a:b:c",
        [("warning", 'Credential source "b:c" not valid, ignoring.')],
    ),
    ("service", "Service", 'CapabilityBoundingSet=CAP_FOO "x', []),
    ("service", "Service", "AmbientCapabilities=~CAP_SYS_ADMIN 99", []),
    (
        "service",
        "Service",
        "SystemCallArchitectures=native foo",
        [("warning", 'Failed to parse system call architecture "foo", ignoring: Invalid argument')],
    ),
    (
        "service",
        "Service",
        'SystemCallArchitectures="native x',
        [("warning", 'Invalid syntax, ignoring: "native x')],
    ),
    (
        "service",
        "Service",
        "SystemCallErrorNumber=EFOO",
        [("warning", "Failed to parse error number, ignoring: EFOO")],
    ),
    (
        "service",
        "Service",
        "SystemCallErrorNumber=0",
        [("warning", "Invalid error number, ignoring: 0")],
    ),
    ("service", "Service", "SystemCallErrorNumber=eperm", []),
    ("service", "Service", "SystemCallErrorNumber=kill", []),
    (
        "service",
        "Service",
        "RestrictAddressFamilies=AF_UNIX af_inet AF_FOO",
        [("warning", "Failed to parse address family, ignoring: AF_FOO")],
    ),
    (
        "service",
        "Service",
        'RestrictAddressFamilies=~AF_FOO "x',
        [
            ("warning", "Failed to parse address family, ignoring: AF_FOO"),
            ("warning", 'Invalid syntax, ignoring: AF_FOO "x'),
        ],
    ),
    ("service", "Service", "RestrictAddressFamilies=none", []),
    (
        "service",
        "Service",
        "RestrictNamespaces=net foo",
        [("warning", "Failed to parse namespace type string, ignoring: net foo")],
    ),
    ("service", "Service", "RestrictNamespaces=~net ipc", []),
    ("service", "Service", "RestrictNamespaces=yes", []),
    (
        "service",
        "Service",
        "MountFlags=foo",
        [("warning", "Failed to parse mount flag, ignoring: foo")],
    ),
    (
        "service",
        "Service",
        "NUMAPolicy=foo",
        [("warning", "Invalid NUMA policy type, ignoring: foo")],
    ),
    ("service", "Service", "NUMAPolicy=", []),
    (
        "service",
        "Service",
        "StateDirectory=foo /abs private private/x a:b a:/c ../x foo/../bar",
        [
            ("error", "StateDirectory= path is absolute, ignoring: /abs"),
            ("warning", "StateDirectory= path can't be 'private', ignoring assignment: private"),
            ("warning", "StateDirectory= path can't be 'private', ignoring assignment: private/x"),
            ("error", "StateDirectory= path is absolute, ignoring: /c"),
            ("error", "StateDirectory= path is not normalized, ignoring: ../x"),
            ("error", "StateDirectory= path is not normalized, ignoring: foo/../bar"),
        ],
    ),
    (
        "service",
        "Service",
        "ConfigurationDirectory=a:b",
        [
            (
                "warning",
                "Destination parameter is not supported for ConfigurationDirectory, ignoring: a:b",
            )
        ],
    ),
    (
        "service",
        "Service",
        'RuntimeDirectory=%Z a:%Z "x',
        [
            ("warning", 'Failed to resolve unit specifiers in "%Z", ignoring: Invalid slot'),
            ("warning", 'Failed to resolve unit specifiers in "%Z", ignoring: Invalid slot'),
            ("warning", 'Invalid syntax RuntimeDirectory=%Z a:%Z "x, ignoring: Invalid argument'),
        ],
    ),
    ("service", "Service", "CacheDirectory=a\\:b:c", []),
    (
        "service",
        "Service",
        'ReadWritePaths=/a -relative +/b -+rel /a/../b /a// %Z "x',
        [
            ("error", "ReadWritePaths= path is not absolute, ignoring: relative"),
            ("error", "ReadWritePaths= path is not absolute, ignoring: rel"),
            ("error", "ReadWritePaths= path is not normalized, ignoring: /a/../b"),
            ("warning", "Failed to resolve unit specifiers in %Z: Invalid slot"),
            (
                "warning",
                'Failed to extract first word, ignoring: /a -relative +/b -+rel /a/../b /a// %Z "x',
            ),
        ],
    ),
    ("service", "Service", "InaccessiblePaths=-/a/./b", []),
    (
        "service",
        "Service",
        'UnsetEnvironment=A B=1 1X C-D=2 %Z "x',
        [
            ("warning", "Invalid environment name or assignment UnsetEnvironment, ignoring: 1X"),
            ("warning", "Invalid environment name or assignment UnsetEnvironment, ignoring: C-D=2"),
            ("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot"),
            ("warning", 'Trailing garbage in UnsetEnvironment, ignoring: A B=1 1X C-D=2 %Z "x'),
        ],
    ),
    (
        "service",
        "Service",
        "User=foo:bar",
        [("error", "Invalid user/group name or numeric ID: foo:bar")],
    ),
    (
        "service",
        "Service",
        "User=65535",
        [("error", "Invalid user/group name or numeric ID: 65535")],
    ),
    (
        "service",
        "Service",
        "User=nobody",
        [("warning", "Special user nobody configured, this is not safe!")],
    ),
    ("service", "Service", "User=007", [("error", "Invalid user/group name or numeric ID: 007")]),
    ("service", "Service", "User=-5", [("error", "Invalid user/group name or numeric ID: -5")]),
    ("service", "Service", "User=+5", []),
    ("service", "Service", "Group=a b", []),
    (
        "service",
        "Service",
        "SupplementaryGroups=a b:c d",
        [("error", "Invalid user/group name or numeric ID: b:c")],
    ),
    (
        "service",
        "Service",
        "SupplementaryGroups=a %Z",
        [("error", "Failed to resolve unit specifiers in %Z: Invalid slot")],
    ),
    (
        "service",
        "Service",
        "DeviceAllow=/dev/null rwx",
        [("warning", "Invalid device rights 'rwx', ignoring.")],
    ),
    (
        "service",
        "Service",
        "DeviceAllow=foo r",
        [("warning", "Invalid device node path 'foo', ignoring.")],
    ),
    ("service", "Service", "DeviceAllow=/dev//null rw", []),
    (
        "service",
        "Service",
        "DeviceAllow=/dev/../x rw",
        [("error", "DeviceAllow= path is not normalized, ignoring: /dev/../x")],
    ),
    ("service", "Service", "DeviceAllow=char-pts rw", []),
    (
        "service",
        "Service",
        "DeviceAllow=/dev/%Z rw",
        [("warning", "Failed to resolve unit specifiers in '/dev/%Z', ignoring: Invalid slot")],
    ),
    (
        "service",
        "Service",
        'DeviceAllow="/dev/sda',
        [("warning", "Failed to extract device path and rights from '\"/dev/sda', ignoring.")],
    ),
    (
        "service",
        "Service",
        "DeviceAllow=/sys/x",
        [("warning", "Invalid device node path '/sys/x', ignoring.")],
    ),
    ("service", "Service", "DeviceAllow=/dev/", []),
    (
        "service",
        "Service",
        "IPAddressAllow=10.0.0.0/8 ::1/129 localhost LocalHost.localdomain any foo 1.2.3.4/33"
        ' 1.2.3.4/ fe80::/64 "x y"',
        [
            ("warning", "Address prefix is invalid, ignoring assignment: ::1/129"),
            ("warning", "Address prefix is invalid, ignoring assignment: foo"),
            ("warning", "Address prefix is invalid, ignoring assignment: 1.2.3.4/33"),
            ("warning", "Address prefix is invalid, ignoring assignment: 1.2.3.4/"),
            ("warning", 'Address prefix is invalid, ignoring assignment: "x'),
            ("warning", 'Address prefix is invalid, ignoring assignment: y"'),
        ],
    ),
    (
        "service",
        "Service",
        "IPAddressDeny=1.2.3 1.2.3.4/08 link-local multicast",
        [
            ("warning", "Address prefix is invalid, ignoring assignment: 1.2.3"),
            ("warning", "Address prefix is invalid, ignoring assignment: 1.2.3.4/08"),
        ],
    ),
    (
        "service",
        "Service",
        'SuccessExitStatus=1 FOO SIGKILL 300 TERM NOTINSTALLED "x',
        [
            ("warning", "Failed to parse value, ignoring: FOO"),
            ("warning", "Failed to parse value, ignoring: 300"),
            ("warning", 'Failed to parse value, ignoring: "x'),
        ],
    ),
    (
        "service",
        "Service",
        "RestartPreventExitStatus=256 -1 0x10 RTMIN+1",
        [
            ("warning", "Failed to parse value, ignoring: 256"),
            ("warning", "Failed to parse value, ignoring: -1"),
        ],
    ),
    (
        "socket",
        "Socket",
        "ReceiveBuffer=1Q",
        [("warning", "Failed to parse size value '1Q', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "SendBuffer=99999999999999999999",
        [
            (
                "warning",
                "Failed to parse size value '99999999999999999999', ignoring: "
                "Numerical result out of range",
            )
        ],
    ),
    (
        "socket",
        "Socket",
        "PipeSize=-1",
        [("warning", "Failed to parse size value '-1', ignoring: Numerical result out of range")],
    ),
    (
        "socket",
        "Socket",
        "PipeSize=",
        [("warning", "Failed to parse size value '', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "FileDescriptorName=a:b",
        [("warning", "Invalid file descriptor name, ignoring: a:b")],
    ),
    (
        "socket",
        "Socket",
        "FileDescriptorName=%Z",
        [("warning", "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot")],
    ),
    (
        "socket",
        "Socket",
        "FileDescriptorName=ähm",
        [("warning", "Invalid file descriptor name, ignoring: ähm")],
    ),
    ("socket", "Socket", "Timestamping=µs", []),
    (
        "socket",
        "Socket",
        "Timestamping=ms",
        [("warning", "Failed to parse timestamping precision, ignoring: ms")],
    ),
    (
        "socket",
        "Socket",
        "BindIPv6Only=sometimes",
        [("warning", "Failed to parse bind IPv6 only value, ignoring: sometimes")],
    ),
    ("socket", "Socket", "BindIPv6Only=both", []),
    ("socket", "Socket", "IPTOS=256", [("warning", "Failed to parse IP TOS value, ignoring: 256")]),
    (
        "socket",
        "Socket",
        "IPTOS=fast",
        [("warning", "Failed to parse IP TOS value, ignoring: fast")],
    ),
    ("socket", "Socket", "IPTOS=low-delay", []),
    (
        "socket",
        "Socket",
        "Delegate=yes",
        [("warning", "Delegate= setting not supported for this unit type, ignoring.")],
    ),
    (
        "service",
        "Service",
        'Delegate=cpu memory foo "x',
        [
            ("warning", "Invalid controller name 'foo', ignoring"),
            ("warning", 'Invalid syntax, ignoring: cpu memory foo "x'),
        ],
    ),
    ("scope", "Scope", "Delegate=io", []),
    (
        "service",
        "Service",
        "TTYRows=x",
        [("warning", "Failed to parse unsigned value, ignoring: x")],
    ),
    ("service", "Service", "TTYRows=", []),
    (
        "socket",
        "Socket",
        "TTYColumns=-1",
        [("warning", "Failed to parse unsigned value, ignoring: -1")],
    ),
    (
        "mount",
        "Mount",
        "Delegate=yes",
        [("warning", "Delegate= setting not supported for this unit type, ignoring.")],
    ),
]

ROWS += [
    (
        "service",
        "Service",
        "SystemCallFilter=@system-service @foo read foo uname:EILSEQ",
        [
            ("warning", "Unknown system call group, ignoring: @foo"),
            ("warning", "Failed to parse system call, ignoring: foo"),
            (
                "warning",
                "Allow-listed system calls cannot take error number, ignoring: uname:EILSEQ",
            ),
        ],
    ),
    (
        "service",
        "Service",
        "SystemCallFilter=~@mount uname:EILSEQ read:EFOO :EPERM chown:kill @sync:255 @bar:EPERM",
        [
            ("warning", "Failed to parse syscall:errno, ignoring: read:EFOO"),
            ("warning", "Failed to parse syscall:errno, ignoring: :EPERM"),
            ("warning", "Unknown system call group, ignoring: @bar"),
        ],
    ),
    (
        "service",
        "Service",
        'SystemCallFilter="read write',
        [("warning", 'Failed to parse system call, ignoring: "read')],
    ),
    (
        "service",
        "Service",
        'SystemCallFilter=~"read write',
        [("warning", 'Failed to parse system call, ignoring: "read')],
    ),
    ("service", "Service", "SystemCallFilter=~", []),
    (
        "service",
        "Service",
        "SystemCallFilter=READ",
        [("warning", "Failed to parse system call, ignoring: READ")],
    ),
    (
        "service",
        "Service",
        "SystemCallFilter=~read:0 write:4096 open:",
        [
            ("warning", "Failed to parse syscall:errno, ignoring: write:4096"),
            ("warning", "Failed to parse syscall:errno, ignoring: open:"),
        ],
    ),
    (
        "service",
        "Service",
        "SystemCallLog=@system-service @foo read foo uname:EILSEQ",
        [
            ("warning", "Unknown system call group, ignoring: @foo"),
            ("warning", "Failed to parse system call, ignoring: foo"),
            ("warning", "Failed to parse system call, ignoring: uname:EILSEQ"),
        ],
    ),
    (
        "service",
        "Service",
        'SystemCallLog=~@mount "x',
        [("warning", 'Failed to parse system call, ignoring: "x')],
    ),
]

ROWS += [
    ("socket", "Socket", "ListenStream=80", []),
    (
        "socket",
        "Socket",
        "ListenStream=0",
        [("warning", "Failed to parse address value in '0', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=65536",
        [
            (
                "warning",
                "Failed to parse address value in '65536', ignoring: Numerical result out of range",
            )
        ],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=-1",
        [
            (
                "warning",
                "Failed to parse address value in '-1', ignoring: Numerical result out of range",
            )
        ],
    ),
    ("socket", "Socket", "ListenStream=0x50", []),
    ("socket", "Socket", "ListenStream= 80", []),
    ("socket", "Socket", "ListenStream=1.2.3.4:80", []),
    (
        "socket",
        "Socket",
        "ListenStream=1.2.3.4",
        [("warning", "Failed to parse address value in '1.2.3.4', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=1.2.3.4:0",
        [("warning", "Failed to parse address value in '1.2.3.4:0', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=1.2.3.4:99999",
        [
            (
                "warning",
                "Failed to parse address value in '1.2.3.4:99999', ignoring: Numerical result"
                " out of range",
            )
        ],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=1.2.3.4:x",
        [("warning", "Failed to parse address value in '1.2.3.4:x', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=1.2.3:80",
        [("warning", "Failed to parse address value in '1.2.3:80', ignoring: Invalid argument")],
    ),
    ("socket", "Socket", "ListenStream=[::1]:80", []),
    (
        "socket",
        "Socket",
        "ListenStream=[::1]80",
        [("warning", "Failed to parse address value in '[::1]80', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=[::1]:",
        [("warning", "Failed to parse address value in '[::1]:', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=::1",
        [("warning", "Failed to parse address value in '::1', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=[::1x]:80",
        [("warning", "Failed to parse address value in '[::1x]:80', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=localhost:80",
        [
            (
                "warning",
                "Failed to parse address value in 'localhost:80', ignoring: Invalid argument",
            )
        ],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=1.2.3.4:80#foo",
        [
            (
                "warning",
                "Failed to parse address value in '1.2.3.4:80#foo', ignoring: Invalid argument",
            )
        ],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=/",
        [("warning", "Failed to parse address value in '/', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=@",
        [("warning", "Failed to parse address value in '@', ignoring: Invalid argument")],
    ),
    ("socket", "Socket", "ListenStream=@abstract", []),
    (
        "socket",
        "Socket",
        "ListenStream=/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        [
            (
                "warning",
                "Failed to parse address value in '/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', ignori"
                "ng: File name too long",
            )
        ],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        [],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=/var/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        [],
    ),
    ("socket", "Socket", "ListenStream=vsock:2:1234", []),
    ("socket", "Socket", "ListenStream=vsock::1234", []),
    (
        "socket",
        "Socket",
        "ListenStream=vsock:1234",
        [("warning", "Failed to parse address value in 'vsock:1234', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=vsock:x:1",
        [("warning", "Failed to parse address value in 'vsock:x:1', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=vsock:1:99999999999",
        [
            (
                "warning",
                "Failed to parse address value in 'vsock:1:99999999999', ignoring: Numerical "
                "result out of range",
            )
        ],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=relative",
        [("warning", "Failed to parse address value in 'relative', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=%Z",
        [("warning", "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot")],
    ),
    ("socket", "Socket", "ListenDatagram=1.2.3.4:53", []),
    (
        "socket",
        "Socket",
        "ListenSequentialPacket=1.2.3.4:53",
        [("warning", "Address family not supported, ignoring: 1.2.3.4:53")],
    ),
    ("socket", "Socket", "ListenSequentialPacket=/run/x.sock", []),
    (
        "socket",
        "Socket",
        "ListenSequentialPacket=vsock:1:2",
        [("warning", "Address family not supported, ignoring: vsock:1:2")],
    ),
    ("socket", "Socket", "ListenNetlink=route 1", []),
    ("socket", "Socket", "ListenNetlink=kobject-uevent", []),
    (
        "socket",
        "Socket",
        "ListenNetlink=foo 1",
        [("warning", "Failed to parse address value in 'foo 1', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenNetlink=16 x",
        [("warning", "Failed to parse address value in '16 x', ignoring: Invalid argument")],
    ),
    (
        "socket",
        "Socket",
        "ListenNetlink=route -1",
        [
            (
                "warning",
                "Failed to parse address value in 'route -1', ignoring: Numerical result out "
                "of range",
            )
        ],
    ),
    (
        "socket",
        "Socket",
        "ListenFIFO=relative",
        [("error", "ListenFIFO= path is not absolute, ignoring: relative")],
    ),
    (
        "socket",
        "Socket",
        "ListenFIFO=/run/../x",
        [("error", "ListenFIFO= path is not normalized, ignoring: /run/../x")],
    ),
    (
        "socket",
        "Socket",
        "ListenSpecial=/dev/%Z",
        [("warning", "Failed to resolve unit specifiers in '/dev/%Z', ignoring: Invalid slot")],
    ),
    ("socket", "Socket", "ListenMessageQueue=/x", []),
    (
        "socket",
        "Socket",
        "ListenUSBFunction=rel",
        [("error", "ListenUSBFunction= path is not absolute, ignoring: rel")],
    ),
]

ROWS += [
    ("service", "Service", "IOReadBandwidthMax=/dev/sda 1M", []),
    ("service", "Service", "IOReadBandwidthMax=/dev/sda infinity", []),
    (
        "service",
        "Service",
        "IOReadBandwidthMax=/dev/sda 0",
        [("warning", "Invalid IO limit '0', ignoring.")],
    ),
    (
        "service",
        "Service",
        "IOWriteIOPSMax=/dev/sda lots",
        [("warning", "Invalid IO limit 'lots', ignoring.")],
    ),
    (
        "service",
        "Service",
        "IOWriteBandwidthMax=/dev/sda",
        [("warning", "Invalid device node or bandwidth specified in '/dev/sda', ignoring.")],
    ),
    (
        "service",
        "Service",
        'IOReadIOPSMax="/dev/sda 5',
        [("warning", "Failed to extract device node and bandwidth from '\"/dev/sda 5', ignoring.")],
    ),
    (
        "service",
        "Service",
        "IOReadBandwidthMax=/dev/../sda 5",
        [("error", "IOReadBandwidthMax= path is not normalized, ignoring: /dev/../sda")],
    ),
    (
        "service",
        "Service",
        "IOReadBandwidthMax=%Z 5",
        [("warning", "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot")],
    ),
    (
        "service",
        "Service",
        "IODeviceWeight=/dev/sda 0",
        [("warning", "IO weight '0' invalid, ignoring: Numerical result out of range")],
    ),
    (
        "service",
        "Service",
        "IODeviceWeight=/dev/sda x",
        [("warning", "IO weight 'x' invalid, ignoring: Invalid argument")],
    ),
    (
        "service",
        "Service",
        "IODeviceWeight=/dev/sda 100000000000000000000",
        [
            (
                "warning",
                "IO weight '100000000000000000000' invalid, ignoring: Numerical result out of"
                " range",
            )
        ],
    ),
    (
        "service",
        "Service",
        "IODeviceWeight=/dev/sda -1",
        [("warning", "IO weight '-1' invalid, ignoring: Numerical result out of range")],
    ),
    ("service", "Service", "IODeviceWeight=sda 100", []),
    (
        "service",
        "Service",
        "IODeviceLatencyTargetSec=/dev/sda 5x",
        [("warning", "Failed to parse timer value, ignoring: 5x")],
    ),
    (
        "service",
        "Service",
        "IODeviceLatencyTargetSec=/dev/sda",
        [("warning", "Invalid device path or latency specified in '/dev/sda', ignoring.")],
    ),
    (
        "service",
        "Service",
        "BlockIODeviceWeight=/dev/sda 5",
        [
            (
                "warning",
                "Unit uses BlockIODeviceWeight=; please use IO*= settings instead. Support fo"
                "r BlockIODeviceWeight= will be removed soon.",
            ),
            ("warning", "Invalid block IO weight '5', ignoring: Numerical result out of range"),
        ],
    ),
    (
        "service",
        "Service",
        "BlockIODeviceWeight=",
        [
            (
                "warning",
                "Unit uses BlockIODeviceWeight=; please use IO*= settings instead. Support fo"
                "r BlockIODeviceWeight= will be removed soon.",
            )
        ],
    ),
    (
        "service",
        "Service",
        "BlockIOReadBandwidth=/dev/sda infinity",
        [
            (
                "warning",
                "Unit uses BlockIOReadBandwidth=; please use IO*= settings instead. Support f"
                "or BlockIOReadBandwidth= will be removed soon.",
            ),
            ("warning", "Invalid Block IO Bandwidth 'infinity', ignoring."),
        ],
    ),
    (
        "service",
        "Service",
        "BlockIOWriteBandwidth=/dev/sda 1M",
        [
            (
                "warning",
                "Unit uses BlockIOWriteBandwidth=; please use IO*= settings instead. Support "
                "for BlockIOWriteBandwidth= will be removed soon.",
            )
        ],
    ),
    ("service", "Service", "AllowedCPUs=0-3,5 7", []),
    (
        "service",
        "Service",
        "AllowedCPUs=3-1",
        [("warning", "Range '3-1' is invalid, 3 > 1, ignoring.")],
    ),
    (
        "service",
        "Service",
        "AllowedCPUs=0-8192",
        [("error", "Cannot add CPU 8192 to set: Numerical result out of range")],
    ),
    ("service", "Service", "AllowedCPUs=x 1-2", [("error", "Failed to parse CPU affinity 'x'")]),
    (
        "service",
        "Service",
        "AllowedMemoryNodes=1- 2",
        [("error", "Failed to parse CPU affinity '1-'")],
    ),
    ("service", "Service", 'AllowedCPUs="1 2', [("error", 'Invalid value for AllowedCPUs: "1 2')]),
    (
        "service",
        "Service",
        "AllowedCPUs=%Z",
        [("warning", "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot")],
    ),
    ("service", "Service", "ManagedOOMSwap=kill", []),
    (
        "service",
        "Service",
        "ManagedOOMSwap=always",
        [("warning", "Invalid syntax, ignoring: always")],
    ),
    (
        "socket",
        "Socket",
        "ManagedOOMMemoryPressure=kill",
        [("warning", "ManagedOOMMemoryPressure= is not supported for this unit type, ignoring.")],
    ),
    ("slice", "Slice", "ManagedOOMMemoryPressureLimit=50%", []),
    (
        "slice",
        "Slice",
        "ManagedOOMMemoryPressureLimit=50",
        [("warning", "Failed to parse memory pressure limit value, ignoring: 50")],
    ),
    (
        "slice",
        "Slice",
        "ManagedOOMMemoryPressureLimit=101%",
        [("warning", "Failed to parse memory pressure limit value, ignoring: 101%")],
    ),
    (
        "mount",
        "Mount",
        "ManagedOOMMemoryPressureLimit=50%",
        [
            (
                "warning",
                "ManagedOOMMemoryPressureLimit= is not supported for this unit type, ignoring.",
            )
        ],
    ),
    ("service", "Service", "DisableControllers=cpu foo", []),
    (
        "service",
        "Service",
        "DisableControllers=foo",
        [("warning", "Invalid cgroup string: foo, ignoring")],
    ),
    (
        "service",
        "Service",
        'DisableControllers="cpu',
        [("warning", 'Invalid cgroup string: "cpu, ignoring')],
    ),
    (
        "service",
        "Service",
        "IPIngressFilterPath=relative",
        [("error", "IPIngressFilterPath= path is not absolute, ignoring: relative")],
    ),
    ("service", "Service", "IPEgressFilterPath=/sys/fs/bpf/x", []),
    ("service", "Service", "BPFProgram=egress:/sys/fs/bpf/x", []),
    (
        "service",
        "Service",
        "BPFProgram=bogus:/x",
        [("warning", "Unknown BPF attach type=bogus, ignoring: bogus:/x")],
    ),
    (
        "service",
        "Service",
        "BPFProgram=egress",
        [("warning", "Invalid syntax in BPFProgram=, ignoring: egress")],
    ),
    (
        "service",
        "Service",
        "BPFProgram=egress:rel",
        [("error", "BPFProgram= path is not absolute, ignoring: rel")],
    ),
    ("service", "Service", "SocketBindAllow=ipv4:tcp:80", []),
    ("service", "Service", "SocketBindAllow=tcp:80-90", []),
    ("service", "Service", "SocketBindAllow=any", []),
    ("service", "Service", "SocketBindAllow=ipv6", []),
    (
        "service",
        "Service",
        "SocketBindAllow=ipv4:",
        [("warning", "Unable to parse SocketBindAllow= assignment, ignoring: ipv4:")],
    ),
    (
        "service",
        "Service",
        "SocketBindAllow=80:tcp",
        [("warning", "Unable to parse SocketBindAllow= assignment, ignoring: 80:tcp")],
    ),
    (
        "service",
        "Service",
        "SocketBindDeny=ipv4:tcp:80:x",
        [("warning", "Unable to parse SocketBindDeny= assignment, ignoring: ipv4:tcp:80:x")],
    ),
    (
        "service",
        "Service",
        "SocketBindDeny=90-80",
        [("warning", "Unable to parse SocketBindDeny= assignment, ignoring: 90-80")],
    ),
    (
        "service",
        "Service",
        "SocketBindDeny=ipv4::80",
        [("warning", "Unable to parse SocketBindDeny= assignment, ignoring: ipv4::80")],
    ),
    (
        "service",
        "Service",
        "SocketBindDeny=0",
        [("warning", "Unable to parse SocketBindDeny= assignment, ignoring: 0")],
    ),
    (
        "service",
        "Service",
        'RestrictNetworkInterfaces=eth0 ~lo 5 all verylonginterfacename a:b "x',
        [
            ("warning", "Invalid interface name, ignoring: 5"),
            ("warning", "Invalid interface name, ignoring: all"),
            ("warning", "Invalid interface name, ignoring: verylonginterfacename"),
            ("warning", "Invalid interface name, ignoring: a:b"),
            (
                "warning",
                "Trailing garbage in RestrictNetworkInterfaces, ignoring: eth0 ~lo 5 all very"
                'longinterfacename a:b "x',
            ),
        ],
    ),
    (
        "service",
        "Service",
        "RestrictNetworkInterfaces=~eth0 0 007",
        [
            ("warning", "Invalid interface name, ignoring: 0"),
            ("warning", "Invalid interface name, ignoring: 007"),
        ],
    ),
]

ROWS += [
    (
        "service",
        "Service",
        "SELinuxContext=-%Z",
        [("warning", "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot")],
    ),
    ("service", "Service", "SELinuxContext=foo_t", []),
    (
        "service",
        "Service",
        "AppArmorProfile=%Z",
        [("error", "Failed to resolve unit specifiers in '%Z': Invalid slot")],
    ),
    ("service", "Service", "SmackProcessLabel=-x", []),
    ("service", "Service", 'SecureBits=keep-caps bogus "x', []),
    (
        "service",
        "Service",
        "MountAPIVFS=maybe",
        [("warning", "Failed to parse boolean value, ignoring: maybe")],
    ),
    ("service", "Service", "MountAPIVFS=", []),
    ("service", "Service", "CoredumpFilter=default private-huge 0x33", []),
    (
        "service",
        "Service",
        "CoredumpFilter=bogus",
        [("warning", "Failed to parse the CoredumpFilter=bogus, ignoring: Invalid argument")],
    ),
    (
        "service",
        "Service",
        "CoredumpFilter=ffffffffffffffffff",
        [
            (
                "warning",
                "Failed to parse the CoredumpFilter=ffffffffffffffffff, ignoring: Numerical r"
                "esult out of range",
            )
        ],
    ),
    (
        "service",
        "Service",
        "CoredumpFilter=all xyz",
        [("warning", "Failed to parse the CoredumpFilter=all xyz, ignoring: Invalid argument")],
    ),
    ("service", "Service", "CPUAffinity=numa", []),
    ("service", "Service", "CPUAffinity=0-3 x", [("error", "Failed to parse CPU affinity 'x'")]),
    (
        "service",
        "Service",
        "CPUAffinity=%Z",
        [("warning", "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot")],
    ),
    (
        "service",
        "Service",
        "CPUAffinity=5-2",
        [("warning", "Range '5-2' is invalid, 5 > 2, ignoring.")],
    ),
    ("service", "Service", "NUMAMask=all", []),
    ("service", "Service", "NUMAMask=0-2,4", []),
    (
        "service",
        "Service",
        "NUMAMask=x",
        [
            ("error", "Failed to parse CPU affinity 'x'"),
            ("warning", "Failed to parse NUMA node mask, ignoring: x"),
        ],
    ),
    (
        "service",
        "Service",
        "NUMAMask=1-9000",
        [
            ("error", "Cannot add CPU 9000 to set: Numerical result out of range"),
            ("warning", "Failed to parse NUMA node mask, ignoring: 1-9000"),
        ],
    ),
    ("service", "Service", "SyslogFacility=local7", []),
    (
        "service",
        "Service",
        "SyslogFacility=bogus",
        [("warning", "Failed to parse log facility, ignoring: bogus")],
    ),
    ("service", "Service", "SyslogFacility=127", []),
    (
        "service",
        "Service",
        "SyslogFacility=128",
        [("warning", "Failed to parse log facility, ignoring: 128")],
    ),
    (
        "service",
        "Service",
        "SyslogFacility=",
        [("warning", "Failed to parse log facility, ignoring: ")],
    ),
    ("service", "Service", "LogNamespace=foo", []),
    (
        "service",
        "Service",
        "LogNamespace=foo/bar",
        [("warning", "Specified log namespace name is not valid, ignoring: foo/bar")],
    ),
    (
        "service",
        "Service",
        "LogNamespace=fo*o",
        [("warning", "Specified log namespace name is not valid, ignoring: fo*o")],
    ),
    ("service", "Service", "LogNamespace=a:b", []),
    (
        "service",
        "Service",
        "LogNamespace=%Z",
        [("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot")],
    ),
    ("service", "Service", "Personality=x86", []),
    (
        "service",
        "Service",
        "Personality=arm64",
        [("warning", "Failed to parse personality, ignoring: arm64")],
    ),
    (
        "service",
        "Service",
        "Personality=bogus",
        [("warning", "Failed to parse personality, ignoring: bogus")],
    ),
    ("service", "Service", "Personality=", []),
    (
        "service",
        "Service",
        'PassEnvironment=A 1B C-D %Z "x',
        [
            ("warning", "Invalid environment name for PassEnvironment, ignoring: 1B"),
            ("warning", "Invalid environment name for PassEnvironment, ignoring: C-D"),
            ("warning", "Failed to resolve specifiers in %Z, ignoring: Invalid slot"),
            ("warning", 'Trailing garbage in PassEnvironment, ignoring: A 1B C-D %Z "x'),
        ],
    ),
    ("service", "Service", "ExecSearchPath=/usr/bin:/bin", []),
    (
        "service",
        "Service",
        "ExecSearchPath=/usr/bin:relative:/x",
        [("error", "ExecSearchPath= path is not absolute, ignoring: relative")],
    ),
    (
        "service",
        "Service",
        "ExecSearchPath=/a/../b",
        [("error", "ExecSearchPath= path is not normalized, ignoring: /a/../b")],
    ),
    (
        "service",
        "Service",
        "ExecSearchPath=/a::/b",
        [("error", "ExecSearchPath= path is not absolute, ignoring: ")],
    ),
    (
        "service",
        "Service",
        "ExecSearchPath=%Z:/b",
        [("warning", "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot")],
    ),
    ("socket", "Socket", "SocketProtocol=sctp", []),
    (
        "socket",
        "Socket",
        "SocketProtocol=tcp",
        [("warning", "Failed to parse socket protocol, ignoring: tcp")],
    ),
    (
        "socket",
        "Socket",
        "SocketProtocol=bogus",
        [("warning", "Failed to parse socket protocol, ignoring: bogus")],
    ),
    ("socket", "Socket", "SocketProtocol=132", []),
    (
        "socket",
        "Socket",
        "SocketProtocol=",
        [("warning", "Failed to parse socket protocol, ignoring: ")],
    ),
    ("socket", "Socket", "BindToDevice=eth0", []),
    ("socket", "Socket", "BindToDevice=*", []),
    (
        "socket",
        "Socket",
        "BindToDevice=a/b",
        [("warning", "Invalid interface name, ignoring: a/b")],
    ),
    ("socket", "Socket", "BindToDevice=12", [("warning", "Invalid interface name, ignoring: 12")]),
    ("socket", "Socket", "MessageQueueMaxMessages=10", []),
    (
        "socket",
        "Socket",
        "MessageQueueMaxMessages=x",
        [("warning", "Failed to parse long value, ignoring: x")],
    ),
    (
        "socket",
        "Socket",
        "MessageQueueMessageSize=99999999999999999999",
        [("warning", "Failed to parse long value, ignoring: 99999999999999999999")],
    ),
    ("socket", "Socket", 'TCPCongestion=cubic "x', []),
    ("swap", "Swap", "Priority=5", []),
    (
        "swap",
        "Swap",
        "Priority=-2",
        [
            (
                "warning",
                "Sorry, swap priorities smaller than -1 may only be assigned by the kernel it"
                "self, ignoring: -2",
            )
        ],
    ),
    (
        "swap",
        "Swap",
        "Priority=40000",
        [("warning", "Swap priority out of range, ignoring: 40000")],
    ),
    ("swap", "Swap", "Priority=x", [("warning", "Invalid swap priority 'x', ignoring.")]),
    (
        "service",
        "Unit",
        "SuccessActionExitStatus=256",
        [("warning", "Failed to parse exit status '256', ignoring: Numerical result out of range")],
    ),
    (
        "service",
        "Unit",
        "FailureActionExitStatus=x",
        [("warning", "Failed to parse exit status 'x', ignoring: Invalid argument")],
    ),
    (
        "service",
        "Unit",
        "FailureActionExitStatus=-1",
        [("warning", "Failed to parse exit status '-1', ignoring: Numerical result out of range")],
    ),
    ("service", "Unit", "FailureActionExitStatus=", []),
    (
        "service",
        "Unit",
        "RequiresOverridable=foo.service",
        [
            (
                "warning",
                "Unit dependency type RequiresOverridable= is obsolete, replacing by Requires"
                "=, please update your unit file",
            )
        ],
    ),
    (
        "service",
        "Unit",
        "RequisiteOverridable=bad",
        [
            (
                "warning",
                "Unit dependency type RequisiteOverridable= is obsolete, replacing by Requisi"
                "te=, please update your unit file",
            ),
            ("warning", "Failed to add dependency on bad, ignoring: Invalid argument"),
        ],
    ),
]

ROWS += [
    ("service", "Service", "StandardInputText=hello %n", []),
    (
        "service",
        "Service",
        "StandardInputText=bad \\q",
        [("warning", "Failed to decode C escaped text 'bad \\q', ignoring: Invalid argument")],
    ),
    (
        "service",
        "Service",
        "StandardInputText=%Z",
        [("warning", "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot")],
    ),
    (
        "service",
        "Service",
        "StandardInputText=nul \\x00",
        [("warning", "Failed to decode C escaped text 'nul \\x00', ignoring: Invalid argument")],
    ),
    ("service", "Service", "StandardInputData=aGVsbG8=", []),
    (
        "service",
        "Service",
        "StandardInputData=aGVsbG8",
        [("warning", "Failed to decode base64 data, ignoring: aGVsbG8")],
    ),
    ("service", "Service", "StandardInputData=a GVs bG8=", []),
    (
        "service",
        "Service",
        "StandardInputData=!!",
        [("warning", "Failed to decode base64 data, ignoring: !!")],
    ),
    ("service", "Service", 'LogExtraFields=FOO=bar "BAZ=a b"', []),
    (
        "service",
        "Service",
        'LogExtraFields=NOEQ foo=1 _X=1 1A=2 %Z "x',
        [
            ("warning", "Log field lacks '=' character, ignoring: NOEQ"),
            ("warning", "Log field name is invalid, ignoring: foo=1"),
            ("warning", "Log field name is invalid, ignoring: _X=1"),
            ("warning", "Log field name is invalid, ignoring: 1A=2"),
            ("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot"),
            ("warning", 'Invalid syntax, ignoring: NOEQ foo=1 _X=1 1A=2 %Z "x'),
        ],
    ),
    ("service", "Service", "RootHash=/x.roothash", []),
    ("service", "Service", "RootHash=0123456789abcdef0123456789abcdef", []),
    (
        "service",
        "Service",
        "RootHash=0123",
        [("warning", "RootHash= is too short, ignoring: 0123")],
    ),
    (
        "service",
        "Service",
        "RootHash=xyz",
        [("warning", "Failed to decode RootHash=, ignoring: xyz")],
    ),
    (
        "service",
        "Service",
        "RootHash=012",
        [("warning", "Failed to decode RootHash=, ignoring: 012")],
    ),
    ("service", "Service", "RootHashSignature=/x.p7s", []),
    ("service", "Service", "RootHashSignature=base64:aGVsbG8=", []),
    (
        "service",
        "Service",
        "RootHashSignature=base64:!!",
        [("warning", "Failed to decode RootHashSignature=, ignoring: base64:!!")],
    ),
    (
        "service",
        "Service",
        "RootHashSignature=aGVsbG8=",
        [
            (
                "warning",
                "Failed to decode RootHashSignature=, not a path but doesn't start with 'base"
                "64:', ignoring: aGVsbG8=",
            )
        ],
    ),
    ("service", "Service", "SetCredential=foo:bar", []),
    ("service", "Service", "SetCredential=foo", [("warning", "Invalid syntax, ignoring: foo")]),
    ("service", "Service", "SetCredential=foo:", [("warning", "Invalid syntax, ignoring: foo:")]),
    (
        "service",
        "Service",
        "SetCredential=a/b:x",
        [("warning", 'Credential name "a/b" not valid, ignoring.')],
    ),
    (
        "service",
        "Service",
        "SetCredential=%Z:x",
        [("warning", 'Failed to resolve unit specifiers in "%Z", ignoring: Invalid slot')],
    ),
    (
        "service",
        "Service",
        "SetCredential=foo:bad\\q",
        [("warning", 'Can\'t unescape "bad\\q", ignoring: Invalid argument')],
    ),
    ("service", "Service", "SetCredential=foo:nul\\x00ok", []),
    ("service", "Service", "SetCredentialEncrypted=foo:aGVsbG8=", []),
    (
        "service",
        "Service",
        "SetCredentialEncrypted=foo:!!",
        [("warning", "Encrypted credential data not valid Base64 data, ignoring.")],
    ),
    (
        "service",
        "Service",
        'TemporaryFileSystem=/tmp:size=10M rel /a/../b %Z "x',
        [
            ("error", "TemporaryFileSystem= path is not absolute, ignoring: rel"),
            ("error", "TemporaryFileSystem= path is not normalized, ignoring: /a/../b"),
            ("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot"),
            ("warning", 'Failed to extract first word, ignoring: /tmp:size=10M rel /a/../b %Z "x'),
        ],
    ),
    (
        "service",
        "Service",
        "TemporaryFileSystem=:ro",
        [("error", "TemporaryFileSystem= path is not absolute, ignoring: ")],
    ),
    (
        "service",
        "Service",
        "BindPaths=/a /b:/c /d:/e:norbind /f:/g:bogus -/h:rel /i: rel",
        [
            ("warning", "Invalid option string, ignoring setting: bogus"),
            ("error", "BindPaths= path is not absolute, ignoring: rel"),
            ("error", "BindPaths= path is not absolute, ignoring: "),
            ("error", "BindPaths= path is not absolute, ignoring: rel"),
        ],
    ),
    (
        "service",
        "Service",
        'BindReadOnlyPaths=/a:/b:rbind %Z /x:%Z "y',
        [
            ("warning", 'Failed to resolve unit specifiers in "%Z", ignoring: Invalid slot'),
            ("warning", 'Failed to resolve specifiers in "%Z", ignoring: Invalid slot'),
            ("warning", 'Failed to parse BindReadOnlyPaths, ignoring: /a:/b:rbind %Z /x:%Z "y'),
        ],
    ),
    (
        "service",
        "Service",
        "BindPaths=/a/../b:/c",
        [("error", "BindPaths= path is not normalized, ignoring: /a/../b")],
    ),
    (
        "service",
        "Service",
        "BindPaths=/a::/c",
        [("error", "BindPaths= path is not absolute, ignoring: ")],
    ),
    (
        "service",
        "Service",
        "RestrictFileSystems=ext4 @basic-api @bogus foo",
        [("warning", "bpf-lsm: Unknown filesystem group, ignoring: @bogus")],
    ),
    (
        "service",
        "Service",
        'RestrictFileSystems=~@x "y',
        [
            ("warning", "bpf-lsm: Unknown filesystem group, ignoring: @x"),
            ("warning", 'Trailing garbage in RestrictFileSystems, ignoring: @x "y'),
        ],
    ),
]

ROWS += [
    ("service", "Service", "RootImageOptions=ro", []),
    ("service", "Service", "RootImageOptions=root:ro usr:nosuid", []),
    (
        "service",
        "Service",
        "RootImageOptions=bogus:ro",
        [("warning", "Invalid partition name bogus, ignoring")],
    ),
    (
        "service",
        "Service",
        "RootImageOptions=a:b:c",
        [("warning", "Failed to parse RootImageOptions, ignoring: a:b:c")],
    ),
    (
        "service",
        "Service",
        "RootImageOptions=root:%Z",
        [("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot")],
    ),
    (
        "service",
        "Service",
        'RootImageOptions="x',
        [("warning", 'Failed to parse RootImageOptions, ignoring: "x')],
    ),
    (
        "service",
        "Service",
        "RootImageOptions=%Z",
        [("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot")],
    ),
    ("service", "Service", "MountImages=/a.raw:/mnt", []),
    (
        "service",
        "Service",
        "MountImages=/a.raw",
        [("warning", "Missing destination in MountImages, ignoring: /a.raw")],
    ),
    (
        "service",
        "Service",
        "MountImages=rel:/mnt",
        [("error", "MountImages= path is not absolute, ignoring: rel")],
    ),
    (
        "service",
        "Service",
        "MountImages=/a.raw:rel",
        [("error", "MountImages= path is not absolute, ignoring: rel")],
    ),
    ("service", "Service", "MountImages=-/a.raw:/mnt:root:ro:usr:nosuid", []),
    (
        "service",
        "Service",
        "MountImages=/a.raw:/mnt:bogus:ro",
        [("warning", "Invalid partition name bogus, ignoring")],
    ),
    (
        "service",
        "Service",
        "MountImages=/a.raw:/mnt:%Z",
        [("warning", "Failed to resolve unit specifiers in /a.raw, ignoring: Invalid slot")],
    ),
    (
        "service",
        "Service",
        "MountImages=/a.raw:/mnt:root:%Z",
        [("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot")],
    ),
    (
        "service",
        "Service",
        'MountImages=%Z:/mnt /b.raw:%Z "x',
        [
            ("warning", 'Failed to resolve unit specifiers in "%Z", ignoring: Invalid slot'),
            ("warning", 'Failed to resolve specifiers in "%Z", ignoring: Invalid slot'),
            (
                "warning",
                'Invalid syntax MountImages=%Z:/mnt /b.raw:%Z "x, ignoring: Invalid argument',
            ),
        ],
    ),
    ("service", "Service", "ExtensionImages=/a.raw", []),
    (
        "service",
        "Service",
        "ExtensionImages=rel",
        [("error", "ExtensionImages= path is not absolute, ignoring: rel")],
    ),
    (
        "service",
        "Service",
        "ExtensionImages=-/a.raw:root:ro:bogus:x",
        [("warning", "Invalid partition name bogus, ignoring")],
    ),
    (
        "service",
        "Service",
        "ExtensionImages=/a.raw:%Z",
        [("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot")],
    ),
    (
        "service",
        "Service",
        'ExtensionImages=/a.raw:root:%Z /b/../c "x',
        [
            ("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot"),
            ("error", "ExtensionImages= path is not normalized, ignoring: /b/../c"),
            (
                "warning",
                'Invalid syntax ExtensionImages=/a.raw:root:%Z /b/../c "x, ignoring: Invalid '
                "argument",
            ),
        ],
    ),
]

ROWS += [
    (
        "service",
        "Service",
        "PIDFile=/run/../x.pid",
        [("error", "PIDFile= path is not normalized, ignoring: /run/../x.pid")],
    ),
    (
        "service",
        "Service",
        "PIDFile=foo/../x.pid",
        [("error", "PIDFile= path is not normalized, ignoring: /run/foo/../x.pid")],
    ),
    ("service", "Service", "PIDFile=x.pid", []),
    ("service", "Service", "PIDFile=/var/run/x.pid", []),
]

ROWS += [
    (
        "timer",
        "Timer",
        "Unit=t.timer",
        [("warning", "Units cannot trigger themselves, ignoring: t.timer")],
    ),
    (
        "service",
        "Service",
        "BusName=not..valid",
        [("warning", "Invalid bus name, ignoring: not..valid")],
    ),
    ("service", "Service", "BusName=org.foo", []),
    (
        "service",
        "Service",
        "BusName=org.1foo",
        [("warning", "Invalid bus name, ignoring: org.1foo")],
    ),
    ("service", "Service", "BusName=:1.2", []),
    ("service", "Service", "BusName=nodot", [("warning", "Invalid bus name, ignoring: nodot")]),
    ("service", "Service", "BusName=", [("warning", "Invalid bus name, ignoring: ")]),
    (
        "service",
        "Service",
        "BusName=%Z",
        [("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot")],
    ),
    (
        "service",
        "Service",
        "Sockets=foo bar.socket",
        [("warning", "Unit must be of type socket, ignoring: foo")],
    ),
    ("service", "Service", "Sockets=a..b.socket", []),
    ("service", "Service", "Sockets=x@.socket", []),
    (
        "service",
        "Service",
        'Sockets="x.socket',
        [
            ("warning", 'Failed to add dependency on "x.socket, ignoring: Invalid argument'),
            ("warning", 'Failed to add dependency on "x.socket, ignoring: Invalid argument'),
        ],
    ),
    (
        "service",
        "Service",
        "Slice=foo.service",
        [
            (
                "warning",
                "Failed to assign slice foo.service to unit t.service, ignoring: Invalid argument",
            )
        ],
    ),
    (
        "service",
        "Service",
        "Slice=foo",
        [("warning", "Failed to load slice unit foo, ignoring: Unit name foo is not valid.")],
    ),
    (
        "service",
        "Service",
        "Slice=x@.slice",
        [
            (
                "warning",
                "Failed to load slice unit x@.slice, ignoring: Unit name x@.slice is missing "
                "the instance name.",
            )
        ],
    ),
    ("service", "Service", "Slice=a..b.slice", []),
    ("service", "Service", "Slice=-.slice", []),
    (
        "service",
        "Service",
        "Slice=",
        [("warning", "Failed to load slice unit , ignoring: Unit name  is not valid.")],
    ),
    (
        "service",
        "Service",
        "Slice=%Z",
        [("warning", "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot")],
    ),
    (
        "slice",
        "Slice",
        "Slice=-.slice",
        [
            (
                "warning",
                "Failed to assign slice -.slice to unit t.slice, ignoring: Invalid argument",
            )
        ],
    ),
    (
        "slice",
        "Slice",
        "Slice=foo",
        [("warning", "Failed to load slice unit foo, ignoring: Unit name foo is not valid.")],
    ),
    ("timer", "Timer", "Unit=foo", [("warning", "Unit type not valid, ignoring: foo")]),
    ("timer", "Timer", "Unit=foo.timer", []),
    ("timer", "Timer", "Unit=x@.service", []),
    ("timer", "Timer", "Unit=", [("warning", "Unit type not valid, ignoring: ")]),
    ("timer", "Timer", "Unit=foo.bogus", [("warning", "Unit type not valid, ignoring: foo.bogus")]),
    ("path", "Path", "Unit=x", [("warning", "Unit type not valid, ignoring: x")]),
    (
        "socket",
        "Socket",
        "Service=foo.socket",
        [("warning", "Unit must be of type service, ignoring: foo.socket")],
    ),
    (
        "socket",
        "Socket",
        "Service=x@.service",
        [
            (
                "warning",
                "Failed to load unit x@.service, ignoring: Unit name x@.service is missing th"
                "e instance name.",
            )
        ],
    ),
    ("socket", "Socket", "Service=a..b.service", []),
    ("socket", "Socket", "Service=", [("warning", "Unit must be of type service, ignoring: ")]),
    ("socket", "Socket", "Service=foo.service", []),
    (
        "service",
        "Service",
        "RootDirectory=relative",
        [("error", "RootDirectory= path is not absolute: relative")],
    ),
    (
        "service",
        "Service",
        "RootDirectory=/a/../b",
        [("error", "RootDirectory= path is not normalized: /a/../b")],
    ),
    (
        "service",
        "Service",
        "RootImage=%Z",
        [("error", "Failed to resolve unit specifiers in '%Z': Invalid slot")],
    ),
    (
        "service",
        "Service",
        "TTYPath=relative",
        [("error", "TTYPath= path is not absolute, ignoring: relative")],
    ),
    (
        "service",
        "Service",
        "WorkingDirectory=relative",
        [("error", "WorkingDirectory= path is not absolute: relative")],
    ),
    (
        "service",
        "Service",
        "WorkingDirectory=-relative",
        [("error", "WorkingDirectory= path is not absolute, ignoring: relative")],
    ),
    (
        "service",
        "Service",
        "WorkingDirectory=/a/../b",
        [("error", "WorkingDirectory= path is not normalized: /a/../b")],
    ),
    ("service", "Service", "WorkingDirectory=~", []),
    ("service", "Service", "WorkingDirectory=-~", []),
    (
        "service",
        "Unit",
        'RequiresMountsFor=relative /ok /a/../b %Z "x',
        [
            ("error", "RequiresMountsFor= path is not absolute, ignoring: relative"),
            ("error", "RequiresMountsFor= path is not normalized, ignoring: /a/../b"),
            ("warning", "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot"),
            ("warning", 'Invalid syntax, ignoring: relative /ok /a/../b %Z "x'),
        ],
    ),
    (
        "service",
        "Unit",
        "SourcePath=relative",
        [("error", "SourcePath= path is not absolute, ignoring: relative")],
    ),
    (
        "service",
        "Service",
        "USBFunctionDescriptors=relative",
        [("error", "USBFunctionDescriptors= path is not absolute, ignoring: relative")],
    ),
    (
        "service",
        "Service",
        "NetworkNamespacePath=relative",
        [("error", "NetworkNamespacePath= path is not absolute, ignoring: relative")],
    ),
    (
        "service",
        "Service",
        "EnvironmentFile=relative",
        [("error", "EnvironmentFile= path is not absolute, ignoring: relative")],
    ),
    (
        "service",
        "Service",
        "EnvironmentFile=-relative",
        [("error", "EnvironmentFile= path is not absolute, ignoring: relative")],
    ),
    (
        "service",
        "Service",
        "EnvironmentFile=-/a/../b",
        [("error", "EnvironmentFile= path is not normalized, ignoring: /a/../b")],
    ),
    (
        "path",
        "Path",
        "PathExists=relative",
        [("error", "PathExists= path is not absolute, ignoring: relative")],
    ),
    (
        "path",
        "Path",
        "PathChanged=/a/../b",
        [("error", "PathChanged= path is not normalized, ignoring: /a/../b")],
    ),
    ("path", "Path", "PathModified=", []),
    (
        "socket",
        "Socket",
        "Symlinks=/a rel /b",
        [("error", "Symlinks= path is not absolute, ignoring: rel")],
    ),
    (
        "socket",
        "Socket",
        'Symlinks=/a/../b "x',
        [("error", "Symlinks= path is not normalized, ignoring: /a/../b")],
    ),
]

ROWS += [
    ("service", "Unit", 'Documentation="x', [("warning", 'Invalid syntax, ignoring: "x')]),
    (
        "service",
        "Unit",
        'Documentation=man:a "x',
        [("warning", 'Invalid syntax, ignoring: man:a "x')],
    ),
    (
        "service",
        "Unit",
        "Documentation=man:ä http://ok file:/x info:",
        [("warning", "Invalid URL, ignoring: man:ä"), ("warning", "Invalid URL, ignoring: info:")],
    ),
    (
        "service",
        "Unit",
        "ConditionPathExists=/a/../b",
        [("error", "ConditionPathExists= path is not normalized, ignoring: /a/../b")],
    ),
    (
        "service",
        "Unit",
        "AssertPathIsDirectory=|!rel",
        [("error", "AssertPathIsDirectory= path is not absolute, ignoring: rel")],
    ),
    ("service", "Unit", "ConditionPathExists=|!/a//b/", []),
    (
        "service",
        "Service",
        "TimeoutAbortSec=bogus",
        [("warning", "Failed to parse TimeoutAbortSec= setting, ignoring: bogus")],
    ),
    ("service", "Service", "TimeoutAbortSec=", []),
    (
        "service",
        "Service",
        "CoredumpFilter=-1",
        [
            (
                "warning",
                "Failed to parse the CoredumpFilter=-1, ignoring: Numerical result out of range",
            )
        ],
    ),
    (
        "service",
        "Service",
        "CoredumpFilter=default -5 x",
        [
            (
                "warning",
                "Failed to parse the CoredumpFilter=default -5 x, ignoring: Numerical result "
                "out of range",
            )
        ],
    ),
    (
        "service",
        "Service",
        "CoredumpFilter=zz -1",
        [("warning", "Failed to parse the CoredumpFilter=zz -1, ignoring: Invalid argument")],
    ),
    (
        "service",
        "Service",
        "CPUSchedulingPriority=",
        [("warning", "Failed to parse CPU scheduling priority, ignoring: ")],
    ),
    (
        "service",
        "Service",
        "MemoryMin=-1",
        [("warning", "Invalid memory limit '-1', ignoring: Numerical result out of range")],
    ),
    (
        "service",
        "Service",
        "MemoryMax=0%",
        [("warning", "Memory limit '0%' out of range, ignoring.")],
    ),
    ("service", "Service", "MemoryLow=0%", []),
    (
        "service",
        "Service",
        "MemoryLimit=",
        [
            (
                "warning",
                "Unit uses MemoryLimit=; please use MemoryMax= instead. Support for MemoryLim"
                "it= will be removed soon.",
            )
        ],
    ),
    (
        "service",
        "Service",
        "MemoryLimit=-1",
        [("warning", "Invalid memory limit '-1', ignoring: Numerical result out of range")],
    ),
    (
        "service",
        "Service",
        "MemoryLimit=1G",
        [
            (
                "warning",
                "Unit uses MemoryLimit=; please use MemoryMax= instead. Support for MemoryLim"
                "it= will be removed soon.",
            )
        ],
    ),
    (
        "service",
        "Service",
        "MemoryHigh=99999999999999999999",
        [
            (
                "warning",
                "Invalid memory limit '99999999999999999999', ignoring: Numerical result out "
                "of range",
            )
        ],
    ),
    (
        "service",
        "Service",
        "MemoryMax=1Q",
        [("warning", "Invalid memory limit '1Q', ignoring: Invalid argument")],
    ),
]

ROWS += [
    (
        "service",
        "Service",
        "ReadWritePaths=1%",
        [("error", "ReadWritePaths= path is not absolute, ignoring: 1%")],
    ),
    (
        "service",
        "Service",
        "Environment=1%",
        [("warning", "Invalid environment assignment, ignoring: 1%")],
    ),
    ("service", "Service", "AllowedCPUs=1%", [("error", "Failed to parse CPU affinity '1%'")]),
    (
        "service",
        "Service",
        "Slice=1%",
        [("warning", "Failed to load slice unit 1%, ignoring: Unit name 1% is not valid.")],
    ),
    (
        "service",
        "Service",
        "DeviceAllow=1%",
        [("warning", "Invalid device node path '1%', ignoring.")],
    ),
    (
        "socket",
        "Socket",
        "ListenStream=1%",
        [("warning", "Failed to parse address value in '1%', ignoring: Invalid argument")],
    ),
    (
        "service",
        "Service",
        "LogNamespace=1%",
        [("warning", "Specified log namespace name is not valid, ignoring: 1%")],
    ),
    ("service", "Service", "Environment=A=50%", []),
    ("service", "Service", "Environment=A=%%n", []),
]


@pytest.mark.parametrize(("unit_type", "section", "line", "expected"), ROWS)
def test_values(unit_type: str, section: str, line: str, expected: list[tuple[str, str]]) -> None:
    name = "mnt-x.mount" if unit_type == "mount" else f"t.{unit_type}"
    found = lint(name, f"[{section}]\n{line}\n")
    assert [(f.severity, f.message) for f in found] == expected
    assert all(f.line == 2 and f.key == line.partition("=")[0] for f in found)


def test_fatal_user_stops_the_parse() -> None:
    found = lint("t.service", "[Service]\nUser=a:b\nFoo=1\n")
    assert [(f.line, f.severity) for f in found] == [(2, "error")]
    found = lint("t.service", "[Service]\nSupplementaryGroups=ok %Q\nFoo=1\n")
    assert [(f.line, f.message) for f in found] == [
        (2, "Failed to resolve unit specifiers in %Q: Invalid slot")
    ]


@pytest.mark.parametrize(
    ("name", "valid"),
    [("root", True), ("0", True), ("1000", True), ("65535", False), ("4294967295", False),
     ("007", False), ("-1", False), ("+1", True), ("a b", True), (" a", False), ("a:b", False),
     ("a/b", False), (".", False), ("..", False), ("", False), ("Dörte", True), ("a\tb", False)],
)  # fmt: skip
def test_user_names(name: str, valid: bool) -> None:
    assert valid_user_group_name_relaxed(name) is valid


def test_name_helpers() -> None:
    assert credential_name_valid("tls.key") and not credential_name_valid("a:b")
    assert not credential_name_valid("..") and not credential_name_valid("")
    assert fdname_is_valid("") and not fdname_is_valid("ä") and not fdname_is_valid("x" * 256)
    assert path_simplify_and_warn("/a//b/", 1, "K") is None
    assert path_simplify_and_warn("/a/../b", 1, "K") == [
        ("error", "K= path is not normalized, ignoring: /a/../b", False)
    ]
    too_long = "/" + "a" * 300
    assert path_simplify_and_warn(too_long, 0, "K") == [
        ("error", "K= path has invalid length (301 bytes), ignoring.", False)
    ]


def test_ported_parsers_are_listed() -> None:
    for name in (
        "config_parse_load_credential",
        "config_parse_device_allow",
        "config_parse_namespace_path_strv",
        "config_parse_exec_directories",
    ):
        assert name in CHECKED_PARSERS


def test_pid_file_not_normalized_is_fatal() -> None:
    found = lint("t.service", "[Service]\nPIDFile=/run/../x.pid\nFoo=1\n")
    assert [(f.line, f.severity, f.message) for f in found] == [
        (2, "error", "PIDFile= path is not normalized, ignoring: /run/../x.pid")
    ]


# What systemd-analyze verify 252 prints for these files below /etc (LOG_NOTICE; it says
# nothing for the same files elsewhere).
VAR_RUN = [
    ("v.service", "[Service]\nPIDFile=/var/run//y/./z.pid\n",
     "PIDFile= references a path below legacy directory /var/run/, updating /var/run/y/z.pid"
     " \u2192 /run/y/z.pid; please update the unit file accordingly."),
    ("w.socket", "[Socket]\nListenStream=/var/run/x.sock\n",
     "ListenStream= references a path below legacy directory /var/run/, updating /var/run/x.sock"
     " \u2192 /run/x.sock; please update the unit file accordingly."),
    ("w.socket", "[Socket]\nListenFIFO=/var/run//y.fifo\n",
     "ListenFIFO= references a path below legacy directory /var/run/, updating /var/run/y.fifo"
     " \u2192 /run/y.fifo; please update the unit file accordingly."),
    ("w.socket", "[Socket]\nListenSequentialPacket=/var/run\n",
     "ListenSequentialPacket= references a path below legacy directory /var/run/, updating"
     " /var/run \u2192 /run/; please update the unit file accordingly."),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "message"), VAR_RUN)
def test_var_run_notice_below_etc(name: str, text: str, message: str) -> None:
    assert [f.message for f in lint(f"/etc/systemd/system/{name}", text)] == [message]
    assert lint(f"/usr/lib/systemd/system/{name}", text) == []
    assert lint(f"/etc/systemd/system/{name}", text.replace("/var/run", "/run")) == []


def test_multiple_trigger_units() -> None:
    # UNIT_TRIGGER(u): once a .timer or .path has a unit to trigger, later Unit= are ignored
    text = "[Path]\nUnit=bad\nUnit=b.service\nUnit=c.service\n"
    assert [(f.line, f.message) for f in lint("m.path", text)] == [
        (2, "Unit type not valid, ignoring: bad"),
        (4, "Multiple units to trigger specified, ignoring: c.service"),
    ]
    dropin = "/etc/systemd/system/m.timer.d/x.conf"
    assert [f.message for f in lint(dropin, "[Timer]\nUnit=m.timer\n")] == [
        "Units cannot trigger themselves, ignoring: m.timer"
    ]
