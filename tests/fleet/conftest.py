"""Fleet tests: real ``ssh`` to real ``sshd`` in front of real systemd, several hosts at once.

Every test here runs on the host (``@pytest.mark.host``, added below): it boots its own
sandboxes through :class:`sysd.sandbox.SshLab`, one lab per session (5 hosts, plus the
``down``, ``nobridge`` and ``nosystemd`` hosts of the error paths).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sysd.sandbox import SshLab

LAB_HOSTS = 5


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here + os.sep):
            item.add_marker(pytest.mark.host)


@pytest.fixture(scope="session")
def ssh_lab() -> Iterator[SshLab]:
    """Five real hosts behind sshd (``h1`` .. ``h5``) and the error-path hosts."""
    if os.geteuid() != 0:
        pytest.fail("the fleet tests boot sandboxes: run them as root")
    with SshLab(n=LAB_HOSTS) as lab:
        yield lab
