"""Fixtures for the tests that talk to the real systemd."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli_diff_support import inproc  # noqa: F401  (a fixture of the differential tests)
from throwaway_units import Units

import sysd


@pytest.fixture
def units(sd: sysd.Systemd) -> Iterator[Units]:
    """Throwaway unit files in /run/systemd/system, cleaned up after the test."""
    u = Units(sd)
    yield u
    u.cleanup()
