"""Interactive Brokers: the TWS API wire protocol and the IB Gateway simulator (``ibsim``).

The adapter that trades through IB uses ``ib_async``; this package holds what we own: the
text protocol's framing and messages (as the simulator speaks them) and the simulator itself.
"""
