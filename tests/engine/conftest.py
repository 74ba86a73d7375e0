"""Engine tests: some depend on the installed graphql-core (see tests/incremental/versions.py)."""

import pytest

from tests.incremental.versions import check_graphql_version


def pytest_runtest_setup(item: pytest.Item) -> None:
    check_graphql_version(item)
