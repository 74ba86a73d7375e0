"""The public API is exactly what __all__ says; growing or shrinking it is a deliberate act."""

import livegql


def test_public_names() -> None:
    assert sorted(livegql.__all__) == sorted(
        [
            "Admission",
            "ClientError",
            "ConfigurationError",
            "ConnectionRejectedError",
            "LiveGQL",
            "LiveGQLError",
            "PubSub",
            "Settings",
            "SlowConsumerError",
            "__version__",
            "add_resource_keys",
        ]
    )
    for name in livegql.__all__:
        assert hasattr(livegql, name)
