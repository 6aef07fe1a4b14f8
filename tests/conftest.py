"""Shared fixtures for sysd's own tests.

Tests that ask systemd anything are marked ``systemd`` and talk to the real
systemd of the sandbox the ``sysd`` pytest plugin boots (``sysd_sandbox = auto``
in pyproject.toml).  They never skip for lack of systemd: they fail, saying so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

import sysd


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/systemd/" in str(item.fspath) or "/systemd/" in item.nodeid:
            item.add_marker(pytest.mark.systemd)


@pytest.fixture(scope="session")
def systemd_host() -> None:
    """Fail (never skip) when there is no real systemd to talk to."""
    if not sysd.booted():
        pytest.fail(
            "this test needs a real systemd: run the suite with `python -m pytest` from the "
            "checkout (the sysd plugin boots a sandbox), or on a host booted with systemd"
        )


@pytest.fixture
def sd(systemd_host: None) -> Iterator[sysd.Systemd]:
    with sysd.connect() as conn:
        yield conn


@pytest.fixture(scope="session")
def test_user(systemd_host: None) -> tuple[str, int]:
    name = os.environ.get("SYSD_TEST_USER")
    uid = os.environ.get("SYSD_TEST_UID")
    if not name or not uid:
        pytest.fail(
            "no unprivileged test user: SYSD_TEST_USER/SYSD_TEST_UID are set by the sandbox"
        )
    return name, int(uid)


@pytest.fixture
def as_user(test_user: tuple[str, int]):  # type: ignore[no-untyped-def]
    """Run a Python snippet as the unprivileged user; returns CompletedProcess (text)."""
    name, uid = test_user

    def run(code: str, *, timeout: float = 60, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": f"/home/{name}",
            "XDG_RUNTIME_DIR": f"/run/user/{uid}",
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        }
        return subprocess.run(
            ["runuser", "-u", name, "--", "env", "-i"]
            + [f"{k}={v}" for k, v in full_env.items()]
            + [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
