"""The strategies quantrail ships: ``breakout``, ``meanrevert`` and ``scripted``."""
