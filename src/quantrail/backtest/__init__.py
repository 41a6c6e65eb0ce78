"""Backtests: the live chain on the memory bus and a simulated clock over history."""
