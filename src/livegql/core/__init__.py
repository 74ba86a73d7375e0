"""Core: errors, configuration, shared types and the one JSON codec; depends on nothing else in livegql."""
