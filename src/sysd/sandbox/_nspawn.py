"""The host side of a sandbox: requirements, mounts, command lines, processes.

Everything here is a small function over the host (or a pure function that
builds a command line), so the :class:`~sysd.sandbox.Sandbox` class reads as
the recipe it follows and tests can replace one lookup at a time
(``find_program``, ``have_overlayfs``, ``is_root``).

Nothing here imports asyncio or the bus code: ``import sysd.sandbox`` stays
light because the pytest plugin imports it in every test run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SandboxError

__all__ = [
    "ENV_MARKER",
    "ENV_PHASE",
    "ENV_TEST_UID",
    "ENV_TEST_USER",
    "MARKER_FILE",
    "Tools",
    "auto_binds",
    "boot_state",
    "booted",
    "children",
    "ensure_std_fds",
    "check_requirements",
    "clean_environment",
    "find_leader",
    "find_program",
    "have_overlayfs",
    "inside",
    "is_mounted",
    "is_root",
    "mount",
    "mounts_under",
    "nsenter_argv",
    "nspawn_argv",
    "sigint_deferred",
    "sigterm_as_exit",
    "stop_entered",
    "stop_container",
    "process_identity",
    "identity_alive",
    "systemd_run_argv",
    "tail",
    "umount",
]

#: Set to ``1`` for everything sysd runs inside a sandbox (units see it too).
ENV_MARKER = "SYSD_SANDBOX"
#: Name of the unprivileged test user inside the sandbox.
ENV_TEST_USER = "SYSD_TEST_USER"
#: Its numeric uid.
ENV_TEST_UID = "SYSD_TEST_UID"
#: Which half of a split pytest run this process is (``host`` or ``inner``).
ENV_PHASE = "SYSD_SANDBOX_PHASE"
#: Written into the sandbox's root before boot; never present on a real host.
MARKER_FILE = "/etc/sysd-sandbox"

# Extra places for programs when PATH lacks the sbin directories (sudo, cron).
_FALLBACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\r")


# ---------------------------------------------------------------- host checks


def booted() -> bool:
    """True when this host runs systemd as its init (``sd_booted()``)."""
    try:
        return os.lstat("/run/systemd/system").st_mode & 0o170000 == 0o040000
    except OSError:
        return False


def inside() -> bool:
    """True when this process runs inside a sysd sandbox."""
    return os.environ.get(ENV_MARKER) == "1" or os.path.exists(MARKER_FILE)


def is_root() -> bool:
    """True when running with effective uid 0."""
    return os.geteuid() == 0


def find_program(name: str) -> str | None:
    """Absolute path of ``name``, also looking in the sbin directories."""
    path = os.environ.get("PATH", "")
    return shutil.which(name, path=f"{path}:{_FALLBACK_PATH}" if path else _FALLBACK_PATH)


def have_overlayfs() -> bool:
    """True when the kernel offers overlayfs (loading the module if needed and allowed)."""

    def listed() -> bool:
        try:
            with open("/proc/filesystems", encoding="ascii", errors="replace") as f:
                return any(line.split()[-1:] == ["overlay"] for line in f)
        except OSError:
            return False

    if listed():
        return True
    modprobe = find_program("modprobe")
    if modprobe and is_root():
        subprocess.run(
            [modprobe, "-q", "overlay"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return listed()
    return False


def _systemd_binary() -> str | None:
    for candidate in ("/usr/lib/systemd/systemd", "/lib/systemd/systemd"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _apt_lists_present() -> bool:
    lists = Path("/var/lib/apt/lists")
    try:
        return any(p.name.endswith("_Packages") for p in lists.iterdir())
    except OSError:
        return False


def _install_nspawn(apt_get: str) -> None:
    """Install systemd-container with apt-get, saying so on stderr."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [apt_get, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            check=False,
        )

    print(
        "sysd sandbox: systemd-nspawn is missing; installing the Debian package "
        "systemd-container with apt-get (needed once per machine)",
        file=sys.stderr,
        flush=True,
    )
    updated = False
    if not _apt_lists_present():
        print("sysd sandbox: running apt-get update first", file=sys.stderr, flush=True)
        apt("update")
        updated = True
    result = apt("install", "-y", "--no-install-recommends", "systemd-container")
    if result.returncode != 0 and not updated:
        print("sysd sandbox: retrying after apt-get update", file=sys.stderr, flush=True)
        apt("update")
        result = apt("install", "-y", "--no-install-recommends", "systemd-container")
    if result.returncode != 0:
        raise SandboxError(
            "systemd-nspawn is missing and `apt-get install systemd-container` failed "
            f"(exit status {result.returncode}): {_last_lines(result.stdout, 5)}",
            hint="install the systemd-container package by hand",
        )
    print("sysd sandbox: installed systemd-container", file=sys.stderr, flush=True)


def _env_with_signals() -> str | None:
    """coreutils env when it knows --ignore-signal (8.31+), else None."""
    env = find_program("env")
    if env is None:
        return None
    probe = subprocess.run(
        [env, "--ignore-signal=INT", "true"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return env if probe.returncode == 0 else None


@dataclass(frozen=True)
class Tools:
    """Absolute paths of the host programs a sandbox needs."""

    nspawn: str
    nsenter: str
    mount: str
    umount: str
    setpriv: str | None
    env: str | None


def check_requirements(*, install: bool = True) -> Tools:
    """Check that a sandbox can boot here; raise SandboxError naming everything missing.

    When systemd-nspawn is missing, we are root and apt-get exists, install the
    ``systemd-container`` package (announced on stderr) unless ``install`` is false.
    """
    missing: list[str] = []
    hints: list[str] = []
    root = is_root()
    if not root:
        missing.append(f"root privileges (running as uid {os.geteuid()})")
        hints.append("run as root (e.g. with sudo)")
    if not have_overlayfs():
        missing.append("overlayfs (no 'overlay' in /proc/filesystems)")
        hints.append("load the overlay kernel module (modprobe overlay)")
    if _systemd_binary() is None:
        missing.append("systemd itself (/usr/lib/systemd/systemd)")
        hints.append("install the systemd package")
    nspawn = find_program("systemd-nspawn")
    if nspawn is None:
        apt_get = find_program("apt-get")
        if install and root and apt_get is not None:
            _install_nspawn(apt_get)
            nspawn = find_program("systemd-nspawn")
        if nspawn is None:
            missing.append("systemd-nspawn (package systemd-container)")
            if apt_get is None:
                hints.append("install systemd-nspawn (no apt-get here to do it for you)")
            else:
                hints.append("apt-get install systemd-container")
    tools: dict[str, str | None] = {
        name: find_program(name) for name in ("nsenter", "mount", "umount")
    }
    for name, found in tools.items():
        if found is None:
            missing.append(f"{name} (package util-linux)")
    if missing:
        raise SandboxError(
            "cannot boot a sysd sandbox: missing " + "; ".join(missing),
            hint="; ".join(dict.fromkeys(hints)) or None,
        )
    assert nspawn is not None
    return Tools(
        nspawn=nspawn,
        nsenter=tools["nsenter"] or "nsenter",
        mount=tools["mount"] or "mount",
        umount=tools["umount"] or "umount",
        setpriv=find_program("setpriv"),
        env=_env_with_signals(),
    )


# --------------------------------------------------------------------- mounts


def _unescape_mount_path(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _mount_points() -> list[str]:
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="surrogateescape") as f:
            return [_unescape_mount_path(line.split()[1]) for line in f if line.strip()]
    except OSError:
        return []


def is_mounted(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a mount point in this mount namespace."""
    return os.path.abspath(path) in _mount_points()


def mounts_under(path: str | os.PathLike[str]) -> list[str]:
    """Mount points at or below ``path`` in this mount namespace (deepest first)."""
    base = os.path.abspath(path)
    found = [p for p in _mount_points() if p == base or p.startswith(base + "/")]
    return sorted(found, key=len, reverse=True)


def mount(tool: str, fstype: str, source: str, target: str, options: str) -> None:
    """``mount -t FSTYPE -o OPTIONS SOURCE TARGET``; SandboxError with mount's message."""
    result = subprocess.run(
        [tool, "-t", fstype, "-o", options, source, target],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SandboxError(
            f"could not mount {fstype} on {target}: {result.stderr.strip() or result.returncode}"
        )


def umount(tool: str, target: str, *, attempts: int = 20) -> None:
    """Unmount ``target``, retrying while busy; lazily as the very last resort."""
    error = ""
    for i in range(attempts):
        if not is_mounted(target):
            return
        result = subprocess.run(
            [tool, target], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            return
        error = result.stderr.strip()
        time.sleep(min(0.05 * (i + 1), 0.5))
    if is_mounted(target):
        result = subprocess.run(
            [tool, "--lazy", target],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SandboxError(f"could not unmount {target}: {error or result.stderr.strip()}")


def ensure_std_fds() -> None:
    """CI may start us without stdin: put /dev/null on closed fds 0-2 (inheritable)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            os.set_inheritable(fd, True)


# --------------------------------------------------------------- processes


def children(pid: int) -> list[int]:
    """Host pids of the children of ``pid`` (all its threads')."""
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as f:
                kids.extend(int(x) for x in f.read().split())
        except (OSError, ValueError):
            continue
    return kids


def _is_namespace_init(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    fields = line.split()[1:]
                    return len(fields) >= 2 and fields[-1] == "1"
    except OSError:
        pass
    return False


def find_leader(nspawn_pid: int) -> int | None:
    """The pid (on the host) of the container's init, a child of systemd-nspawn."""
    for kid in children(nspawn_pid):
        if _is_namespace_init(kid):
            return kid
    return None


def process_identity(pid: int) -> str:
    """``"PID STARTTIME"``: names a process even after its pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return f"{pid} {fields[19]}"
    except (OSError, IndexError):
        return f"{pid} ?"


def _alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def identity_alive(identity: str) -> bool:
    """True when the process named by :func:`process_identity` still runs."""
    pid_text = identity.split(maxsplit=1)[0] if identity.split() else ""
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    return _alive(pid) and process_identity(pid) == identity


def stop_container(root: Path, timeout: float = 15.0) -> None:
    """Stop a leftover container booted from ``root``: its nspawn, then its init."""
    target = f"--directory={root}"
    nspawns: list[int] = []
    inits: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode("utf-8", "surrogateescape").split("\0")
        except OSError:
            continue
        if target in argv and _alive(pid):
            nspawns.append(pid)
        elif _is_namespace_init(pid) and _alive(pid):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/root") == str(root):
                    inits.append(pid)
    for pid in nspawns:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # a clean halt
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in nspawns + inits) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in inits + nspawns:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # the init of a pid namespace takes it all along


def boot_state(nsenter: str, leader: int, timeout: float) -> str:
    """``systemctl is-system-running`` inside; ``""`` when it cannot be asked yet."""
    with subprocess.Popen(
        nsenter_argv(nsenter, leader, ["systemctl", "is-system-running"]),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=clean_environment({}),
        process_group=0,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            stop_entered(proc, None)
            return ""
    return out.strip()


def stop_entered(
    proc: subprocess.Popen[str], stop: Callable[[subprocess.Popen[str]], None] | None
) -> None:
    """Stop what nsenter started inside (gently, then SIGKILL), then reap nsenter."""
    if proc.poll() is not None:
        return
    if stop is not None:
        with contextlib.suppress(SandboxError, OSError, subprocess.SubprocessError):
            stop(proc)
    for sig, grace in ((signal.SIGINT, 3.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        for kid in children(proc.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(kid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.wait()


def tail(path: str | os.PathLike[str], lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, terminal escapes removed."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"(no log: {exc.strerror})"
    return _last_lines(_ANSI.sub("", data), lines)


def _last_lines(text: str, lines: int) -> str:
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while cleaning up, so Ctrl-C cannot leave mounts behind.

    Only the main thread receives Python signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit(143) so the sandbox is torn down on `kill`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


# Directories whose own binding would hide what the sandbox changed in them
# (/root is made 0755 inside) or that are the system itself.
_NEVER_BIND = frozenset(
    {"/", "/root", "/home", "/usr", "/etc", "/var", "/opt", "/srv", "/tmp", "/mnt", "/media"}
)
_SYSTEM_TREES = ("/proc", "/sys", "/dev", "/run", "/usr", "/etc", "/boot", "/bin", "/sbin", "/lib")


def auto_binds(cwd: str) -> list[str]:
    """The directories to bind for a command run from ``cwd`` (itself, when sensible).

    Outside /tmp the cwd is visible inside anyway (through the overlay) but writes
    there would vanish; under /tmp it is not visible at all (the container's /tmp
    is its own tmpfs).  Binding it fixes both.  System directories are not bound.
    """
    path = os.path.abspath(cwd)
    if path in _NEVER_BIND:
        return []
    if any(path == t or path.startswith(t + "/") for t in _SYSTEM_TREES):
        return []
    return [path]


def runtime_binds() -> list[str]:
    """This interpreter's prefixes and sysd's own tree (an editable install) when the
    overlay cannot show them: under /tmp, which is the container's own tmpfs.  Without
    them ``sysd`` and the venv's Python are not found inside."""
    sysd_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return sorted(p for p in {sys.prefix, sys.base_prefix, sysd_root} if p.startswith("/tmp/"))


# ------------------------------------------------------------- command lines

# Variables that describe the host process's own session, manager or sockets:
# meaningless (or harmful) inside the container.
_DROP_EXACT = frozenset(
    {
        "DBUS_SESSION_BUS_ADDRESS",
        "DBUS_SYSTEM_BUS_ADDRESS",
        "DBUS_STARTER_ADDRESS",
        "DBUS_STARTER_BUS_TYPE",
        "XDG_RUNTIME_DIR",
        "NOTIFY_SOCKET",
        "WATCHDOG_PID",
        "WATCHDOG_USEC",
        "LISTEN_PID",
        "LISTEN_FDS",
        "LISTEN_FDNAMES",
        "INVOCATION_ID",
        "JOURNAL_STREAM",
        "MANAGERPID",
        "SYSTEMD_EXEC_PID",
        "MAINPID",
        "SSH_AUTH_SOCK",
        "SSH_AGENT_PID",
        "SSH_CONNECTION",
        "SSH_CLIENT",
        "SSH_TTY",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "XAUTHORITY",
        "GPG_AGENT_INFO",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
        "TMPDIR",
        "PYTEST_CURRENT_TEST",
        "PYTEST_XDIST_WORKER",
        "PYTEST_XDIST_WORKER_COUNT",
        "PYTEST_XDIST_TESTRUNUID",
    }
)
_DROP_PREFIX = ("XDG_SESSION_", "XDG_SEAT", "XDG_VTNR", "SUDO_", "COVERAGE_RUN")
# What a different user must not inherit from root.
_USER_SPECIFIC = frozenset({"HOME", "USER", "LOGNAME", "SHELL", "MAIL"})
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _valid_env(name: str, value: str) -> bool:
    if not _ENV_NAME.match(name) or len(value) > 64 * 1024:
        return False
    if any(ord(c) < 32 and c not in "\t\n" for c in value) or "\x7f" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes from a non-UTF-8 environment
        return False
    return True


def clean_environment(
    extra: Mapping[str, str], *, inherit: bool = True, user: str | None = None
) -> dict[str, str]:
    """The environment for a command inside: the host's (filtered) plus ``extra``.

    Host-session variables (bus addresses, NOTIFY_SOCKET, SSH agent, XDG session,
    TMPDIR...) are dropped; PATH, VIRTUAL_ENV, locale, PYTHON* and CI variables pass.
    For a user other than root, HOME/USER/LOGNAME/SHELL are left to that user's
    account and its runtime dir and session bus are set.
    """
    env: dict[str, str] = {}
    if inherit:
        for name, value in os.environ.items():
            if name in _DROP_EXACT or name.startswith(_DROP_PREFIX):
                continue
            if user not in (None, "root", "0") and name in _USER_SPECIFIC:
                continue
            if _valid_env(name, value):
                env[name] = value
    env.setdefault("PATH", _FALLBACK_PATH)
    env.update(extra)
    return env


def nspawn_argv(
    nspawn: str,
    *,
    root: str,
    name: str,
    bus_dir: str,
    binds: Sequence[tuple[str, str]] = (),
    setenv: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
    unit: str = "multi-user.target",
) -> list[str]:
    """The systemd-nspawn command line that boots ``root`` as machine ``name``."""
    argv = [
        nspawn,
        f"--directory={root}",
        f"--machine={name}",
        "--register=no",
        "--keep-unit",
        "--private-network",
        "--console=read-only",
        f"--bind={_bind_escape(bus_dir)}:/run/dbus",
    ]
    for src, dst in binds:
        argv.append(f"--bind={_bind_escape(src)}:{_bind_escape(dst)}")
    for key, value in (setenv or {}).items():
        argv.append(f"--setenv={key}={value}")
    argv.extend(extra)
    argv += ["--boot", "--", f"systemd.unit={unit}", "systemd.firstboot=off"]
    return argv


def _bind_escape(path: str) -> str:
    return path.replace("\\", "\\\\").replace(":", "\\:")


def resolve_command(cmd: Sequence[str], cwd: str) -> list[str]:
    """``cmd`` with a relative program path (``./x``, ``bin/x``) made absolute against
    ``cwd``, as a shell resolves it; a bare name (looked up in PATH) stays as it is."""
    out = list(cmd)
    if out and "/" in out[0] and not out[0].startswith("/"):
        out[0] = os.path.normpath(os.path.join(cwd, out[0]))
    return out


def nsenter_argv(
    nsenter: str, leader: int, cmd: Sequence[str], *, cwd: str | None = None
) -> list[str]:
    """Run ``cmd`` in every namespace of the container's init (``cwd`` inside)."""
    argv = [nsenter, f"--target={leader}", "--all"]
    if cwd is not None:
        argv.append(f"--wdns={cwd}")
    return [*argv, "--", *cmd]


def systemd_run_argv(
    cmd: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    unit: str | None = None,
    properties: Iterable[str] = (),
) -> list[str]:
    """``systemd-run --wait --pipe`` for ``cmd`` (run inside the container).  Not
    ``--collect``: a failed unit keeps its status for ``run_unit`` to read (and reset)
    when systemd-run gave up on it (``_unit.py``)."""
    argv = ["systemd-run", "--wait", "--pipe", "--quiet"]
    if unit is not None:
        argv.append(f"--unit={unit}")
    if user is not None:
        argv.append(f"--uid={user}")
    if cwd is not None:
        argv.append(f"--property=WorkingDirectory={cwd}")
    argv.extend(f"--property={p}" for p in properties)
    for key, value in (env or {}).items():
        argv.append(f"--setenv={key}={value}")
    return [*argv, "--", *cmd]
