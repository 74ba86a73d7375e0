"""Enough file descriptors for a test that holds thousands of sockets, in it and in the servers it starts."""

import resource
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def descriptors(needed: int) -> Iterator[None]:
    """Raise this process's soft limit on open files to the hard limit (child processes inherit it, so a server
    started inside gets it too); restore it on exit. Fails at once if even the hard limit is below `needed`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.fail(f"this test needs {needed} file descriptors per process; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
