"""The load generator: a separate process (`python -m bench.load`) that drives one server and prints JSON."""
