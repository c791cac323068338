"""The CPU allocator setting: applied on glibc, a no-op elsewhere, libc looked up once."""
from __future__ import annotations

import platform

import pytest

from labkit.models import cpu, keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_keep_freed_memory_on_glibc_looks_up_libc_once():
    assert keep_freed_memory() is True
    misses = cpu._mallopt.cache_info().misses
    for _ in range(10):  # every attribute() call on CPU repeats it
        assert keep_freed_memory() is True
    assert cpu._mallopt.cache_info().misses == misses


def test_keep_freed_memory_without_glibc_changes_nothing(monkeypatch):
    monkeypatch.setattr(cpu, "_mallopt", lambda: None)
    assert keep_freed_memory() is False
