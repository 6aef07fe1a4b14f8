"""A throwaway real systemd, for tests and for trying things out.

:class:`Sandbox` boots the machine's own ``/`` in a container with
systemd-nspawn, over a tmpfs overlay (every write vanishes), waits until it is
``running``, and gives you its bus address, a way to run commands inside
(:meth:`Sandbox.exec`) and as units (:meth:`Sandbox.run_unit`), then halts it
and unmounts everything::

    import sysd.sandbox

    with sysd.sandbox.Sandbox(binds=["/path/to/checkout"]) as sb:
        sb.run_unit(["python", "-m", "pytest"], cwd="/path/to/checkout")

It needs root, overlayfs and systemd-nspawn (on Debian the package
``systemd-container`` is installed when missing).  The same machinery backs
``sysd sandbox run -- CMD`` and the pytest plugin (:mod:`sysd.sandbox.pytest_plugin`).

Importing this module is cheap: no asyncio, no bus code.
"""

from __future__ import annotations

from ..errors import SandboxError
from ._nspawn import (
    ENV_MARKER,
    ENV_PHASE,
    ENV_TEST_UID,
    ENV_TEST_USER,
    MARKER_FILE,
    booted,
    inside,
)
from ._nspawn import check_requirements as _check_requirements
from ._sandbox import DEFAULT_MASK, Sandbox, SandboxCommandError, SandboxUser, cleanup_stale
from ._sshlab import SshLab

__all__ = [
    "DEFAULT_MASK",
    "ENV_MARKER",
    "ENV_PHASE",
    "ENV_TEST_UID",
    "ENV_TEST_USER",
    "MARKER_FILE",
    "Sandbox",
    "SandboxCommandError",
    "SandboxError",
    "SandboxUser",
    "SshLab",
    "booted",
    "check",
    "cleanup_stale",
    "inside",
]


def check(*, install: bool = False) -> None:
    """Raise :class:`SandboxError` naming whatever a sandbox needs and this host lacks.

    With ``install=True`` a missing systemd-nspawn is installed (root + apt-get).
    """
    _check_requirements(install=install)
