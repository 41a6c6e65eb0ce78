"""The shared test kit: builders and fixtures helpers used across the suite (no mocks)."""
