"""Tests of the defences against other sites, hostile documents and greedy clients."""
