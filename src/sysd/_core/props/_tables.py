"""Name tables systemd 252 compiles in (x86-64 Linux, glibc 2.36 headers, as Debian 12 builds it).

Each table says where it comes from.  Lookups that systemd does with a gperf hash built with
``--ignore-case`` (errno, capability and IP protocol names) are case-insensitive here too;
string-table lookups (``DEFINE_STRING_TABLE_LOOKUP``) are exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _pairs(text: str) -> dict[str, int]:
    return {name: int(value, 0) for name, value in (item.split("=") for item in text.split())}


#: errno names (errno-list.txt: every ``#define E...`` of <errno.h>, aliases included), upper-case.
ERRNO_BY_NAME: Final[Mapping[str, int]] = _pairs("""
EPERM=1 ENOENT=2 ESRCH=3 EINTR=4 EIO=5 ENXIO=6 E2BIG=7 ENOEXEC=8 EBADF=9 ECHILD=10 EAGAIN=11
EWOULDBLOCK=11 ENOMEM=12 EACCES=13 EFAULT=14 ENOTBLK=15 EBUSY=16 EEXIST=17 EXDEV=18
ENODEV=19 ENOTDIR=20 EISDIR=21 EINVAL=22 ENFILE=23 EMFILE=24 ENOTTY=25 ETXTBSY=26 EFBIG=27
ENOSPC=28 ESPIPE=29 EROFS=30 EMLINK=31 EPIPE=32 EDOM=33 ERANGE=34 EDEADLK=35 EDEADLOCK=35
ENAMETOOLONG=36 ENOLCK=37 ENOSYS=38 ENOTEMPTY=39 ELOOP=40 ENOMSG=42 EIDRM=43 ECHRNG=44
EL2NSYNC=45 EL3HLT=46 EL3RST=47 ELNRNG=48 EUNATCH=49 ENOCSI=50 EL2HLT=51 EBADE=52 EBADR=53
EXFULL=54 ENOANO=55 EBADRQC=56 EBADSLT=57 EBFONT=59 ENOSTR=60 ENODATA=61 ETIME=62 ENOSR=63
ENONET=64 ENOPKG=65 EREMOTE=66 ENOLINK=67 EADV=68 ESRMNT=69 ECOMM=70 EPROTO=71 EMULTIHOP=72
EDOTDOT=73 EBADMSG=74 EOVERFLOW=75 ENOTUNIQ=76 EBADFD=77 EREMCHG=78 ELIBACC=79 ELIBBAD=80
ELIBSCN=81 ELIBMAX=82 ELIBEXEC=83 EILSEQ=84 ERESTART=85 ESTRPIPE=86 EUSERS=87 ENOTSOCK=88
EDESTADDRREQ=89 EMSGSIZE=90 EPROTOTYPE=91 ENOPROTOOPT=92 EPROTONOSUPPORT=93
ESOCKTNOSUPPORT=94 ENOTSUP=95 EOPNOTSUPP=95 EPFNOSUPPORT=96 EAFNOSUPPORT=97 EADDRINUSE=98
EADDRNOTAVAIL=99 ENETDOWN=100 ENETUNREACH=101 ENETRESET=102 ECONNABORTED=103 ECONNRESET=104
ENOBUFS=105 EISCONN=106 ENOTCONN=107 ESHUTDOWN=108 ETOOMANYREFS=109 ETIMEDOUT=110
ECONNREFUSED=111 EHOSTDOWN=112 EHOSTUNREACH=113 EALREADY=114 EINPROGRESS=115 ESTALE=116
EUCLEAN=117 ENOTNAM=118 ENAVAIL=119 EISNAM=120 EREMOTEIO=121 EDQUOT=122 ENOMEDIUM=123
EMEDIUMTYPE=124 ECANCELED=125 ENOKEY=126 EKEYEXPIRED=127 EKEYREVOKED=128 EKEYREJECTED=129
EOWNERDEAD=130 ENOTRECOVERABLE=131 ERFKILL=132 EHWPOISON=133
""")
ERRNO_MAX: Final = 4095

#: Capability names by number (cap-list.txt, linux/capability.h + missing_capability.h), lower-case
#: and without the ``cap_`` prefix.
CAPABILITIES: Final[tuple[str, ...]] = _words("""
chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap linux_immutable
net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module sys_rawio
sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time sys_tty_config
mknod lease audit_write audit_control setfcap mac_override mac_admin syslog wake_alarm
block_suspend audit_read perfmon bpf checkpoint_restore
""")
CAPABILITY_BY_NAME: Final[Mapping[str, int]] = {
    "cap_" + name: number for number, name in enumerate(CAPABILITIES)
}

#: IP protocol names (ip-protocol-list.txt: ``IPPROTO_*`` macros of <netinet/in.h>), lower-case.
#: ``hopopts`` (0) is accepted by name but is not in the number -> name table.
IP_PROTOCOL_BY_NAME: Final[Mapping[str, int]] = _pairs("""
ip=0 hopopts=0 icmp=1 igmp=2 ipip=4 tcp=6 egp=8 pup=12 udp=17 idp=22 tp=29 dccp=33 ipv6=41
routing=43 fragment=44 rsvp=46 gre=47 esp=50 ah=51 icmpv6=58 none=59 dstopts=60 mtp=92
beetph=94 encap=98 pim=103 comp=108 sctp=132 mh=135 udplite=136 mpls=137 ethernet=143 raw=255
mptcp=262
""")
IP_PROTOCOL_NUMBERS: Final = frozenset(v for k, v in IP_PROTOCOL_BY_NAME.items() if k != "hopopts")

#: Signals by name, without ``SIG`` (signal-util.c ``static_signal_table``, x86-64 numbers).
SIGNAL_BY_NAME: Final[Mapping[str, int]] = _pairs("""
HUP=1 INT=2 QUIT=3 ILL=4 TRAP=5 ABRT=6 BUS=7 FPE=8 KILL=9 USR1=10 SEGV=11 USR2=12 PIPE=13
ALRM=14 TERM=15 STKFLT=16 CHLD=17 CONT=18 STOP=19 TSTP=20 TTIN=21 TTOU=22 URG=23 XCPU=24
XFSZ=25 VTALRM=26 PROF=27 WINCH=28 IO=29 PWR=30 SYS=31
""")
SIGRTMIN: Final = 34  # glibc's __libc_current_sigrtmin()
SIGRTMAX: Final = 64
NSIG: Final = 65

#: Exit status names (exit-status.c ``exit_status_mappings``), searched in number order.
EXIT_STATUS_BY_NAME: Final[Mapping[str, int]] = _pairs("""
SUCCESS=0 FAILURE=1 INVALIDARGUMENT=2 NOTIMPLEMENTED=3 NOPERMISSION=4 NOTINSTALLED=5
NOTCONFIGURED=6 NOTRUNNING=7 USAGE=64 DATAERR=65 NOINPUT=66 NOUSER=67 NOHOST=68
UNAVAILABLE=69 SOFTWARE=70 OSERR=71 OSFILE=72 CANTCREAT=73 IOERR=74 TEMPFAIL=75 PROTOCOL=76
NOPERM=77 CONFIG=78 CHDIR=200 NICE=201 FDS=202 EXEC=203 MEMORY=204 LIMITS=205 OOM_ADJUST=206
SIGNAL_MASK=207 STDIN=208 STDOUT=209 CHROOT=210 IOPRIO=211 TIMERSLACK=212 SECUREBITS=213
SETSCHEDULER=214 CPUAFFINITY=215 GROUP=216 USER=217 CAPABILITIES=218 CGROUP=219 SETSID=220
CONFIRM=221 STDERR=222 PAM=224 NETWORK=225 NAMESPACE=226 NO_NEW_PRIVILEGES=227 SECCOMP=228
SELINUX_CONTEXT=229 PERSONALITY=230 APPARMOR=231 ADDRESS_FAMILIES=232 RUNTIME_DIRECTORY=233
CHOWN=235 SMACK_PROCESS_LABEL=236 KEYRING=237 STATE_DIRECTORY=238 CACHE_DIRECTORY=239
LOGS_DIRECTORY=240 CONFIGURATION_DIRECTORY=241 NUMA_POLICY=242 CREDENTIALS=243 BPF=244
EXCEPTION=255
""")

#: syslog-util.c: log levels and (unshifted) facilities; numbers up to the max also accepted.
LOG_LEVEL_BY_NAME: Final[Mapping[str, int]] = _pairs("""
emerg=0 alert=1 crit=2 err=3 warning=4 notice=5 info=6 debug=7
""")
LOG_LEVEL_MAX: Final = 7
LOG_FACILITY_BY_NAME: Final[Mapping[str, int]] = _pairs("""
kern=0 user=1 mail=2 daemon=3 auth=4 syslog=5 lpr=6 news=7 uucp=8 cron=9 authpriv=10 ftp=11
local0=16 local1=17 local2=18 local3=19 local4=20 local5=21 local6=22 local7=23
""")
LOG_FACILITY_MAX: Final = 127  # LOG_FAC(~0)

#: ioprio-util.c (classes; numbers up to IOPRIO_N_CLASSES accepted), IOPRIO_BE_NR priorities.
IOPRIO_CLASS_BY_NAME: Final[Mapping[str, int]] = _pairs("none=0 realtime=1 best-effort=2 idle=3")
IOPRIO_CLASS_MAX: Final = 8

#: socket-util.c ``ip_tos_table`` (numbers up to 0xff accepted).
IP_TOS_BY_NAME: Final[Mapping[str, int]] = _pairs(
    "low-delay=0x10 throughput=0x08 reliability=0x04 low-cost=0x02"
)

#: process-util.c ``sched_policy_table`` (numbers up to INT_MAX accepted).
SCHED_POLICY_BY_NAME: Final[Mapping[str, int]] = _pairs("other=0 fifo=1 rr=2 batch=3 idle=5")

#: numa-util.c ``mpol_table`` (names only).
MPOL_BY_NAME: Final[Mapping[str, int]] = _pairs("default=0 preferred=1 bind=2 interleave=3 local=4")

#: securebits-util.c (unknown words are ignored).
SECURE_BITS_BY_NAME: Final[Mapping[str, int]] = _pairs("""
noroot=0x01 noroot-locked=0x02 no-setuid-fixup=0x04 no-setuid-fixup-locked=0x08
keep-caps=0x10 keep-caps-locked=0x20
""")

#: coredump-util.c ``coredump_filter_table`` (bit numbers).
COREDUMP_FILTER_BITS: Final[Mapping[str, int]] = _pairs("""
private-anonymous=0 shared-anonymous=1 private-file-backed=2 shared-file-backed=3
elf-headers=4 private-huge=5 shared-huge=6 private-dax=7 shared-dax=8
""")
COREDUMP_FILTER_MASK_DEFAULT: Final = 1 << 0 | 1 << 1 | 1 << 4 | 1 << 5
COREDUMP_FILTER_MASK_ALL: Final = 0xFFFF_FFFF

#: namespace-util.c ``namespace_info`` (clone flags); NAMESPACE_FLAGS_ALL leaves out ``time``.
NAMESPACE_FLAG_BY_NAME: Final[Mapping[str, int]] = _pairs("""
cgroup=0x02000000 ipc=0x08000000 net=0x40000000 mnt=0x00020000 pid=0x20000000
user=0x10000000 uts=0x04000000 time=0x00000080
""")
NAMESPACE_FLAGS_ALL: Final = 0x7E020000

#: MS_SHARED, MS_SLAVE, MS_PRIVATE (mount_propagation_flags_from_string).
MOUNT_PROPAGATION_BY_NAME: Final[Mapping[str, int]] = _pairs(
    "shared=0x100000 slave=0x80000 private=0x40000"
)

#: rlimit-util.c ``rlimit_table`` (Limit<NAME>=) with the parser each one uses.
RLIMIT_KIND: Final[Mapping[str, str]] = {
    "CPU": "sec", "FSIZE": "size", "DATA": "size", "STACK": "size", "CORE": "size",
    "RSS": "size", "NOFILE": "u64", "AS": "size", "NPROC": "u64", "MEMLOCK": "size",
    "LOCKS": "u64", "SIGPENDING": "u64", "MSGQUEUE": "size", "NICE": "nice", "RTPRIO": "u64",
    "RTTIME": "usec",
}  # fmt: skip

#: unit-def.c ``unit_dependency_table``.
UNIT_DEPENDENCIES: Final[tuple[str, ...]] = _words("""
Requires Requisite Wants BindsTo PartOf Upholds RequiredBy RequisiteOf WantedBy BoundBy UpheldBy
ConsistsOf Conflicts ConflictedBy Before After OnSuccess OnSuccessOf OnFailure OnFailureOf
Triggers TriggeredBy PropagatesReloadTo ReloadPropagatedFrom PropagatesStopTo StopPropagatedFrom
JoinsNamespaceOf References ReferencedBy InSlice SliceOf
""")

#: condition.c ``condition_type_table`` without the ``Condition`` prefix (the same suffixes
#: make ``assert_type_table``).
CONDITION_SUFFIXES: Final[tuple[str, ...]] = _words("""
Architecture Firmware Virtualization Host KernelCommandLine KernelVersion Credential Security
Capability ACPower NeedsUpdate FirstBoot PathExists PathExistsGlob PathIsDirectory
PathIsSymbolicLink PathIsMountPoint PathIsReadWrite PathIsEncrypted DirectoryNotEmpty
FileNotEmpty FileIsExecutable User Group ControlGroupController CPUs Memory Environment
CPUFeature OSRelease MemoryPressure CPUPressure IOPressure
""")

#: exec-util.c ``exec_command_strings``, in flag bit order.
EXEC_COMMAND_FLAG_NAMES: Final[tuple[str, ...]] = (
    "ignore-failure", "privileged", "no-setuid", "ambient", "no-env-expand",
)  # fmt: skip
