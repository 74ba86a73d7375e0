"""From a GraphQL result to data or a ClientError whose message stands for all the errors."""

import pytest

from livegql.client import ClientError
from livegql.client.results import data_of, graphql_error


def test_data_of_a_result_without_errors() -> None:
    assert data_of({"data": {"a": 1}}) == {"a": 1}
    assert data_of({"data": None}) == {}


def test_any_error_raises_even_beside_partial_data() -> None:
    errors = [{"message": "first", "path": ["a"]}, {"message": "second"}, {"message": "third"}]
    with pytest.raises(ClientError, match=r"^first \(and 2 more errors\)$") as raised:
        data_of({"data": {"a": None}, "errors": errors})
    assert raised.value.errors == errors


def test_messages_for_one_two_and_odd_errors() -> None:
    assert str(graphql_error([{"message": "only"}])) == "only"
    assert str(graphql_error([{"message": "one"}, {"message": "two"}])) == "one (and 1 more error)"
    assert str(graphql_error([{"message": ""}])) == "GraphQL error"
