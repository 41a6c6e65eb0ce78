"""The live dashboard: a Starlette app pushing the desk view by server-sent events."""
