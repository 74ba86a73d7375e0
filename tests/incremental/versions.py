"""Tests that depend on the installed graphql-core: `gql33` ones need incremental delivery (3.3 and later),
`gql32` ones check what 3.2 does instead. CI runs both venvs, and sets LIVEGQL_EXPECT_GQL33=1 in the 3.3 one,
where a `gql33` test that would skip fails instead: the delivery tests cannot silently stop running."""

import os

import pytest

from livegql.engine.graphql_compat import INCREMENTAL_DELIVERY

EXPECT_ENV = "LIVEGQL_EXPECT_GQL33"


def check_graphql_version(item: pytest.Item) -> None:
    """Skip (or fail) `item` when its marker asks for another graphql-core than the installed one."""
    if item.get_closest_marker("gql33") is not None and not INCREMENTAL_DELIVERY:
        if os.environ.get(EXPECT_ENV) == "1":
            pytest.fail(f"graphql-core >= 3.3 is not installed, and {EXPECT_ENV}=1 expects it")
        pytest.skip("needs graphql-core >= 3.3 (incremental delivery)")
    if item.get_closest_marker("gql32") is not None and INCREMENTAL_DELIVERY:
        pytest.skip("checks graphql-core 3.2, which cannot deliver incrementally")
