"""The one exception a scenario raises to end with a clear message (reported as that server's error)."""


class ScenarioError(Exception):
    """The server under test did something that makes the scenario's numbers meaningless; the message says what."""
