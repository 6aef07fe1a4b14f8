"""What the fleet tests share: the environment that points sysd's ssh at the lab."""

from __future__ import annotations

import inspect
import os
import stat
from collections.abc import Iterator

import pytest

import sysd
from sysd.sandbox import SshLab

__all__ = ["lab_environment"]


@pytest.fixture(scope="module", name="lab_env")
def lab_environment(
    ssh_lab: SshLab, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The environment that points sysd's ssh at the lab: SYSD_SSH_CONFIG, and until
    connect() takes ssh_config= (the transport work), an ``ssh`` first on PATH that
    adds ``-F`` (only when none is given)."""
    env = dict(ssh_lab.env)
    saved = {k: os.environ.get(k) for k in ("SYSD_SSH_CONFIG", "PATH")}
    if "ssh_config" not in inspect.signature(sysd.connect).parameters:
        bindir = tmp_path_factory.mktemp("sshwrap")
        wrapper = bindir / "ssh"
        wrapper.write_text(
            "#!/bin/sh\n"
            'case " $* " in *" -F "*) exec /usr/bin/ssh "$@";; esac\n'
            'exec /usr/bin/ssh -F "$SYSD_SSH_CONFIG" "$@"\n'
        )
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        env["PATH"] = f"{bindir}:{os.environ['PATH']}"
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
