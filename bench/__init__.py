"""Benchmarks: livegql against Strawberry, Ariadne and the Node.js graphql-ws reference, measured in one run."""
