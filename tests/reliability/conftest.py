"""Fixtures for the reliability scenarios (RELIABILITY.md 47-50): real systemd, bounded time.

Each scenario runs against the sandbox's systemd (the sysd pytest plugin boots it) and
afterwards checks that nothing was left behind: no task still pending, no match rule on
the bus (dbus-daemon's Debug.Stats counts them per connection), no subscription holder or
watch entry, no unit left running, no extra fd.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reliability_support import Units


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests marked ``host`` boot a sandbox of their own and drive it from the host (the
    # sysd plugin runs them there, before moving the rest into its sandbox): not ``systemd``.
    for item in items:
        if "/reliability/" in str(item.fspath) and item.get_closest_marker("host") is None:
            item.add_marker(pytest.mark.systemd)


@pytest.fixture
def units(systemd_host: None) -> Iterator[Units]:
    u = Units()
    yield u
    u.cleanup()
