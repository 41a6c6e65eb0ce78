"""Scenario files: a market situation in, the risk kernel's decision out, checked."""
