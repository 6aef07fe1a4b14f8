"""The :class:`Sandbox`: boot, use and tear down one throwaway systemd."""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple

from ..errors import SandboxError
from . import _nspawn, _unit
from ._nspawn import ENV_MARKER, ENV_TEST_UID, ENV_TEST_USER, MARKER_FILE

__all__ = [
    "DEFAULT_MASK",
    "cleanup_stale",
    "Sandbox",
    "SandboxCommandError",
    "SandboxUser",
]

#: Units masked in the sandbox unless the caller says otherwise: services the
#: machine image enables that either slow the boot down (postgresql took 2.2 s of a
#: 2.5 s boot) or make no sense in a container with a private network.
DEFAULT_MASK: tuple[str, ...] = (
    "postgresql.service",
    "postgresql@.service",
    "mysql.service",
    "mariadb.service",
    "redis-server.service",
    "docker.service",
    "docker.socket",
    "containerd.service",
    "ssh.service",
    "cron.service",
    "e2scrub_reap.service",
    "systemd-timesyncd.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "man-db.timer",
    "dpkg-db-backup.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
)

_TEST_USER = "tester"
_TEST_UID = 4242
_DIR_PREFIX = "sysd-sandbox-"
_started: set[str] = set()  # machine names alive in this process
_started_lock = threading.Lock()


class SandboxUser(NamedTuple):
    """The unprivileged account created in every sandbox."""

    name: str
    uid: int


class SandboxCommandError(SandboxError):
    """A command run inside the sandbox with ``check=True`` exited non-zero."""

    def __init__(
        self,
        message: str,
        *,
        cmd: Sequence[str] = (),
        returncode: int = 1,
        stdout: str | None = None,
        stderr: str | None = None,
    ) -> None:
        super().__init__(message)
        self.cmd = list(cmd)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


@dataclass
class _State:
    """What teardown needs; held apart from the Sandbox so a finalizer can use it."""

    base: Path
    tools: _nspawn.Tools | None = None
    proc: subprocess.Popen[bytes] | None = None
    leader: int | None = None
    mounted: list[str] = field(default_factory=list)  # in mount order
    log: IO[bytes] | None = None
    name: str = ""
    stop_timeout: float = 15.0
    owner: int = field(default_factory=os.getpid)  # a forked child must not tear down
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _teardown(state: _State) -> list[str]:
    """Stop the container and undo every mount; returns problems (never raises)."""
    problems: list[str] = []
    if os.getpid() != state.owner:  # inherited through fork(): not ours to stop
        return problems
    with state.lock, _nspawn.sigint_deferred():
        if state.closed:
            return problems
        state.closed = True
        proc = state.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)  # nspawn asks the container's init to halt
            try:
                proc.wait(timeout=state.stop_timeout)
            except subprocess.TimeoutExpired:
                problems.append(
                    f"the container did not halt within {state.stop_timeout:g} s; killed it"
                )
                # Killing the init of a pid namespace kills everything in it.
                if state.leader is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(state.leader, signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    problems.append(f"systemd-nspawn (pid {proc.pid}) would not die")
        if state.log is not None:
            state.log.close()
        umount_tool = state.tools.umount if state.tools else "umount"
        for target in reversed(state.mounted):
            try:
                _nspawn.umount(umount_tool, target)
            except SandboxError as exc:
                problems.append(str(exc))
        leftover = _nspawn.mounts_under(state.base)
        if leftover:
            problems.append("still mounted: " + ", ".join(leftover))
        else:
            # Only ever remove what we created, and only once nothing is mounted there.
            for name in ("nspawn.log", "owner"):
                with contextlib.suppress(FileNotFoundError):
                    (state.base / name).unlink()
            with contextlib.suppress(FileNotFoundError, OSError):
                (state.base / "fs").rmdir()
            with contextlib.suppress(FileNotFoundError, OSError):
                state.base.rmdir()
        with _started_lock:
            _started.discard(state.name)
    return problems


def _finalize(state: _State) -> None:
    problems = _teardown(state)
    for problem in problems:
        print(f"sysd sandbox {state.name}: {problem}", file=sys.stderr)


# Where a bind would hand the host's directory to what the booted system does to its own
# (a bind *under* one of them is a mount point, which systemd-tmpfiles does not cross).
_OWNED_BY_THE_BOOT = {
    "/": "the sandbox's root is an overlay of the host's /",
    "/tmp": "the booted systemd empties it (systemd-tmpfiles --boot --remove, tmp.conf's "
    "'D /tmp'): every file of the host's /tmp would be deleted",
    "/var/tmp": "systemd-tmpfiles-clean.timer deletes what is older than 30 days in it",
    "/run": "the container's /run is its own tmpfs, emptied and filled by the boot",
    "/dev": "systemd-nspawn makes the container's own /dev",
    "/dev/shm": "systemd-nspawn makes the container's own /dev/shm",
    "/proc": "systemd-nspawn mounts the container's own /proc",
    "/sys": "systemd-nspawn mounts the container's own /sys",
}


def _normalize_binds(
    binds: Iterable[str | os.PathLike[str] | tuple[str | os.PathLike[str], str]],
) -> list[tuple[str, str]]:
    result: list[tuple[str, str]] = []
    for item in binds:
        if isinstance(item, tuple):
            src, dst = os.path.abspath(item[0]), str(item[1])
        else:
            src = os.path.abspath(item)
            dst = src
        if not os.path.exists(src):
            raise SandboxError(f"cannot bind {src} into the sandbox: it does not exist")
        if not dst.startswith("/"):
            raise SandboxError(f"bind target {dst!r} must be an absolute path")
        dst = os.path.normpath(dst)
        why = _OWNED_BY_THE_BOOT.get(dst)
        if why is not None:
            raise SandboxError(
                f"cannot bind {src} onto the sandbox's {dst}: {why}",
                hint=f"bind a directory under {dst} instead (the boot leaves mount points alone)"
                if dst != "/"
                else "bind the directories you need, one by one",
            )
        if (src, dst) not in result:
            result.append((src, dst))
    return result


def _valid_machine_name(name: str) -> bool:
    return (
        0 < len(name) <= 64
        and all(c.isascii() and (c.isalnum() or c in "-_.") for c in name)
        and name[0].isalnum()
    )


class Sandbox:
    """A throwaway real systemd: systemd-nspawn booting the host's own ``/``.

    The container's root is an overlay of the host's ``/`` whose writable layer
    is a tmpfs, so it has the same Python, virtualenvs and checkout as the host,
    and every write vanishes with it (except under ``binds``, bound read-write).
    Use it as a context manager; it boots in ``__enter__`` (or :meth:`start`) and
    is halted and unmounted in ``__exit__`` (or :meth:`close`) — also on errors,
    Ctrl-C, and at interpreter exit as a last resort::

        with Sandbox(binds=["/work/main"]) as sb:
            sb.exec(["systemctl", "is-system-running"], capture=True).stdout  # "running\\n"
            sb.run_unit(["python", "-m", "pytest"], cwd="/work/main")          # exit status
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = sb.bus_address            # from the host

    Inside, before boot: journald's rate limits are off, the unprivileged user
    :attr:`test_user` (``tester``, uid 4242 when free) exists and lingers (its user
    manager runs, bus at ``/run/user/UID/bus``), ``/root`` is 0755 so that user can
    run the host's Python, :data:`DEFAULT_MASK` units are masked, and every unit
    sees ``SYSD_SANDBOX=1``, ``SYSD_TEST_USER`` and ``SYSD_TEST_UID``.

    Needs root, overlayfs and systemd-nspawn (installed with apt-get when missing);
    otherwise :class:`~sysd.errors.SandboxError` says what is missing.
    """

    def __init__(
        self,
        binds: Iterable[str | os.PathLike[str] | tuple[str | os.PathLike[str], str]] = (),
        name: str | None = None,
        *,
        boot_timeout: float = 60.0,
        stop_timeout: float = 15.0,
        mask: Iterable[str] = DEFAULT_MASK,
        user_manager: bool = True,
        nspawn_args: Sequence[str] = (),
        install: bool = True,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if name is not None and not _valid_machine_name(name):
            raise SandboxError(
                f"invalid sandbox name {name!r}: use 1-64 letters, digits, '-', '_' or '.'"
            )
        self._name = name or f"sysd-{secrets.token_hex(4)}"
        self._binds = _normalize_binds(binds)
        self._boot_timeout = boot_timeout
        self._stop_timeout = stop_timeout
        self._mask = tuple(mask)
        self._user_manager = user_manager
        self._nspawn_args = tuple(nspawn_args)
        self._install = install
        self._base_dir = os.fspath(base_dir) if base_dir is not None else "/tmp"
        self._state: _State | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._user = SandboxUser(_TEST_USER, _TEST_UID)
        self._boot_seconds: float | None = None
        self._boot_state = ""

    # ------------------------------------------------------------ properties

    @property
    def name(self) -> str:
        """The machine name (hostname inside; unique per sandbox)."""
        return self._name

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`close`."""
        s = self._state
        return s is not None and not s.closed and s.proc is not None and s.proc.poll() is None

    def _live(self) -> _State:
        s = self._state
        if s is None or s.closed or s.leader is None:
            raise SandboxError(f"sandbox {self._name} is not running", hint="use it inside `with`")
        if s.proc is not None and s.proc.poll() is not None:
            raise SandboxError(
                f"sandbox {self._name} is gone: systemd-nspawn exited with status "
                f"{s.proc.returncode}"
            )
        return s

    @property
    def leader_pid(self) -> int:
        """Host pid of the container's systemd (PID 1 inside)."""
        leader = self._live().leader
        assert leader is not None
        return leader

    @property
    def nspawn_pid(self) -> int:
        """Host pid of the systemd-nspawn process."""
        proc = self._live().proc
        assert proc is not None
        return proc.pid

    @property
    def directory(self) -> Path:
        """The sandbox's scratch directory on the host (tmpfs layers, bus dir, boot log)."""
        if self._state is None:
            raise SandboxError(f"sandbox {self._name} was never started")
        return self._state.base

    @property
    def root(self) -> Path:
        """The merged root directory on the host (writes go to the tmpfs layer)."""
        return self.directory / "fs" / "root"

    @property
    def bus_dir(self) -> Path:
        """Host directory bound to ``/run/dbus`` inside."""
        return self.directory / "fs" / "bus"

    @property
    def bus_address(self) -> str:
        """D-Bus address of the container's system bus, usable from the host."""
        return f"unix:path={self.bus_dir / 'system_bus_socket'}"

    @property
    def log_path(self) -> Path:
        """systemd-nspawn's output (the container's console); removed at teardown."""
        return self.directory / "nspawn.log"

    @property
    def test_user(self) -> SandboxUser:
        """The unprivileged user inside: ``("tester", 4242)`` unless 4242 was taken."""
        return self._user

    @property
    def boot_seconds(self) -> float | None:
        """Seconds from starting systemd-nspawn until the system was running."""
        return self._boot_seconds

    @property
    def boot_state(self) -> str:
        """``running`` or ``degraded``, as ``systemctl is-system-running`` said at boot."""
        return self._boot_state

    def failed_units(self) -> list[str]:
        """Units in the ``failed`` state inside (why a sandbox is ``degraded``)."""
        result = self.exec(
            ["systemctl", "list-units", "--failed", "--plain", "--no-legend", "--no-pager"],
            capture=True,
            inherit_env=False,
            timeout=25,
        )
        return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]

    @property
    def environment(self) -> dict[str, str]:
        """Variables set for everything run inside (and for every unit)."""
        return {
            ENV_MARKER: "1",
            ENV_TEST_USER: self._user.name,
            ENV_TEST_UID: str(self._user.uid),
        }

    # ---------------------------------------------------------------- life

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        problems = self._close()
        if problems and exc is None:
            raise SandboxError(f"sandbox {self._name} teardown: " + "; ".join(problems))
        for problem in problems if exc is not None else ():
            print(f"sysd sandbox {self._name}: {problem}", file=sys.stderr)

    def __repr__(self) -> str:
        status = "running" if self.running else "stopped"
        return f"<Sandbox {self._name} {status}>"

    def start(self) -> Sandbox:
        """Boot the container and wait until it is running; idempotent while running."""
        if self._state is not None:
            if self._state.closed:
                raise SandboxError(f"sandbox {self._name} was closed; make a new Sandbox")
            return self
        if _nspawn.inside():
            raise SandboxError(
                "already inside a sysd sandbox: nested sandboxes are not supported",
                hint="talk to the systemd you are in (unix:path=/run/dbus/system_bus_socket)",
            )
        tools = _nspawn.check_requirements(install=self._install)
        with _started_lock:
            if self._name in _started:
                raise SandboxError(f"a sandbox named {self._name} is already running")
            _started.add(self._name)
        try:
            base = Path(
                tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{self._name[:24]}-", dir=self._base_dir)
            )
        except OSError as exc:
            with _started_lock:
                _started.discard(self._name)
            raise SandboxError(f"cannot create the sandbox directory: {exc}") from exc
        state = _State(base=base, tools=tools, name=self._name, stop_timeout=self._stop_timeout)
        self._state = state
        self._finalizer = weakref.finalize(self, _finalize, state)
        try:
            self._boot(state, tools)
        except BaseException:
            problems = self._close()
            for problem in problems:
                print(f"sysd sandbox {self._name}: {problem}", file=sys.stderr)
            raise
        return self

    def close(self) -> None:
        """Halt the container, unmount its layers, remove its directory; idempotent."""
        problems = self._close()
        if problems:
            raise SandboxError(f"sandbox {self._name} teardown: " + "; ".join(problems))

    def _close(self) -> list[str]:
        if self._state is None:
            return []
        if self._finalizer is not None:
            self._finalizer.detach()
        return _teardown(self._state)

    # ----------------------------------------------------------------- boot

    def _boot(self, state: _State, tools: _nspawn.Tools) -> None:
        base = state.base
        (base / "owner").write_text(f"{_nspawn.process_identity(os.getpid())}\n")
        fs = base / "fs"
        fs.mkdir()
        _nspawn.mount(tools.mount, "tmpfs", "tmpfs", str(fs), "mode=0755")
        state.mounted.append(str(fs))
        for sub in ("up", "work", "root", "bus"):
            (fs / sub).mkdir(mode=0o755)
        _nspawn.mount(
            tools.mount,
            "overlay",
            "overlay",
            str(fs / "root"),
            f"lowerdir=/,upperdir={fs / 'up'},workdir={fs / 'work'}",
        )
        state.mounted.append(str(fs / "root"))
        self._provision(fs / "root")

        argv = _nspawn.nspawn_argv(
            tools.nspawn,
            root=str(fs / "root"),
            name=self._name,
            bus_dir=str(fs / "bus"),
            binds=self._binds,
            extra=self._nspawn_args,
        )
        if tools.setpriv and threading.current_thread() is threading.main_thread():
            # If this process dies without cleaning up (SIGKILL), the container halts.
            argv = [tools.setpriv, "--pdeathsig", "TERM", "--", *argv]
        env = _nspawn.clean_environment({}, inherit=True)
        log = open(base / "nspawn.log", "wb")  # noqa: SIM115 - closed at teardown
        state.log = log
        t0 = time.monotonic()
        try:
            state.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                process_group=0,  # Ctrl-C on the terminal reaches us, not nspawn
            )
        except OSError as exc:
            raise SandboxError(f"cannot start systemd-nspawn: {exc}") from exc
        self._wait_running(state, tools, t0)
        self._boot_seconds = time.monotonic() - t0
        if self._user_manager:
            self._start_user_manager(state, t0)

    def _provision(self, root: Path) -> None:
        """Write the sandbox's configuration into the overlay's upper layer before boot."""
        etc = root / "etc"
        journald = etc / "systemd" / "journald.conf.d"
        journald.mkdir(parents=True, exist_ok=True)
        (journald / "sysd-sandbox.conf").write_text(
            "# sysd sandbox: tests write floods of entries\n"
            "[Journal]\nRateLimitIntervalSec=0\nRateLimitBurst=0\n"
        )
        (root / MARKER_FILE.lstrip("/")).write_text(f"{self._name}\n")
        (etc / "hostname").write_text(f"{self._name}\n")  # else the host's name
        system = etc / "systemd" / "system"
        system.mkdir(parents=True, exist_ok=True)
        for unit in self._mask:
            link = system / unit
            if link.is_symlink() or link.exists():
                if link.is_dir():
                    continue
                link.unlink()
            link.symlink_to("/dev/null")
        self._user = _add_user(root, _TEST_USER, _TEST_UID)
        env = " ".join(f"{k}={v}" for k, v in self.environment.items())
        manager = etc / "systemd" / "system.conf.d"
        manager.mkdir(parents=True, exist_ok=True)
        (manager / "sysd-sandbox.conf").write_text(f"[Manager]\nDefaultEnvironment={env}\n")
        user_conf = etc / "systemd" / "user.conf.d"
        user_conf.mkdir(parents=True, exist_ok=True)
        (user_conf / "sysd-sandbox.conf").write_text(f"[Manager]\nDefaultEnvironment={env}\n")
        if self._user_manager:
            linger = root / "var" / "lib" / "systemd" / "linger"
            linger.mkdir(parents=True, exist_ok=True)
            (linger / self._user.name).touch()
        (root / "root").chmod(0o755)

    def _wait_running(self, state: _State, tools: _nspawn.Tools, t0: float) -> None:
        assert state.proc is not None
        deadline = t0 + self._boot_timeout
        bus = self.bus_dir / "system_bus_socket"
        last = ""
        while True:
            if state.proc.poll() is not None:
                raise SandboxError(
                    f"systemd-nspawn exited with status {state.proc.returncode} while booting "
                    f"sandbox {self._name}; its output ends with:\n"
                    + _nspawn.tail(self._log_file(state))
                )
            now = time.monotonic()
            if state.leader is None:
                state.leader = _nspawn.find_leader(state.proc.pid)
            if state.leader is not None:
                last = _nspawn.boot_state(tools.nsenter, state.leader, deadline - now)
                if last in ("running", "degraded") and bus.exists():
                    self._boot_state = last
                    return
                if last in ("maintenance", "stopping"):
                    raise SandboxError(
                        f"sandbox {self._name} is {last} instead of booting; "
                        "its output ends with:\n" + _nspawn.tail(self._log_file(state))
                    )
            if now > deadline:
                raise SandboxError(
                    f"sandbox {self._name} did not finish booting within "
                    f"{self._boot_timeout:g} s (state: {last or 'unknown'}); "
                    "systemd-nspawn's output ends with:\n" + _nspawn.tail(self._log_file(state)),
                    hint="see which unit hangs with `systemctl list-jobs` inside, "
                    "and pass mask=[...] to skip it",
                )
            time.sleep(0.05)

    def _log_file(self, state: _State) -> Path:
        if state.log is not None:
            state.log.flush()
        return state.base / "nspawn.log"

    def _start_user_manager(self, state: _State, t0: float) -> None:
        uid = self._user.uid
        deadline = t0 + self._boot_timeout
        result = self.exec(
            ["systemctl", "start", f"user@{uid}.service"],
            capture=True,
            timeout=max(deadline - time.monotonic(), 1.0),
        )
        if result.returncode != 0:
            raise SandboxError(
                f"could not start the user manager user@{uid}.service in sandbox "
                f"{self._name}: {result.stderr.strip()}"
            )
        rundir = Path(f"/proc/{state.leader}/root/run/user/{uid}")
        has_dbus = (self.root / "usr/lib/systemd/user/dbus.socket").exists()
        wanted = rundir / ("bus" if has_dbus else "systemd/private")
        while not wanted.exists():
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"the user manager of uid {uid} in sandbox {self._name} did not create "
                    f"/run/user/{uid}/{wanted.relative_to(rundir)} in time"
                )
            time.sleep(0.02)

    # ------------------------------------------------------------------ use

    def exec(
        self,
        cmd: Sequence[str],
        *,
        check: bool = False,
        capture: bool = False,
        user: str | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        input: str | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` inside with nsenter (not as a unit); returns its result.

        The environment is the host's (minus host-session variables) plus
        :attr:`environment` and ``env``.  ``user`` runs it as that user (via
        runuser), with that user's HOME, XDG_RUNTIME_DIR and session bus.  With
        ``capture`` stdout and stderr are returned as text; otherwise they are
        passed through, and with a terminal on stdin Ctrl-C goes to ``cmd``.
        ``check=True`` raises :class:`SandboxCommandError` on a non-zero exit
        status; past ``timeout`` the command is killed and
        :class:`~sysd.errors.SandboxError` raised.
        """
        full_env = _nspawn.clean_environment(
            {**self.environment, **self._user_env(user), **(env or {})},
            inherit=inherit_env,
            user=user,
        )
        inner = list(cmd)
        if user is not None and user not in ("root", "0"):
            inner = [self._runuser(), "-u", user, "--", *inner]
        stdin: int | None = None
        if input is None:
            stdin = subprocess.DEVNULL if capture or not _fd_open(0) else None
        interactive = stdin is None and input is None and not capture and os.isatty(0)
        out, err, status = self._communicate(
            self._entered(inner, cwd=cwd, interactive=interactive),
            cmd,
            env=full_env,
            stdin=stdin,
            input=input,
            capture=capture,
            interactive=interactive,
            timeout=timeout,
        )
        if check and status != 0:
            detail = f": {err.strip()[-500:]}" if err else ""
            raise SandboxCommandError(
                f"{_show(cmd)} exited with status {status} in sandbox {self._name}{detail}",
                cmd=cmd,
                returncode=status,
                stdout=out,
                stderr=err,
            )
        return subprocess.CompletedProcess(list(cmd), status, out, err)

    def run_unit(
        self,
        cmd: Sequence[str],
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        user: str | None = None,
        inherit_env: bool = True,
        unit: str | None = None,
        properties: Iterable[str] = (),
        timeout: float | None = None,
    ) -> int:
        """Run ``cmd`` as a transient service inside and return its exit status.

        ``systemd-run --wait --pipe`` (via nsenter): the command lives in
        a real unit and cgroup, with stdin/stdout/stderr passed straight through.
        ``cwd`` becomes WorkingDirectory=, the environment is passed with ``-E``
        (the host's minus host-session variables, plus :attr:`environment` and
        ``env``), ``user`` sets User=, ``properties`` are more ``-p`` assignments.
        A relative command path (``./script.sh``, ``bin/tool``) is taken relative to
        ``cwd`` (by default this process's working directory), as a shell would:
        that directory must be visible inside (bound, or a host directory outside
        ``/tmp``).  A bare name is looked up in PATH.
        The exit status is the unit's (systemd-run's own when it could not run it),
        read from the unit itself when systemd-run gives up early (a daemon-reexec
        cuts its calls: see ``_unit.py``); a failed unit is reset, not left behind.

        Ctrl-C is forwarded to the unit as SIGINT (then SIGKILL if it lingers), and
        KeyboardInterrupt raised once it has ended; past ``timeout`` the unit is
        killed and :class:`~sysd.errors.SandboxError` raised.
        """
        unit = unit or f"sysd-run-{secrets.token_hex(6)}.service"
        cmd = _nspawn.resolve_command(cmd, os.fspath(cwd) if cwd is not None else os.getcwd())
        unit_env = _nspawn.clean_environment(
            {**self.environment, **self._user_env(user), **(env or {})},
            inherit=inherit_env,
            user=user,
        )
        inner = _nspawn.systemd_run_argv(
            cmd,
            cwd=os.fspath(cwd) if cwd is not None else None,
            env=unit_env,
            user=user,
            unit=unit,
            properties=properties,
        )

        def systemctl(*args: str) -> subprocess.CompletedProcess[str]:
            return self.exec(["systemctl", *args], capture=True, inherit_env=False, timeout=10)

        def stop_unit(proc: subprocess.Popen[str]) -> None:
            for sig in ("SIGINT", "SIGKILL"):
                systemctl("kill", f"--signal={sig}", unit)
                try:
                    proc.wait(timeout=_unit.GRACE)
                    return
                except subprocess.TimeoutExpired:
                    continue

        def ask() -> _unit.Props | None:
            # in a reexec storm systemctl's calls are cut too, for seconds on end
            end = time.monotonic() + _unit.ASK_FOR
            while True:
                shown = systemctl("show", f"--property={_unit.PROPERTIES}", "--", unit)
                if shown.returncode == 0:
                    return _unit.parse_show(shown.stdout)
                if time.monotonic() > end:
                    return None
                time.sleep(_unit.POLL)

        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            _, _, status = self._communicate(
                self._entered(inner),
                cmd,
                env=unit_env,  # systemd-run looks CMD up in its own PATH
                stdin=None if _fd_open(0) else subprocess.DEVNULL,
                timeout=timeout,
                stop=stop_unit,
            )
        except BaseException:
            if self.running:  # stopped on Ctrl-C or timeout: no failed unit left behind
                with contextlib.suppress(SandboxError, OSError):
                    systemctl("reset-failed", "--", unit)
            raise
        return _unit.settle(
            ask,
            lambda sig: systemctl("kill", f"--signal={sig}", "--", unit),
            lambda: systemctl("reset-failed", "--", unit),
            status,
            deadline,
            f"{_show(cmd)} in sandbox {self._name}",
        )

    def shell(self, *, user: str | None = None, cwd: str | None = None) -> int:
        """An interactive shell inside (Ctrl-C goes to the shell); its exit status.

        Not a login shell: a login shell's profile resets PATH (Debian's
        ``/etc/profile``, ``runuser -l``), and the point of a sandbox of this
        machine is the same programs, virtualenv and ``sysd`` as outside.  The
        environment is the one :meth:`exec` gives.
        """
        sh = "/bin/bash" if os.path.exists(self.root / "bin/bash") else "/bin/sh"
        if user is not None and user not in ("root", "0"):
            inner = [self._runuser(), "-u", user, "--", sh]
        else:
            inner = [sh]
        env = _nspawn.clean_environment(
            {**self.environment, **self._user_env(user)}, inherit=True, user=user
        )
        interactive = os.isatty(0)
        _, _, status = self._communicate(
            self._entered(inner, cwd=cwd, interactive=interactive),
            inner,
            env=env,
            stdin=None,
            interactive=interactive,
        )
        return status

    def _runuser(self) -> str:
        """runuser's path inside: it lives in sbin, which the caller's PATH may lack."""
        for path in ("usr/sbin/runuser", "sbin/runuser", "usr/bin/runuser"):
            if os.path.exists(self.root / path):
                return "/" + path
        return "runuser"

    def _entered(
        self, inner: Sequence[str], *, cwd: str | None = None, interactive: bool = False
    ) -> list[str]:
        """nsenter's command line for ``inner``.

        Interactive: nsenter ignores SIGINT (Ctrl-C is for the command, which gets
        default handling back), so nsenter always outlives and reaps it.
        """
        state = self._live()
        assert state.tools is not None and state.leader is not None
        env_tool = state.tools.env
        if interactive and env_tool:
            inner = [env_tool, "--default-signal=INT", *inner]
        argv = _nspawn.nsenter_argv(state.tools.nsenter, state.leader, inner, cwd=cwd)
        if interactive and env_tool:
            argv = [env_tool, "--ignore-signal=INT", *argv]
        return argv

    def _communicate(
        self,
        argv: list[str],
        cmd: Sequence[str],
        *,
        env: Mapping[str, str],
        stdin: int | None,
        input: str | None = None,
        capture: bool = False,
        interactive: bool = False,
        timeout: float | None = None,
        stop: Callable[[subprocess.Popen[str]], None] | None = None,
    ) -> tuple[str | None, str | None, int]:
        """Run nsenter and wait; never let nsenter die before what it started.

        nsenter's child lives in the container's pid namespace with its parent
        outside: if nsenter died first, the child would be reparented to the
        host's init — which, where that is not a real init, never reaps it, and a
        zombie delays the container's halt by 10 s.  So non-interactive commands
        run in their own process group (the terminal's Ctrl-C reaches only us),
        and on Ctrl-C or timeout we stop the command inside, then reap nsenter.
        """
        pipe = subprocess.PIPE if capture else None
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if input is not None else stdin,
                stdout=pipe,
                stderr=pipe,
                text=True,
                errors="replace",
                env=dict(env),
                process_group=None if interactive else 0,
            )
        except OSError as exc:
            raise SandboxError(f"cannot run nsenter: {exc}") from exc
        with proc:
            try:
                if interactive:
                    with _ignoring_sigint():
                        out, err = proc.communicate(input, timeout)
                else:
                    out, err = proc.communicate(input, timeout)
            except subprocess.TimeoutExpired as exc:
                with _nspawn.sigint_deferred():
                    _nspawn.stop_entered(proc, stop)
                raise SandboxError(
                    f"{_show(cmd)} did not finish within {timeout:g} s in sandbox {self._name}"
                ) from exc
            except BaseException:  # Ctrl-C, SystemExit from a SIGTERM handler, ...
                with _nspawn.sigint_deferred():
                    _nspawn.stop_entered(proc, stop)
                raise
        return out, err, proc.returncode

    def _user_env(self, user: str | None) -> dict[str, str]:
        if user is None or user in ("root", "0"):
            return {}
        uid = self._user.uid if user in (self._user.name, str(self._user.uid)) else None
        if uid is None:
            return {}
        return {
            "XDG_RUNTIME_DIR": f"/run/user/{uid}",
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path=/run/user/{uid}/bus",
        }


def cleanup_stale(base_dir: str | os.PathLike[str] = "/tmp") -> list[Path]:
    """Tear down sandboxes left behind by processes that died without cleaning up.

    A process killed with SIGKILL cannot unmount its sandbox (its container halts
    by itself: systemd-nspawn runs with a parent-death signal).  This finds
    ``sysd-sandbox-*`` directories under ``base_dir`` whose owning process is gone,
    stops whatever still runs in them, unmounts their layers and removes them.
    Sandboxes whose owner is alive are left alone.  Returns the directories removed.
    """
    if not _nspawn.is_root():
        raise SandboxError("cleaning up sandboxes needs root (they are mounts)")
    umount_tool = _nspawn.find_program("umount") or "umount"
    cleaned: list[Path] = []
    for base in sorted(Path(base_dir).glob(f"{_DIR_PREFIX}*")):
        if not base.is_dir() or base.is_symlink():
            continue
        try:
            owner = (base / "owner").read_text().strip()
        except OSError:
            owner = ""
        if owner and _nspawn.identity_alive(owner):
            continue
        if not owner and time.time() - base.stat().st_mtime < 60:
            continue  # being created right now
        root = base / "fs" / "root"
        _nspawn.stop_container(root)
        problems = []
        for target in _nspawn.mounts_under(base):
            try:
                _nspawn.umount(umount_tool, target)
            except SandboxError as exc:
                problems.append(str(exc))
        if problems or _nspawn.mounts_under(base):
            raise SandboxError(f"could not clean up {base}: " + "; ".join(problems))
        for name in ("nspawn.log", "owner"):
            with contextlib.suppress(FileNotFoundError):
                (base / name).unlink()
        for sub in (root, base / "fs" / "up", base / "fs" / "work", base / "fs" / "bus"):
            with contextlib.suppress(OSError):
                sub.rmdir()  # empty mount points when the tmpfs was never mounted
        with contextlib.suppress(OSError):
            (base / "fs").rmdir()
        with contextlib.suppress(OSError):
            base.rmdir()
        cleaned.append(base)
    return cleaned


def _fd_open(fd: int) -> bool:
    """True when ``fd`` is a real inherited standard stream.

    When a process starts with fd 0 closed, Python may later open its own files
    there (close-on-exec): a child would then find fd 0 closed.
    """
    try:
        return os.get_inheritable(fd)
    except OSError:
        return False


def _show(cmd: Sequence[str]) -> str:
    text = shlex.join(cmd)
    return f"`{text[:200]}...`" if len(text) > 200 else f"`{text}`"


@contextlib.contextmanager
def _ignoring_sigint() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _add_user(root: Path, name: str, uid: int) -> SandboxUser:
    """Create ``name`` (uid ``uid`` when free) in ``root``'s passwd files, before boot.

    Done by editing passwd/group/shadow directly: the files are the host's
    (lower layer) and writes go to the tmpfs, so this takes well under 1 ms,
    where ``useradd --root`` costs a chroot and PAM.
    """
    etc = root / "etc"
    passwd = (etc / "passwd").read_text()
    users = {line.split(":")[0]: line.split(":") for line in passwd.splitlines() if line}
    if name in users:
        return SandboxUser(name, int(users[name][2]))
    group_text = (etc / "group").read_text()
    groups = {line.split(":")[0]: line.split(":") for line in group_text.splitlines() if line}
    used_uids = {int(f[2]) for f in users.values() if len(f) > 2 and f[2].isdigit()}
    used_gids = {int(f[2]) for f in groups.values() if len(f) > 2 and f[2].isdigit()}
    while uid in used_uids or uid in used_gids:
        uid += 1
    gid = uid
    existing_group = groups.get(name)
    if existing_group is not None and len(existing_group) > 2 and existing_group[2].isdigit():
        gid = int(existing_group[2])
    home = root / "home" / name
    with open(etc / "passwd", "a") as f:
        f.write(f"{name}:x:{uid}:{gid}:sysd sandbox test user:/home/{name}:/bin/bash\n")
    if existing_group is None:
        with open(etc / "group", "a") as f:
            f.write(f"{name}:x:{gid}:\n")
    days = int(time.time() // 86400)
    for shadow, line in (
        ("shadow", f"{name}:!:{days}:0:99999:7:::\n"),
        ("gshadow", f"{name}:!::\n" if existing_group is None else ""),
    ):
        path = etc / shadow
        if line and path.exists():
            with open(path, "a") as f:
                f.write(line)
    home.mkdir(parents=True, exist_ok=True)
    skel = root / "etc" / "skel"
    if skel.is_dir():
        for entry in skel.iterdir():
            if entry.is_file() and not (home / entry.name).exists():
                (home / entry.name).write_bytes(entry.read_bytes())
                os.chown(home / entry.name, uid, gid)
    os.chown(home, uid, gid)
    home.chmod(0o750)
    return SandboxUser(name, uid)
