"""Several throwaway hosts, each a real systemd behind a real OpenSSH server, and no network.

:class:`SshLab` boots ``n`` sandboxes and writes an ssh client configuration whose
``Host`` entries reach each of them with the real ``ssh`` client: the entry's
``ProxyCommand`` runs ``sshd -i`` (inetd mode: SSH over stdio) inside that sandbox's
namespaces with ``nsenter``, so no network, port or daemon is involved and every
connection is a real SSH handshake with real keys::

    with SshLab(n=3) as lab:
        subprocess.run(["ssh", "-F", lab.ssh_config, "h1", "systemctl", "is-system-running"])
        with sysd.connect(host="h2", ssh_config=lab.ssh_config) as sd: ...

Besides ``h1`` .. ``hN`` (``lab.hosts``), the configuration names hosts for the error
paths (``special=True``):

- ``down``: unreachable (127.0.0.1 port 1, connection refused);
- ``nobridge``: a sandbox with sshd and systemd but without ``systemd-stdio-bridge``;
- ``nosystemd``: sshd on this machine in a private mount namespace whose ``/run`` is an
  empty tmpfs: a shell but no systemd and no system bus behind it.

Users in every sandbox: ``root``, ``admin`` (``sudo`` without a password) and ``nopw``
(``sudo`` asks for a password), all logging in with the lab's key.  The keys, host
key, known_hosts and configuration live in a private scratch directory that
:meth:`close` removes with the sandboxes.  :meth:`handshakes` counts the SSH
connections each host has accepted (each runs the ProxyCommand once), which shows
whether a client multiplexes.  Sandboxes share this machine's hostname and
machine-id: tell hosts apart by content (e.g. ``/etc/sysd-lab/name``).

Needs root, systemd-nspawn, and OpenSSH's server installed *before* the sandboxes
boot (they are overlays of ``/``): ``scripts/setup`` installs ``openssh-server``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..errors import SandboxError
from ._sandbox import Sandbox, _add_user

__all__ = ["SshLab"]

_SSHD = "/usr/sbin/sshd"
_BRIDGE = "/usr/bin/systemd-stdio-bridge"
_ALIAS = "sysd-lab"
_INSIDE = "/etc/sysd-lab"  # the lab's files inside each sandbox
_USERS = (("admin", 4301, "NOPASSWD: ALL"), ("nopw", 4302, "ALL"))

_SSHD_CONFIG = """\
# sysd SshLab: sshd -i (inetd mode) reached through a ProxyCommand; no listening socket
HostKey {dir}/host_key
AuthorizedKeysFile {dir}/authorized_keys
PidFile none
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
LogLevel ERROR
"""


def _plain_dotfiles(root: Path) -> None:
    """Give the host's root Debian's default shell start-up files (``/etc/skel``).

    The sandbox is an overlay of this machine's ``/``, so root's ``.bashrc`` there would
    be this machine's: a developer's (pyenv init here: ~40 processes, ~0.1 s of CPU),
    which bash runs for every ssh session, since it reads ``.bashrc`` when sshd starts
    it.  A server's root has the stock files; only the overlay's copy changes.
    """
    home = root / "root"
    for name in (".bashrc", ".profile"):
        target = home / name
        stock = Path("/etc/skel") / name
        try:
            target.unlink()
        except FileNotFoundError:
            pass
        if stock.is_file():
            shutil.copyfile(stock, target)


class SshLab:
    """``n`` real systemd hosts reachable by real ``ssh`` through :attr:`ssh_config`."""

    def __init__(
        self,
        n: int = 5,
        *,
        special: bool = True,
        prefix: str = "h",
        boot_timeout: float = 120.0,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if n < 0:
            raise ValueError(f"n must be >= 0, not {n}")
        self._n = n
        self._special = special
        self._prefix = prefix
        self._boot_timeout = boot_timeout
        self._base_dir = os.fspath(base_dir) if base_dir is not None else None
        self._dir: Path | None = None
        self._sandboxes: dict[str, Sandbox] = {}
        self._hosts = [f"{prefix}{i}" for i in range(1, n + 1)]

    # ------------------------------------------------------------ properties

    @property
    def hosts(self) -> list[str]:
        """The healthy hosts' names in :attr:`ssh_config` (``h1`` .. ``hN``)."""
        return list(self._hosts)

    @property
    def directory(self) -> Path:
        """The private scratch directory (keys, configuration, handshake counters)."""
        if self._dir is None:
            raise SandboxError("the SshLab is not started", hint="use it inside `with`")
        return self._dir

    @property
    def ssh_config(self) -> str:
        """Path of the ssh client configuration (``ssh -F``; sysd's ``ssh_config=``)."""
        return str(self.directory / "ssh_config")

    @property
    def known_hosts(self) -> str:
        """The known_hosts file the configuration uses (one line, via HostKeyAlias)."""
        return str(self.directory / "known_hosts")

    @property
    def identity(self) -> str:
        """The client's private key file."""
        return str(self.directory / "client_key")

    @property
    def env(self) -> dict[str, str]:
        """Environment for subprocesses that should use this lab (``SYSD_SSH_CONFIG``)."""
        return {"SYSD_SSH_CONFIG": self.ssh_config}

    def sandbox(self, host: str) -> Sandbox:
        """The sandbox behind ``host`` (one of :attr:`hosts`, or ``nobridge``)."""
        try:
            return self._sandboxes[host]
        except KeyError:
            raise KeyError(f"no sandbox behind host {host!r} in this lab") from None

    def handshakes(self, host: str) -> int:
        """How many SSH connections ``host`` has accepted so far."""
        try:
            return len((self.directory / "handshakes" / host).read_bytes())
        except FileNotFoundError:
            return 0

    def ssh(
        self,
        host: str,
        command: str,
        *,
        user: str | None = None,
        input: str | None = None,
        timeout: float = 60.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run the remote shell ``command`` on ``host`` with plain ``ssh`` (no multiplexing)."""
        dest = f"{user}@{host}" if user else host
        return subprocess.run(
            ["ssh", "-F", self.ssh_config, "-o", "ControlPath=none", "--", dest, command],
            input=input,
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    # ---------------------------------------------------------------- life

    def __enter__(self) -> SshLab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> SshLab:
        """Boot the sandboxes and write keys and configuration."""
        if self._dir is not None:
            return self
        if not os.access(_SSHD, os.X_OK):
            raise SandboxError(
                f"{_SSHD} is missing: the lab needs OpenSSH's server",
                hint="install it before booting sandboxes: apt-get install openssh-server "
                "(scripts/setup does)",
            )
        self._dir = Path(tempfile.mkdtemp(prefix="sysd-sshlab-", dir=self._base_dir))
        try:
            self._keys()
            names = list(self._hosts) + (["nobridge"] if self._special else [])
            boxes = {name: Sandbox(boot_timeout=self._boot_timeout) for name in names}
            self._sandboxes = boxes
            # one after the other, in this thread: a sandbox started from another thread
            # gets no parent-death signal (it is the thread's), so a lab whose process was
            # killed would leave its containers running
            for sb in boxes.values():
                sb.start()
            for name, sb in boxes.items():
                self._provision(name, sb)
            self._write_config()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Halt every sandbox and remove the scratch directory; idempotent."""
        problems: list[str] = []
        boxes, self._sandboxes = self._sandboxes, {}
        for sb in boxes.values():
            try:
                sb.close()
            except SandboxError as exc:
                problems.append(str(exc))
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        if problems:
            raise SandboxError("SshLab teardown: " + "; ".join(problems))

    # ----------------------------------------------------------- plumbing

    def _keys(self) -> None:
        d = self.directory
        (d / "handshakes").mkdir()
        for key in ("client_key", "host_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key, "-f", str(d / key)],
                check=True,
                stdin=subprocess.DEVNULL,
            )
        host_pub = (d / "host_key.pub").read_text().split()
        (d / "known_hosts").write_text(f"{_ALIAS} {host_pub[0]} {host_pub[1]}\n")
        (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
        (d / "sshd_config").write_text(_SSHD_CONFIG.format(dir=d))

    def _provision(self, name: str, sb: Sandbox) -> None:
        """Put sshd's files, the users and sudo rules into a booted sandbox's overlay."""
        d = self.directory
        root = sb.root
        inside = root / _INSIDE.lstrip("/")
        inside.mkdir(mode=0o755, parents=True, exist_ok=True)
        for file in ("host_key", "authorized_keys"):
            shutil.copy2(d / file, inside / file)
        (inside / "authorized_keys").chmod(0o644)
        (inside / "sshd_config").write_text(_SSHD_CONFIG.format(dir=_INSIDE))
        (inside / "name").write_text(name + "\n")
        _plain_dotfiles(root)
        with open(root / "etc" / "hosts", "a") as hosts:  # sudo resolves its own host name
            hosts.write(f"127.0.1.1 {sb.name}\n")
        sb.exec(["mkdir", "-p", "-m", "0755", "/run/sshd"], check=True, capture=True)
        sudoers = []
        for user, uid, rule in _USERS:
            _add_user(root, user, uid)
            sudoers.append(f"{user} ALL=(ALL) {rule}\n")
        shadow = root / "etc" / "shadow"
        lines = shadow.read_text().splitlines(keepends=True)
        with open(shadow, "w") as f:  # '!' = locked for sshd without PAM: '*' = no password
            for line in lines:
                fields = line.split(":")
                if fields[0] in ("root", *(u for u, _, _ in _USERS)):
                    fields[1] = "*"
                f.write(":".join(fields))
        sudo_d = root / "etc" / "sudoers.d"
        sudo_d.mkdir(mode=0o755, exist_ok=True)
        (sudo_d / "sysd-lab").write_text("".join(sudoers))
        (sudo_d / "sysd-lab").chmod(0o440)
        if name == "nobridge":
            (root / _BRIDGE.lstrip("/")).unlink()
        proxy = d / f"proxy-{name}"
        proxy.write_text(
            "#!/bin/sh\n"
            f"printf . >> {shlex.quote(str(d / 'handshakes' / name))}\n"
            f"exec nsenter -t {sb.leader_pid} -a {_SSHD} -i -f {_INSIDE}/sshd_config\n"
        )
        proxy.chmod(0o755)

    def _write_config(self) -> None:
        d = self.directory
        nosystemd = d / "proxy-nosystemd"
        nosystemd.write_text(
            "#!/bin/sh\n"
            f"printf . >> {shlex.quote(str(d / 'handshakes' / 'nosystemd'))}\n"
            "exec unshare -m --propagation private sh -c "
            + shlex.quote(
                "mount -t tmpfs -o mode=0755 sysd-lab /run && mkdir -m 0755 /run/sshd && "
                f"exec {_SSHD} -i -f {shlex.quote(str(d / 'sshd_config'))}"
            )
            + "\n"
        )
        nosystemd.chmod(0o755)
        entries: list[tuple[str, Mapping[str, str]]] = []
        proxied = self._hosts + (["nobridge", "nosystemd"] if self._special else [])
        for name in proxied:
            entries.append((name, {"ProxyCommand": str(d / f"proxy-{name}")}))
        if self._special:
            entries.append(("down", {"HostName": "127.0.0.1", "Port": "1", "ProxyCommand": "none"}))
        common = {
            "User": "root",
            "HostKeyAlias": _ALIAS,
            "IdentityFile": str(d / "client_key"),
            "IdentitiesOnly": "yes",
            "UserKnownHostsFile": str(d / "known_hosts"),
            "GlobalKnownHostsFile": "/dev/null",
            "StrictHostKeyChecking": "yes",
            "BatchMode": "yes",
            "ConnectTimeout": "10",
            "LogLevel": "ERROR",
        }
        text = ["# sysd SshLab: every host is a sandbox reached through sshd -i\n"]
        for name, options in entries:
            text.append(f"Host {name}\n")
            text.extend(f"    {k} {v}\n" for k, v in options.items())
        text.append("Host *\n")
        text.extend(f"    {k} {v}\n" for k, v in common.items())
        (d / "ssh_config").write_text("".join(text))
